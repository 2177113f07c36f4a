"""Shared base for signflow's qonnx CustomOps (domain ``signflow.ops``, the module qonnx imports them from)."""
from onnx import helper
from qonnx.custom_op.base import CustomOp

DOMAIN = "signflow.ops"
#: domains of graphs saved by earlier versions, read as DOMAIN (flow.graph.load_graph)
OLD_DOMAINS = ("flow.ops",)


class SignflowOp(CustomOp):
    """A CustomOp whose output shape is computed by ``output_shape`` and whose datatype is an attribute."""

    def output_shape(self, model):
        """Output shape, from the input shapes and attributes."""
        return model.get_tensor_shape(self.onnx_node.input[0])

    def make_shape_compatible_op(self, model):
        return self.make_const_shape_op(self.output_shape(model))

    def infer_node_datatype(self, model):
        from qonnx.core.datatype import DataType

        model.set_tensor_datatype(self.onnx_node.output[0], DataType[self.get_nodeattr("out_dtype")])

    def verify_node(self):
        return []


def make_node(op_type, inputs, outputs, name, **attrs):
    """An ONNX node of a signflow op."""
    return helper.make_node(op_type, inputs, outputs, name=name, domain=DOMAIN, **attrs)
