"""XNOR-popcount matrix-vector unit (MVAU), folded PE x SIMD, with embedded phase thresholds.

For each output pixel and each of ``MH`` output channels, over ``MW`` inputs:
- ``binary`` input (bits): ``p = popcount(xnor(x, w))``; ``acc = 2p - MW`` is the bipolar dot product;
- ``int`` input (signed integers, first layer): ``acc = sum x * (2w - 1)``.
Output ``threshold``: bit ``p >= thr[c, phase]`` (binary) / ``acc >= thr[c, phase]`` (int), with
``phase = (oh mod kh) * kw + (ow mod kw)`` following the output pixel (DeSign), or with a ``pool``
``(ph, pw)`` the pooled pixel ``(oh // ph, ow // pw)`` (thresholds before an OR pool);
output ``acc``: the integer accumulator (last layer, or before a DySign unit).
Weights are bits, ``w[k, c]``; ``PE`` channels x ``SIMD`` inputs per cycle.
"""
import math

import numpy as np

from signflow.ops.hw import HWOp, Memory, Stream, divisors, in_block_ram, memory_cost, signed_width
from signflow.ops.threshold import pool_phase_cost, threshold
from signflow.packing import mvau_threshold_words, mvau_weight_words


def mvau_dot(x, weights, input_mode):
    """Integer dot products ``[N, ..., MH]``: bipolar (``2 * popcount(xnor) - MW``) or integer input."""
    # float32 sums of integers are exact below 2^24, far above any accumulator here, and BLAS is fast
    w = 2 * weights.astype(np.float32) - 1
    x = x.astype(np.float32)
    return (2 * x - 1) @ w if input_mode == "binary" else x @ w


def dot_thresholds(thresholds, input_mode, mw):
    """Thresholds on the dot product: binary-mode thresholds count xnor matches, ``(dot + MW) / 2``."""
    return 2 * thresholds - mw if input_mode == "binary" else thresholds


def mvau_output(dot, thresholds, p, mw):
    """From dot products to the unit's output: the accumulator, or threshold bits."""
    if p["output_mode"] == "acc":
        return dot
    layout = "NHWC" if dot.ndim == 4 else "NC"
    return threshold(dot, dot_thresholds(thresholds, p["input_mode"], mw), p["period"], layout,
                     p["pool"]).astype(np.float32)


def mvau(x, weights, thresholds, p):
    """Golden model. ``x`` ``[N, MW]`` or ``[N, OH, OW, MW]``, ``weights`` bits ``[MW, MH]``, ``thresholds`` ``[MH, P]``."""
    return mvau_output(mvau_dot(x, weights, p["input_mode"]), thresholds, p, weights.shape[0])


