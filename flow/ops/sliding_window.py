"""Sliding window generator: im2col on an NHWC stream (FINN's ConvolutionInputGenerator).

``out[n, oh, ow, (i*kw + j)*C + c] = padded[n, oh*sh + i, ow*sw + j, c]`` where
``padded`` surrounds the input with pixels of ``pad_values``: channel ``c`` is
padded with ``pad_values[c]`` (-1 on bipolar streams, bit 0 or 1 on binary
streams; per channel when the next layer absorbed complemented channels). The
window is emitted ``SIMD`` channels per cycle, or whole (``SIMD = kh*kw*C``,
parallel-window mode) one window per cycle.
"""
import math

import numpy as np

from signflow.graph import node_attr
from signflow.ops.hw import HWOp, Memory, Stream, divisors, memory_cost, window_dims
from signflow.packing import pack_words


def sliding_window(x, kernel, stride, pads, pad_values):
    """Golden model: ``[N, H, W, C] -> [N, OH, OW, kh*kw*C]``; ``pad_values``: one per channel, or a scalar."""
    (kh, kw), (sh, sw) = kernel, stride
    top, left, bottom, right = pads
    n, height, width, channels = x.shape
    padded = np.empty((n, height + top + bottom, width + left + right, channels), dtype=x.dtype)
    padded[...] = np.asarray(pad_values)  # broadcast over the channels
    padded[:, top:top + height, left:left + width, :] = x
    x = padded
    n, height, width, channels = x.shape
    oh, ow = window_dims(height, width, kernel, stride)
    out = np.empty((n, oh, ow, kh, kw, channels), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, :, i, j, :] = x[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
    return out.reshape(n, oh, ow, kh * kw * channels)


class SlidingWindow(HWOp):
    """im2col on a stream; attributes set by ``lower``, folding by ``fold``."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # window (kh, kw)
            "kernel": ("ints", True, []),
            # stride (sh, sw)
            "stride": ("ints", False, [1, 1]),
            # padding (top, left, bottom, right) in pixels
            "pads": ("ints", False, [0, 0, 0, 0]),
            # value of padded pixels per input channel, in the stream's encoding (bits on binary streams, two's
            # complement integers on integer ones); a uniform pad is one value C times. Empty without padding
            "pad_values": ("floats", False, []),
            # channels emitted per cycle; divides the input channels
            "SIMD": ("i", False, 1),
            # bits per stream element (1 on binary streams)
            "bits": ("i", False, 1),
            # qonnx datatype of the stream
            "out_dtype": ("s", False, "FLOAT32"),
        }

    def output_shape(self, model):
        n, height, width, channels = model.get_tensor_shape(self.onnx_node.input[0])
        kh, kw = self.get_nodeattr("kernel")
        dims = window_dims(height, width, (kh, kw), self.get_nodeattr("stride"), self.get_nodeattr("pads"))
        return [n, *dims, kh * kw * channels]

    def execute_node(self, context, graph):
        node = self.onnx_node
        x = context[node.input[0]]
        context[node.output[0]] = sliding_window(
            x, self.get_nodeattr("kernel"), self.get_nodeattr("stride"), self.get_nodeattr("pads"),
            self.pad_values(x.shape[-1])).astype(np.float32)

    def pad_values(self, channels):
        """The pad value of each of the ``channels`` input channels (zeros when nothing is padded)."""
        values = self.get_nodeattr("pad_values") or self._saved_pad_value(channels)
        if not any(self.get_nodeattr("pads")) and not values:
            return np.zeros(channels)
        if len(values) != channels:
            raise ValueError(f"{self.onnx_node.name}: {len(values)} pad_values for {channels} channels")
        return np.asarray(values)

    def _saved_pad_value(self, channels):
        """Graphs saved before per-channel padding hold one scalar ``pad_value``: it pads every channel."""
        saved = node_attr(self.onnx_node, "pad_value", None)
        return [] if saved is None else [saved] * channels

    def pad_patterns(self):
        """The pad values as ``bits``-bit patterns (two's complement), one per input channel."""
        bits = self.get_nodeattr("bits")
        return [int(v) & ((1 << bits) - 1) for v in self.pad_values(self.get_nodeattr("in_shape")[2])]

    def per_channel_pads(self):
        """Whether the pad values differ between channels (else one constant pads them all)."""
        return len(set(self.pad_patterns())) > 1

    # ---- folding and estimates

    def folding(self):
        return {"SIMD": self.get_nodeattr("SIMD")}

    def folding_options(self):
        window = self.get_nodeattr("out_shape")[2]
        return [{"SIMD": d} for d in divisors(self.get_nodeattr("in_shape")[2])] + [{"SIMD": window}]

    def parallel_window(self):
        return self.get_nodeattr("SIMD") == self.get_nodeattr("out_shape")[2]

    def expected_cycles(self):
        height, width, channels = self.get_nodeattr("in_shape")
        oh, ow, window = self.get_nodeattr("out_shape")
        if self.parallel_window():  # one input pixel in, one window out per cycle
            return max(height * width, oh * ow)
        return max(height * width * channels, oh * ow * window) // self.get_nodeattr("SIMD")

    def resources(self):
        height, width, channels = self.get_nodeattr("in_shape")
        kh, kw = self.get_nodeattr("kernel")
        simd, bits = self.get_nodeattr("SIMD"), self.get_nodeattr("bits")
        # the RTL buffers kh + 1 input rows (kh + stride - 1 for strides of 3 and more), SIMD elements per word
        rows = kh + max(1, self.get_nodeattr("stride")[0] - 1)
        luts, brams = memory_cost(rows * width * channels // simd, simd * bits)
        luts += 120 + 2 * simd * bits + 10 * math.ceil(math.log2(kh * kw * channels + 1))
        ffs = 80 + 2 * simd * bits
        if self.parallel_window():  # the window lives in registers; rows come from the buffer
            ffs += kh * kw * channels * bits
        elif self.per_channel_pads():  # a ROM of the C/SIMD pad words (parallel window: one constant pixel)
            luts += memory_cost(channels // simd, simd * bits)[0]
        return {"luts": luts, "ffs": ffs, "brams18": brams}

    # ---- streams and code generation (RTL and HLS)

    def in_stream(self):
        height, width, channels = self.get_nodeattr("in_shape")
        lanes = channels if self.parallel_window() else self.get_nodeattr("SIMD")
        return Stream(lanes, self.get_nodeattr("bits"), height * width * channels // lanes)

    def out_stream(self):
        oh, ow, window = self.get_nodeattr("out_shape")
        simd = self.get_nodeattr("SIMD")
        return Stream(simd, self.get_nodeattr("bits"), oh * ow * window // simd)

    def core(self, model):
        height, width, channels = self.get_nodeattr("in_shape")
        (kh, kw), (sh, sw) = self.get_nodeattr("kernel"), self.get_nodeattr("stride")
        top, left, bottom, right = self.get_nodeattr("pads")
        bits, lanes = self.get_nodeattr("bits"), self.in_stream().lanes
        patterns, per_channel = self.pad_patterns(), self.per_channel_pads()
        # a uniform pad is one constant (PAD_VALUE); per-channel pads a word per input beat of the pixel
        words = pack_words(patterns, lanes, bits) if per_channel else [0] * (channels // lanes)
        return "sliding_window", dict(IFM_H=height, IFM_W=width, C=channels, KH=kh, KW=kw, STRIDE_H=sh,
                                      STRIDE_W=sw, PAD_TOP=top, PAD_LEFT=left, PAD_BOTTOM=bottom,
                                      PAD_RIGHT=right, BITS=bits, SIMD=self.get_nodeattr("SIMD"),
                                      PAD_VALUE=0 if per_channel else patterns[0],
                                      PAD_PER_CHANNEL=int(per_channel)), \
            {"PAD_VALUES_FILE": Memory(words, lanes * bits, used=per_channel)}
