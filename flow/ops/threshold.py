"""Per-channel x per-phase thresholding: the DeSign per-pixel streaming threshold unit.

``y[n, c, h, w] = +1 if acc[n, c, h, w] >= thr[c, (h mod kh) * kw + (w mod kw)] else -1``
(bipolar output; ``out_bits=1`` gives bits 1/0 instead). Plain sign and
BatchNorm fold to one phase (``kh = kw = 1``); DeSign to ``kh * kw`` phases in
the layer's own output coordinates. Thresholds arrive as the second input.

With a ``(ph, pw)`` pool after the unit (DeSign's ``conv -> max-pool -> BN -> DeSign -> sign``, thresholded
before an OR pool), the phase is the pooled pixel's: ``h // ph`` and ``w // pw`` replace ``h`` and ``w``.
"""
import math

import numpy as np

from signflow.ops.hw import ChannelFoldedOp, Memory, Stream, encode_bits, memory_cost
from signflow.packing import mvau_threshold_words


def phase_index(height, width, period, pool=(1, 1)):
    """``[H, W]`` map of the phase of each pixel for a ``(kh, kw)`` period: that of the pooled pixel
    ``(h // ph, w // pw)`` it falls in, for a ``(ph, pw)`` pool (``(1, 1)``: the pixel's own)."""
    (kh, kw), (ph, pw) = period, pool
    return ((np.arange(height)[:, None] // ph) % kh) * kw + ((np.arange(width)[None, :] // pw) % kw)


def pool_phase_cost(period, pool):
    """``(luts, ffs)`` a pool adds to the phase counter (hw_templates/rtl/pixel_phase.sv): a sub-counter per
    axis (``w mod pw``, ``h mod ph``), its compare and the phase's hold; none without phases or pool. Yosys
    ``synth_xilinx`` measures 2-4 FFs and 4-17 LUTs for periods 2x2 and 3x3 with pools 2x2 and 3x3."""
    if period[0] * period[1] == 1:
        return 0, 0
    bits = sum(math.ceil(math.log2(size)) for size in pool)
    return 4 * bits, bits


def per_pixel_thresholds(thr, height, width, period, layout, pool=(1, 1)):
    """The threshold of every pixel and channel: ``[C, H, W]`` (NCHW) or ``[H, W, C]`` (NHWC), contiguous."""
    per_pixel = thr[:, phase_index(height, width, period, pool)]
    return np.ascontiguousarray(per_pixel if layout == "NCHW" else np.moveaxis(per_pixel, 0, -1))


def threshold(acc, thr, period, layout="NCHW", pool=(1, 1)):
    """Golden model: compare ``acc`` with the phase thresholds; returns a boolean array.

    ``acc`` is ``[N, C, H, W]`` / ``[N, H, W, C]`` (by ``layout``) or ``[N, C]``; ``thr`` is ``[C, kh*kw]``;
    ``pool``: the phases follow pooled pixels (``phase_index``).
    """
    if acc.ndim == 2:  # fully connected: one phase
        return acc >= thr[None, :, 0]
    height, width = acc.shape[2:4] if layout == "NCHW" else acc.shape[1:3]
    return acc >= per_pixel_thresholds(thr, height, width, period, layout, pool)[None]


class PixelThreshold(ChannelFoldedOp):
    """Thresholds an integer accumulator per channel and per pixel phase."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # channels processed per cycle; divides the channels
            "PE": ("i", False, 1),
            # bits of the accumulator compared (for the estimate)
            "acc_bits": ("i", False, 16),
            # (kh, kw): the spatial period of the thresholds; (1, 1) for plain sign
            "period": ("ints", False, [1, 1]),
            # (ph, pw): the OR pool that follows; the phases advance per pooled pixel. (1, 1): no pool
            "pool": ("ints", False, [1, 1]),
            # tensor layout of the accumulator: NCHW (streamlined graph) or NHWC (HW graph)
            "data_layout": ("s", False, "NCHW", {"NCHW", "NHWC"}),
            # output encoding: 0 -> bipolar -1/+1, 1 -> bits 0/1
            "out_bits": ("i", False, 0, {0, 1}),
            # qonnx datatype of the output
            "out_dtype": ("s", False, "BIPOLAR"),
        }

    def output_shape(self, model):
        return model.get_tensor_shape(self.onnx_node.input[0])

    def execute_node(self, context, graph):
        node = self.onnx_node
        passed = threshold(context[node.input[0]], context[node.input[1]], self.get_nodeattr("period"),
                           self.get_nodeattr("data_layout"), self.get_nodeattr("pool"))
        context[node.output[0]] = encode_bits(passed, self.get_nodeattr("out_bits"))

    # ---- folding and estimates

    def expected_cycles(self):
        shape = self.get_nodeattr("in_shape")
        return int(np.prod(shape)) // self.get_nodeattr("PE")

    def resources(self):
        channels, pe, acc = self.get_nodeattr("in_shape")[-1], self.get_nodeattr("PE"), self.get_nodeattr("acc_bits")
        kh, kw = self.get_nodeattr("period")
        luts, brams = memory_cost(channels // pe * kh * kw, pe * acc)
        luts += 40 + pe * acc + (pe * math.ceil(math.log2(kh * kw)) * acc // 2 if kh * kw > 1 else 0)
        pool_luts, pool_ffs = pool_phase_cost((kh, kw), self.get_nodeattr("pool"))
        return {"luts": luts + pool_luts, "ffs": 30 + pe * (acc + 1) + pool_ffs, "brams18": brams}

    # ---- streams and code generation (RTL and HLS)

    def _pixels(self):
        shape = self.get_nodeattr("in_shape")
        return (shape[0], shape[1]) if len(shape) == 3 else (1, 1)

    def in_stream(self):
        h, w = self._pixels()
        channels, pe = self.get_nodeattr("in_shape")[-1], self.get_nodeattr("PE")
        return Stream(pe, self.get_nodeattr("acc_bits"), h * w * channels // pe)

    def out_stream(self):
        stream = self.in_stream()
        return Stream(stream.lanes, 1, stream.beats)

    def core(self, model):
        h, w = self._pixels()
        (kh, kw), (pool_h, pool_w) = self.get_nodeattr("period"), self.get_nodeattr("pool")
        pe, acc = self.get_nodeattr("PE"), self.get_nodeattr("acc_bits")
        thresholds = model.get_initializer(self.onnx_node.input[1]).astype(np.int64)
        return "pixel_threshold", dict(H=h, W=w, C=self.get_nodeattr("in_shape")[-1], PE=pe, ACC_BITS=acc,
                                       PERIOD_H=kh, PERIOD_W=kw, POOL_H=pool_h, POOL_W=pool_w), \
            {"THRESHOLDS_FILE": Memory(mvau_threshold_words(thresholds, pe, acc), pe * acc)}
