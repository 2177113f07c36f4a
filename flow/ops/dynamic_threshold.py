"""DySign's dynamic threshold unit, in integers.

Per frame and channel: the channel sum ``S`` of the integer accumulator goes
through the quantized MLP of docs/dysign.md, all in integers with power-of-two
rescaling (``shift_round``), giving a code ``u``; the code selects a column of
the integer threshold table, and ``direction[c] * acc >= thr[c, u - u_min]``.
Because ``S`` needs the whole frame, the hardware unit buffers one frame.
"""
import numpy as np

from signflow.ops.hw import ChannelFoldedOp, Memory, Stream, encode_bits, memory_cost, signed_width
from signflow.packing import dynamic_threshold_memories


def shift_round(x, shift):
    """``round(x * 2**shift)`` for integer ``x``, ties to even (as ONNX Round and torch.round)."""
    x = np.asarray(x, dtype=np.int64)
    if shift >= 0:
        return x << shift
    divisor = np.int64(1) << -shift
    quotient, rest = np.divmod(x, divisor)
    half = divisor // 2
    return quotient + (rest > half) + ((rest == half) & (quotient % 2 == 1))


def dynamic_codes(sums, w1, w2, p):
    """Integer MLP: channel sums ``[N, C]`` -> codes ``[N, C]`` in ``[0, u_max - u_min]``."""
    q = np.clip(shift_round(sums, p["stat_shift"]), p["q_min"], p["q_max"])
    hidden = np.maximum(q @ w1, 0)
    r = np.clip(shift_round(hidden, p["r_shift"]), p["r_min"], p["r_max"])
    u = np.clip(shift_round(r @ w2, p["u_shift"]), p["u_min"], p["u_max"])
    return u - p["u_min"]


def dynamic_threshold(acc, w1, w2, thr, direction, p, layout="NCHW"):
    """Golden model: boolean ``direction * acc >= thr[c, code]`` with codes from the frame's channel sums."""
    acc = np.asarray(acc).astype(np.int64)
    if layout == "NHWC":
        acc = np.moveaxis(acc, -1, 1)
    codes = dynamic_codes(acc.sum(axis=(2, 3)), w1.astype(np.int64), w2.astype(np.int64), p)
    channel = np.arange(acc.shape[1])[None, :]
    t = thr[channel, codes]  # N, C
    passed = direction[None, :, None, None] * acc >= t[:, :, None, None]
    return np.moveaxis(passed, 1, -1) if layout == "NHWC" else passed


PARAM_NAMES = ("stat_shift", "q_min", "q_max", "r_shift", "r_min", "r_max", "u_shift", "u_min", "u_max")


