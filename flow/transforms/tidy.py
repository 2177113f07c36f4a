"""Tidy: qonnx cleanup, Gemm -> MatMul, and the supported-op check."""
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.cleanup import cleanup_model

from signflow.errors import UserError
from signflow.graph import node_label

#: ONNX / QONNX ops the front end understands (everything Brevitas exports for the zoo and bnn_pynq)
SUPPORTED_OPS = (
    "Add", "BatchNormalization", "BipolarQuant", "Cast", "Conv", "Div", "Flatten", "Gather", "Gemm", "MatMul",
    "MaxPool", "Mul", "Pad", "Quant", "ReduceSum", "Relu", "Reshape", "Round", "Sub", "Unsqueeze",
)


def check_supported(model, exclude=()):
    """One-line error naming the first node whose op type the flow cannot build (``exclude``: op types refused
    although listed, once the conversions that take them have run).

    Nodes computing only on constants (weight transposes and the like) are
    skipped: cleanup folds them away.
    """
    constant = {init.name for init in model.graph.initializer}
    for node in model.graph.node:
        if all(i in constant for i in node.input if i):
            constant.update(node.output)
            continue
        if node.op_type not in SUPPORTED_OPS or node.op_type in exclude:
            raise UserError(f"{node_label(node)} has op type '{node.op_type}', which signflow does not support; "
                            f"supported: {', '.join(SUPPORTED_OPS)}")


def tidy(model):
    check_supported(model)  # before cleanup renames the user's nodes
    model = cleanup_model(model)
    model = model.transform(GemmToMatMul())
    model = model.transform(InferShapes())
    model = model.transform(GiveUniqueNodeNames())
    check_supported(model, exclude=("Gemm",))  # a Gemm GemmToMatMul left (e.g. transA) cannot be built
    return model
