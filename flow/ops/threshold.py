"""Per-channel x per-phase thresholding: the DeSign per-pixel streaming threshold unit.

``y[n, c, h, w] = +1 if acc[n, c, h, w] >= thr[c, (h mod kh) * kw + (w mod kw)] else -1``
(bipolar output; ``out_bits=1`` gives bits 1/0 instead). Plain sign and
BatchNorm fold to one phase (``kh = kw = 1``); DeSign to ``kh * kw`` phases in
the layer's own output coordinates. Thresholds arrive as the second input.
"""
import numpy as np

from flow.ops.base import SignflowOp


def phase_index(height, width, period):
    """``[H, W]`` map of the phase of each pixel for a ``(kh, kw)`` period."""
    kh, kw = period
    return (np.arange(height)[:, None] % kh) * kw + (np.arange(width)[None, :] % kw)


def threshold(acc, thr, period, layout="NCHW"):
    """Golden model: compare ``acc`` with the phase thresholds; returns a boolean array.

    ``acc`` is ``[N, C, H, W]`` / ``[N, H, W, C]`` (by ``layout``) or ``[N, C]``; ``thr`` is ``[C, kh*kw]``.
    """
    if acc.ndim == 2:
        return acc >= thr[None, :, 0]
    if layout == "NCHW":
        _, _, height, width = acc.shape
        per_pixel = thr[:, phase_index(height, width, period)]  # C,H,W
        return acc >= per_pixel[None]
    _, height, width, _ = acc.shape
    per_pixel = np.moveaxis(thr[:, phase_index(height, width, period)], 0, -1)  # H,W,C
    return acc >= per_pixel[None]


class PixelThreshold(SignflowOp):
    """Thresholds an integer accumulator per channel and per pixel phase."""

    def get_nodeattr_types(self):
        return {
            # (kh, kw): the spatial period of the thresholds; (1, 1) for plain sign
            "period": ("ints", False, [1, 1]),
            # tensor layout of the accumulator: NCHW (streamlined graph) or NHWC (HW graph)
            "data_layout": ("s", False, "NCHW", {"NCHW", "NHWC"}),
            # output encoding: 0 -> bipolar -1/+1, 1 -> bits 0/1
            "out_bits": ("i", False, 0, {0, 1}),
            # qonnx datatype of the output
            "out_dtype": ("s", False, "BIPOLAR"),
        }

    def execute_node(self, context, graph):
        node = self.onnx_node
        passed = threshold(context[node.input[0]], context[node.input[1]],
                           self.get_nodeattr("period"), self.get_nodeattr("data_layout"))
        low = 0.0 if self.get_nodeattr("out_bits") else -1.0
        context[node.output[0]] = np.where(passed, 1.0, low).astype(np.float32)
