"""flow/transforms/tidy.py: qonnx cleanup (constants folded, shapes inferred, names given), Gemm -> MatMul, and the
supported-op check that names the user's node before cleanup renames it."""
import numpy as np

from signflow.transforms.tidy import SUPPORTED_OPS, check_supported, tidy
from tests.flow.transforms.builders import Graph, assert_same_outputs, binary_weights, inputs, op_types, refusal

SUPPORTED_LIST = ("Add, BatchNormalization, BipolarQuant, Cast, Conv, Div, Flatten, Gather, Gemm, MatMul, MaxPool, Mul, Pad, "
                  "Quant, ReduceSum, Relu, Reshape, Round, Sub, Unsqueeze")


def test_supported_ops_are_what_brevitas_exports():
    assert ", ".join(SUPPORTED_OPS) == SUPPORTED_LIST


def _messy(extra=None):
    """A quantized conv whose weights are stored transposed (a Transpose and a Mul on constants), then a sign and
    an FC; nodes without names, as some exporters write them."""
    rng = np.random.default_rng(0)
    g = Graph([1, 2, 6, 6])
    x = g.quant(g.input, 2.0 ** -3, bits=8, name="")
    stored = g.const(rng.normal(size=(3, 3, 2, 4)).astype(np.float32), "w_stored")  # kh, kw, Cin, Cout
    w = g.node("Transpose", [stored], name="", perm=[3, 2, 0, 1])
    w = g.node("Sigmoid", [w], name="const_sigmoid")  # an unsupported op, but on constants only: folded
    w = g.node("Sub", [w, np.float32(0.5)], name="")
    acc = g.node("Conv", [x, g.sign(w, name="")], name="", kernel_shape=[3, 3])
    y = g.sign(g.bn(acc, [1, -1, 0.5, 0], [0.1, 0.2, 0.3, -0.1], [0, 1, 0, 0], [1, 1, 2, 1], name=""), name="")
    if extra is not None:
        y = extra(g, y)
    return g.model(g.matmul(g.flatten(y, name=""), binary_weights(rng, 64, 3), name=""))


def test_tidy_folds_constants_infers_shapes_and_names_nodes():
    before = _messy()
    after = tidy(before)
    assert op_types(after) == ["Quant", "BipolarQuant", "Conv", "BatchNormalization", "BipolarQuant", "Flatten",
                               "MatMul"]
    # the weight quantizer is kept for streamline (FoldWeightQuant); its input is the folded constant
    weight_sign = after.graph.node[1]
    folded = after.get_initializer(weight_sign.input[0])
    assert folded is not None and folded.shape == (4, 2, 3, 3)
    # unique names and a shape for every tensor
    names = [n.name for n in after.graph.node]
    assert len(set(names)) == len(names) and names[2] == "Conv_0" and all(names)
    tensors = {o for n in after.graph.node for o in n.output}
    assert all(after.get_tensor_shape(t) is not None for t in tensors)
    assert after.get_tensor_shape(after.graph.output[0].name) == [1, 3]
    assert_same_outputs(before, after, inputs(before, 8))


def test_an_unsupported_op_is_named_as_the_user_wrote_it():
    def softmax(g, y):
        return g.node("Softmax", [y], name="my_softmax", axis=1)

    model = _messy(softmax)
    expected = f"node 'my_softmax' has op type 'Softmax', which signflow does not support; supported: {SUPPORTED_LIST}"
    assert refusal(check_supported, model) == expected
    assert refusal(tidy, model) == expected  # before cleanup renames it Softmax_0


def test_an_unsupported_op_on_constants_is_not_refused():
    model = _messy()
    check_supported(model)  # the Sigmoid only reads constants (and what they compute)
    assert "Sigmoid" in op_types(model) and "Sigmoid" not in op_types(tidy(model))


def test_gemm_becomes_matmul():
    rng = np.random.default_rng(1)

    def gemm(g, y):  # a fully connected layer as torch.nn.Linear exports it (weights [out, in], transB), 64 -> 64
        flat = g.flatten(y, name="flat_gemm")
        out = g.node("Gemm", [flat, binary_weights(rng, 64, 64), np.zeros(64, np.float32)], name="fc_gemm", transB=1)
        return g.node("Reshape", [out, g.const(np.array([1, 4, 4, 4], dtype=np.int64))], name="back")

    before = _messy(gemm)
    after = tidy(before)
    assert "Gemm" not in op_types(after) and op_types(after).count("MatMul") == 2
    assert_same_outputs(before, after, inputs(before, 8))
