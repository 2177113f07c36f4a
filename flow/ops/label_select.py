"""Label select: the index of the largest integer score of a frame (ties: the lowest index, as argmax)."""
import math

import numpy as np

from signflow.ops.hw import HWOp, Stream, divisors


class LabelSelect(HWOp):
    """Input: ``NUM`` signed scores, ``PE`` per beat; output: one beat per frame holding the index."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # scores per frame (classes)
            "NUM": ("i", True, 0),
            # scores read per cycle; divides NUM
            "PE": ("i", False, 1),
            # bits of a signed score on the input stream
            "BITS": ("i", True, 0),
            # qonnx datatype of the output
            "out_dtype": ("s", False, "UINT32"),
        }

    def output_shape(self, model):
        return [model.get_tensor_shape(self.onnx_node.input[0])[0], 1]

    def execute_node(self, context, graph):
        scores = context[self.onnx_node.input[0]]
        context[self.onnx_node.output[0]] = np.argmax(scores, axis=-1).reshape(-1, 1).astype(np.float32)

    # ---- folding, estimates, RTL

    def folding(self):
        return {"PE": self.get_nodeattr("PE")}

    def folding_options(self):
        return [{"PE": d} for d in divisors(self.get_nodeattr("NUM"))]

    def expected_cycles(self):
        return self.get_nodeattr("NUM") // self.get_nodeattr("PE")

    def resources(self):
        pe, bits = self.get_nodeattr("PE"), self.get_nodeattr("BITS")
        index = max(1, math.ceil(math.log2(self.get_nodeattr("NUM"))))
        return {"luts": 30 + pe * (bits + index), "ffs": 20 + bits + 3 * index, "brams18": 0}

    def in_stream(self):
        pe = self.get_nodeattr("PE")
        return Stream(pe, self.get_nodeattr("BITS"), self.get_nodeattr("NUM") // pe)

    def out_stream(self):
        return Stream(1, max(1, math.ceil(math.log2(self.get_nodeattr("NUM")))), 1, signed=False)

    def core(self, model):
        return "label_select", dict(NUM=self.get_nodeattr("NUM"), PE=self.get_nodeattr("PE"),
                                    BITS=self.get_nodeattr("BITS")), {}