class MVAU(HWOp):
    """Inputs: activations, weight bits ``[MW, MH]``, and in threshold mode thresholds ``[MH, P]``."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # input length per output (fan-in): kh*kw*C for convolutions
            "MW": ("i", True, 0),
            # output channels
            "MH": ("i", True, 0),
            # output channels computed in parallel; divides MH
            "PE": ("i", False, 1),
            # inputs consumed per cycle and PE; divides MW (and C for convolutions)
            "SIMD": ("i", False, 1),
            # "binary": XNOR-popcount on bits; "int": signed integer input x binary weights
            "input_mode": ("s", False, "binary", {"binary", "int"}),
            # bit width of the signed input in int mode
            "in_bits": ("i", False, 1),
            # "threshold": output bits; "acc": output the integer accumulator
            "output_mode": ("s", False, "threshold", {"threshold", "acc"}),
            # threshold period (kh, kw) over output pixels; (1, 1) unless DeSign
            "period": ("ints", False, [1, 1]),
            # (ph, pw) of the OR pool after the unit: the phase advances per pooled pixel; (1, 1): no pool
            "pool": ("ints", False, [1, 1]),
            # input channels of the sliding window feeding this layer (0: fully connected)
            "channels": ("i", False, 0),
            # qonnx datatype of the output
            "out_dtype": ("s", False, "BINARY"),
        }

    def params(self):
        return {k: self.get_nodeattr(k) for k in ("input_mode", "output_mode", "period", "pool")}

    def execute_node(self, context, graph):
        node = self.onnx_node
        thresholds = context[node.input[2]] if len(node.input) > 2 else None
        out = mvau(context[node.input[0]], context[node.input[1]], thresholds, self.params())
        context[node.output[0]] = out.astype(np.float32)

    # ---- folding and estimates

    def folding(self):
        return {"PE": self.get_nodeattr("PE"), "SIMD": self.get_nodeattr("SIMD")}

    def folding_options(self):
        # a sliding window emits SIMD channels of one pixel per cycle (SIMD divides them) or a whole window
        mw, channels = self.get_nodeattr("MW"), self.get_nodeattr("channels")
        simds = sorted(set(divisors(channels)) | {mw}) if channels else divisors(mw)
        return [{"PE": pe, "SIMD": simd} for pe in divisors(self.get_nodeattr("MH")) for simd in simds]

    def expected_cycles(self):
        mw, mh = self.get_nodeattr("MW"), self.get_nodeattr("MH")
        return (mh // self.get_nodeattr("PE")) * (mw // self.get_nodeattr("SIMD")) * self.pixels()

    def accumulator_bits(self):
        """Bits of the accumulator register, as mvau.sv's NEED: ``clog2(MW + 1)`` of popcount in binary mode,
        ``clog2(MW) + in_bits + 1`` of signed sum in int mode; the thresholds and the accumulator stream are
        ``acc_width`` bits."""
        mw = self.get_nodeattr("MW")
        if self.get_nodeattr("input_mode") == "binary":
            return mw.bit_length()  # clog2(mw + 1)
        return (mw - 1).bit_length() + self.get_nodeattr("in_bits") + 1

    def phases(self):
        kh, kw = self.get_nodeattr("period")
        return kh * kw

    def resources(self):
        pe, simd = self.get_nodeattr("PE"), self.get_nodeattr("SIMD")
        mw, mh, acc = self.get_nodeattr("MW"), self.get_nodeattr("MH"), self.accumulator_bits()
        if self.get_nodeattr("input_mode") == "binary":
            compute = pe * (simd + acc + math.ceil(simd / 3) * 2)  # XNOR, accumulator, popcount compressors
        else:
            compute = pe * (simd * (self.get_nodeattr("in_bits") + 1) + acc)  # add/sub tree
        # registered adder tree (~4 bits per input in binary mode, ~2*(in_bits+2) for integers), accumulator,
        # threshold and output registers per PE, plus the input register
        tree = 4 * simd if self.get_nodeattr("input_mode") == "binary" else 2 * simd * (self.get_nodeattr("in_bits") + 2)
        luts, ffs = compute + 60, pe * (tree + 3 * acc) + simd * self.get_nodeattr("in_bits") + 60
        w_luts, w_brams = memory_cost((mw // simd) * (mh // pe), pe * simd)
        luts, brams = luts + w_luts, w_brams
        if w_brams:  # mvau.sv's WREG: the weight and input words registered once more behind a block RAM
            ffs += pe * simd + simd * self.get_nodeattr("in_bits") + 3
        if self.get_nodeattr("output_mode") == "threshold":
            phases = self.phases()
            # one comparator per PE; the threshold of the current phase is read from a table
            luts += pe * acc + (pe * math.ceil(math.log2(phases)) * acc // 2 if phases > 1 else 0)
            t_luts, t_brams = memory_cost((mh // pe) * phases, pe * self.acc_width())
            luts, brams = luts + t_luts, brams + t_brams
            ffs += pe + (8 if phases > 1 else 0)  # output bits, phase counter
            pool_luts, pool_ffs = pool_phase_cost(self.get_nodeattr("period"), self.get_nodeattr("pool"))
            luts, ffs = luts + pool_luts, ffs + pool_ffs
        return {"luts": luts, "ffs": ffs, "brams18": brams}

    # ---- streams and code generation (RTL and HLS)

    def acc_width(self):
        """Signed width of the accumulator stream and the threshold table (thresholds reach max + 1)."""
        mw = self.get_nodeattr("MW")
        peak = mw if self.get_nodeattr("input_mode") == "binary" else mw * 2 ** (self.get_nodeattr("in_bits") - 1)
        return signed_width(-peak, peak + 1)

    def in_stream(self):
        simd = self.get_nodeattr("SIMD")
        return Stream(simd, self.get_nodeattr("in_bits"), self.pixels() * self.get_nodeattr("MW") // simd)

    def out_stream(self):
        pe = self.get_nodeattr("PE")
        bits = 1 if self.get_nodeattr("output_mode") == "threshold" else self.acc_width()
        return Stream(pe, bits, self.pixels() * self.get_nodeattr("MH") // pe)

    def core(self, model):
        node = self.onnx_node
        pe, simd = self.get_nodeattr("PE"), self.get_nodeattr("SIMD")
        out_h, out_w = (self.get_nodeattr("out_shape")[:2] if len(self.get_nodeattr("out_shape")) == 3 else (1, 1))
        kh, kw = self.get_nodeattr("period")
        pool_h, pool_w = self.get_nodeattr("pool")
        params = dict(MW=self.get_nodeattr("MW"), MH=self.get_nodeattr("MH"), PE=pe, SIMD=simd,
                      INPUT_MODE=int(self.get_nodeattr("input_mode") == "int"), IN_BITS=self.get_nodeattr("in_bits"),
                      OUTPUT_MODE=int(self.get_nodeattr("output_mode") == "acc"), ACC_BITS=self.acc_width(),
                      OUT_H=out_h, OUT_W=out_w, PERIOD_H=kh, PERIOD_W=kw, POOL_H=pool_h, POOL_W=pool_w)
        weights = model.get_initializer(node.input[1]).astype(np.int64)
        memories = {"WEIGHTS_FILE": Memory(mvau_weight_words(weights, pe, simd), pe * simd, pe)}
        if self.get_nodeattr("output_mode") == "threshold":
            thresholds = model.get_initializer(node.input[2]).astype(np.int64)
            memories["THRESHOLDS_FILE"] = Memory(mvau_threshold_words(thresholds, pe, self.acc_width()),
                                                 pe * self.acc_width(), pe)
        else:
            nf = self.get_nodeattr("MH") // pe  # unused in accumulator mode
            memories["THRESHOLDS_FILE"] = Memory([0] * (nf * kh * kw), pe * self.acc_width(), pe, used=False)
        for name, memory in memories.items():  # synthesis maps each memory where resources() counts it
            params[name.replace("_FILE", "_BLOCK")] = int(memory.used and in_block_ram(len(memory.words), memory.width))
        return "mvau", params, memories
