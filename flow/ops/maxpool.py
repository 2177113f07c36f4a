"""Max-pool on an NHWC binary stream: the max of bits (or of -1/+1) is an OR over the window."""
import numpy as np

from flow.ops.hw import ChannelFoldedOp, Stream, memory_cost, window_dims


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


class BinaryMaxPool(ChannelFoldedOp):
    """Window max over an NHWC stream of binary values."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # window (kh, kw)
            "kernel": ("ints", True, []),
            # stride (sh, sw)
            "stride": ("ints", True, []),
            # channels processed per cycle; divides the channels
            "PE": ("i", False, 1),
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
        pe = self.get_nodeattr("PE")
        # one row of partial ORs (W/kw pooled pixels x C bits)
        luts, brams = memory_cost((width // kw) * channels // pe, pe)
        return {"luts": luts + 40 + pe * 2, "ffs": 30 + 2 * pe, "brams18": brams}

    # ---- streams and code generation (RTL and HLS)

    def in_stream(self):
        height, width, channels = self.get_nodeattr("in_shape")
        return Stream(self.get_nodeattr("PE"), 1, height * width * channels // self.get_nodeattr("PE"))

    def out_stream(self):
        oh, ow, channels = self.get_nodeattr("out_shape")
        return Stream(self.get_nodeattr("PE"), 1, oh * ow * channels // self.get_nodeattr("PE"))

    def core(self, model):
        height, width, channels = self.get_nodeattr("in_shape")
        (kh, kw), (sh, sw) = self.get_nodeattr("kernel"), self.get_nodeattr("stride")
        return "binary_maxpool", dict(IFM_H=height, IFM_W=width, C=channels, KH=kh, KW=kw, STRIDE_H=sh,
                                      STRIDE_W=sw, PE=self.get_nodeattr("PE")), {}
