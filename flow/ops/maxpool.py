"""Max-pool on an NHWC stream (FINN's StreamingMaxPool), of bits or of signed integers.

On binary streams the max (of bits, or of -1/+1) is an OR over the window; integer streams (``bits > 1``,
two's complement) carry e.g. accumulators that DySign thresholds after the pool in DeSign's published order.
"""
import numpy as np

from signflow.ops.hw import ChannelFoldedOp, Stream, memory_cost, window_dims


def maxpool_nhwc(x, kernel, stride):
    """Golden model: ``[N, H, W, C] -> [N, OH, OW, C]``, floor mode, no padding."""
    (kh, kw), (sh, sw) = kernel, stride
    n, height, width, channels = x.shape
    oh, ow = window_dims(height, width, kernel, stride)
    out = x[:, 0:sh * oh:sh, 0:sw * ow:sw, :]
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, x[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :])
    return out


class StreamingMaxPool(ChannelFoldedOp):
    """Window max over an NHWC stream of bits or signed integers."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # window (kh, kw)
            "kernel": ("ints", True, []),
            # stride (sh, sw)
            "stride": ("ints", True, []),
            # channels processed per cycle; divides the channels
            "PE": ("i", False, 1),
            # bits per stream element: 1 for a stream of bits (max = OR), > 1 for signed integers
            "bits": ("i", False, 1),
            # qonnx datatype of the stream
            "out_dtype": ("s", False, "BIPOLAR"),
        }

    def output_shape(self, model):
        n, height, width, channels = model.get_tensor_shape(self.onnx_node.input[0])
        return [n, *window_dims(height, width, self.get_nodeattr("kernel"), self.get_nodeattr("stride")), channels]

    def execute_node(self, context, graph):
        node = self.onnx_node
        context[node.output[0]] = maxpool_nhwc(context[node.input[0]], self.get_nodeattr("kernel"),
                                               self.get_nodeattr("stride")).astype(np.float32)

    # ---- folding and estimates

    def expected_cycles(self):
        height, width, channels = self.get_nodeattr("in_shape")
        return height * width * channels // self.get_nodeattr("PE")

    def resources(self):
        height, width, channels = self.get_nodeattr("in_shape")
        kh, kw = self.get_nodeattr("kernel")
        pe, bits = self.get_nodeattr("PE"), self.get_nodeattr("bits")
        # one row of partial maxima (W/kw pooled pixels x C elements)
        luts, brams = memory_cost((width // kw) * channels // pe, pe * bits)
        # a lane-wise max per lane in each of the two stages: an OR of bits, or a comparator and a select of
        # integers (with the wider read paths, about 6 LUTs a bit under Yosys synth_xilinx); output register
        # and the horizontal partial maxima
        lanes = pe * (2 if bits == 1 else 6 * bits)
        return {"luts": luts + 40 + lanes, "ffs": 30 + 2 * pe * bits, "brams18": brams}

    # ---- streams and code generation (RTL and HLS)

    def in_stream(self):
        height, width, channels = self.get_nodeattr("in_shape")
        pe = self.get_nodeattr("PE")
        return Stream(pe, self.get_nodeattr("bits"), height * width * channels // pe)

    def out_stream(self):
        oh, ow, channels = self.get_nodeattr("out_shape")
        pe = self.get_nodeattr("PE")
        return Stream(pe, self.get_nodeattr("bits"), oh * ow * channels // pe)

    def core(self, model):
        height, width, channels = self.get_nodeattr("in_shape")
        (kh, kw), (sh, sw) = self.get_nodeattr("kernel"), self.get_nodeattr("stride")
        return "maxpool", dict(IFM_H=height, IFM_W=width, C=channels, KH=kh, KW=kw, STRIDE_H=sh, STRIDE_W=sw,
                               PE=self.get_nodeattr("PE"), BITS=self.get_nodeattr("bits")), {}