class DynamicThreshold(ChannelFoldedOp):
    """Inputs: accumulator, w1 [C, Ch], w2 [Ch, C], thr [C, codes], direction [C] (all integers)."""

    def get_nodeattr_types(self):
        attrs = {
            **self.HW_ATTRS,
            # channels processed per cycle; divides the channels
            "PE": ("i", False, 1),
            # bits of the signed accumulator (for the estimate)
            "acc_bits": ("i", False, 16),
            # hidden width of the MLP and the bit widths of q, r, u (for the estimate)
            "hidden": ("i", False, 1),
            # tensor layout of the accumulator
            "data_layout": ("s", False, "NCHW", {"NCHW", "NHWC"}),
            # output encoding: 0 -> bipolar -1/+1, 1 -> bits 0/1
            "out_bits": ("i", False, 0, {0, 1}),
            # qonnx datatype of the output
            "out_dtype": ("s", False, "BIPOLAR"),
        }
        # integer MLP: q = clip(round(S * 2^stat_shift)), r = clip(round(relu(q@w1) * 2^r_shift)),
        # u = clip(round(r@w2 * 2^u_shift)); each range [x_min, x_max]
        attrs.update({name: ("i", True, 0) for name in PARAM_NAMES})
        return attrs

    def params(self):
        return {name: self.get_nodeattr(name) for name in PARAM_NAMES}

    def output_shape(self, model):
        return model.get_tensor_shape(self.onnx_node.input[0])

    def execute_node(self, context, graph):
        node = self.onnx_node
        acc, w1, w2, thr, direction = (context[i] for i in node.input)
        passed = dynamic_threshold(acc, w1, w2, thr.astype(np.int64), direction.astype(np.int64),
                                   self.params(), self.get_nodeattr("data_layout"))
        context[node.output[0]] = encode_bits(passed, self.get_nodeattr("out_bits"))

    def sum_bits(self):
        """Bits of the signed channel sum ``S`` (the cores' ``SUM_BITS``): ``H*W`` signed ``acc_bits`` accumulators
        sum to ``-H*W * 2^(acc_bits-1) .. H*W * (2^(acc_bits-1) - 1)``, held by ``acc_bits + clog2(H*W)`` bits, the
        least dynamic_threshold.sv and dynamic_threshold.hpp accept (the sum of a frame of the most negative
        accumulator needs all of them when ``H*W`` is a power of two)."""
        height, width, _ = self.get_nodeattr("in_shape")
        return self.get_nodeattr("acc_bits") + (height * width - 1).bit_length()

    # ---- folding and estimates

    def mlp_cycles(self):
        """The MLP runs once per frame: C x hidden multiply-adds twice, PE per cycle."""
        channels, hidden = self.get_nodeattr("in_shape")[-1], self.get_nodeattr("hidden")
        return 2 * channels * hidden // self.get_nodeattr("PE")

    def expected_cycles(self):
        # double-buffered frame: one frame streams in while the previous one is thresholded
        height, width, channels = self.get_nodeattr("in_shape")
        return max(height * width * channels // self.get_nodeattr("PE"), self.mlp_cycles())

    def resources(self):
        height, width, channels = self.get_nodeattr("in_shape")
        pe, acc = self.get_nodeattr("PE"), self.get_nodeattr("acc_bits")
        codes = self.get_nodeattr("u_max") - self.get_nodeattr("u_min") + 1
        sum_bits = self.sum_bits()
        frame_luts, frame_brams = memory_cost(2 * height * width * channels // pe, pe * acc)
        table_luts, table_brams = memory_cost(channels // pe * codes, pe * acc)
        luts = frame_luts + table_luts + 200 + pe * (sum_bits + 2 * acc) + 8 * 16  # sums, compare, MLP MAC
        ffs = 150 + pe * (sum_bits + acc) + channels * 8 + 2 * pe * 16  # the last: both MACs' product registers
        return {"luts": luts, "ffs": ffs, "brams18": frame_brams + table_brams}

    # ---- streams and code generation (RTL and HLS)

    def in_stream(self):
        height, width, channels = self.get_nodeattr("in_shape")
        pe = self.get_nodeattr("PE")
        return Stream(pe, self.get_nodeattr("acc_bits"), height * width * channels // pe)

    def out_stream(self):
        stream = self.in_stream()
        return Stream(stream.lanes, 1, stream.beats)

    def core(self, model):
        node = self.onnx_node
        height, width, channels = self.get_nodeattr("in_shape")
        pe, acc = self.get_nodeattr("PE"), self.get_nodeattr("acc_bits")
        w1, w2, thr, direction = (model.get_initializer(name).astype(np.int64) for name in node.input[1:])
        w_bits = signed_width(min(w1.min(), w2.min()), max(w1.max(), w2.max()))
        params = {"H": height, "W": width, "C": channels, "PE": pe, "ACC_BITS": acc, "HID": w1.shape[1],
                  "W_BITS": w_bits, "SUM_BITS": self.sum_bits(),
                  **{name.upper(): self.get_nodeattr(name) for name in PARAM_NAMES}}
        memories = dynamic_threshold_memories(w1, w2, thr, direction, pe, w_bits, acc)
        return "dynamic_threshold", params, {f"{stem.upper()}_FILE": Memory(*memory) for stem, memory in memories.items()}
