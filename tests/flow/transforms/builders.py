"""Tiny graphs for the transformation tests, written node by node with onnx.helper.

``Graph`` collects nodes and constants; ``model()`` wraps them in a qonnx ModelWrapper with shapes inferred.
Inputs given as numpy arrays become initializers. Nothing here imports torch: the graphs are the ones Brevitas
exports (Quant / BipolarQuant in qonnx's domain, BatchNormalization, Conv, MaxPool, ...), written directly.
"""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes

from signflow.errors import UserError
from signflow.ops.base import DOMAIN
from signflow.sim.reference import run_graph

QONNX = "qonnx.custom_op.general"
OPSET = 13


class Graph:
    def __init__(self, in_shape):
        self.input = "x"
        self.in_shape = list(in_shape)
        self.nodes, self.inits, self.count, self.shapes = [], {}, 0, {}

    def const(self, value, name=None):
        name = name or f"c{len(self.inits)}"
        self.inits[name] = np.asarray(value)
        return name

    def shape(self, tensor, shape):
        """Declare the shape of ``tensor`` (qonnx infers a signflow op's shape from its input's, which must be
        known when the op is reached)."""
        self.shapes[tensor] = list(shape)
        return tensor

    def node(self, op, inputs, name=None, domain="", **attrs):
        """Append a node; array inputs become constants. Returns the output tensor's name."""
        self.count += 1
        name = name or f"{op}_{self.count}"
        names = [i if isinstance(i, str) else self.const(np.asarray(i, dtype=np.float32), f"{name}_p{k}")
                 for k, i in enumerate(inputs)]
        out = f"{name}_out"
        self.nodes.append(helper.make_node(op, names, [out], name=name, domain=domain, **attrs))
        return out

    # ---- the nodes Brevitas exports

    def sign(self, x, name=None, scale=1.0):
        """BipolarQuant (scale 1): +1 for x >= 0, else -1."""
        return self.node("BipolarQuant", [x, np.float32(scale)], name=name, domain=QONNX)

    def quant(self, x, scale, bits=8, signed=1, narrow=0, zero=0.0, name=None):
        return self.node("Quant", [x, np.float32(scale), np.float32(zero), np.float32(bits)], name=name,
                         domain=QONNX, signed=signed, narrow=narrow, rounding_mode="ROUND")

    def conv(self, x, weights, name=None, **attrs):
        return self.node("Conv", [x, np.asarray(weights, dtype=np.float32)], name=name,
                         kernel_shape=list(np.shape(weights)[2:]), **attrs)

    def bn(self, x, gamma, beta, mean, var, name=None, epsilon=1e-5):
        params = [np.asarray(v, dtype=np.float32) for v in (gamma, beta, mean, var)]
        return self.node("BatchNormalization", [x, *params], name=name, epsilon=epsilon)

    def maxpool(self, x, kernel, name=None, **attrs):
        return self.node("MaxPool", [x], name=name, kernel_shape=list(kernel), **attrs)

    def pad(self, x, pads, value, name=None, **attrs):
        return self.node("Pad", [x, self.const(np.asarray(pads, dtype=np.int64)), np.float32(value)],
                         name=name, **attrs)

    def flatten(self, x, name=None):
        return self.node("Flatten", [x], name=name, axis=1)

    def matmul(self, x, weights, name=None):
        return self.node("MatMul", [x, np.asarray(weights, dtype=np.float32)], name=name)

    def signflow(self, op, inputs, name=None, **attrs):
        return self.node(op, inputs, name=name, domain=DOMAIN, **attrs)

    def shape_of(self, tensor):
        """The inferred shape of ``tensor`` in the graph built so far."""
        return self.model(tensor).get_tensor_shape(tensor)

    def model(self, output):
        graph = helper.make_graph(
            self.nodes, "tiny", [helper.make_tensor_value_info(self.input, TensorProto.FLOAT, self.in_shape)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
            [onnx.numpy_helper.from_array(v, k) for k, v in self.inits.items()],
            value_info=[helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in self.shapes.items()])
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(QONNX, 1)])
        proto.ir_version = 8
        return ModelWrapper(proto).transform(InferShapes())


def binary_weights(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape).astype(np.float32)


def inputs(model, n=12, seed=0, low=-1.0, high=1.0):
    shape = model.get_tensor_shape(model.graph.input[0].name)
    return np.random.default_rng(seed).uniform(low, high, (n, *shape[1:])).astype(np.float32)


def run(model, x):
    return run_graph(model, x)


def assert_same_outputs(before, after, x, min_distinct=2):
    """``after`` computes bit-exactly what ``before`` (a graph, or its outputs on ``x``) computes on ``x``; the
    outputs are not all alike (so the comparison can fail). Returns the outputs."""
    expected = before if isinstance(before, np.ndarray) else run(before, x)
    got = run(after, x)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    assert len(np.unique(expected.reshape(len(x), -1), axis=0)) >= min(min_distinct, len(x)), \
        "the outputs do not depend on the input: the comparison is vacuous"
    return expected


def op_types(model):
    return [node.op_type for node in model.graph.node]


def by_name(model, name):
    return next(node for node in model.graph.node if node.name == name)


def only(model, op_type):
    nodes = model.get_nodes_by_op_type(op_type)
    assert len(nodes) == 1, f"{len(nodes)} {op_type} nodes"
    return nodes[0]


def init_of(model, node, index=1):
    return model.get_initializer(node.input[index])


def refusal(callable_, *args):
    """The one-line UserError message ``callable_(*args)`` raises."""
    with pytest.raises(UserError) as err:
        callable_(*args)
    message = str(err.value)
    assert "\n" not in message
    return message


#: DySign's MLP in the shape Brevitas exports it (models.activations.DynamicSign): integer weights on power-of-two
#: grids, the statistic quantized to 8 bits (scale 2^-3), the hidden layer to 4 unsigned bits (2^-4), the code to 4
#: signed bits (2^-3), and a table of ``tanh``-like thresholds indexed by ``code / 2^-3 + 8``
DYSIGN_W1 = np.array([[1, -3], [2, 1], [-1, 3], [3, -2]], dtype=np.float32)          # x 2^-2
DYSIGN_W2 = np.array([[1, -1, 3, 0], [-3, 2, 1, -1]], dtype=np.float32)              # x 2^-1
DYSIGN_TABLE = (2.0 / (1.0 + np.exp(-np.arange(-8, 8) / 8.0)) - 1.0).astype(np.float32) * 0.9


def dysign(int_input=False, pooled=False, chain="bn", shape=(1, 2, 6, 6), broken=None):
    """``[sign | Quant(1/8)] -> conv(4) [-> MaxPool 2x2] -> {chain, ReduceSum -> MLP -> Gather} -> Sub -> sign
    -> flatten -> fc``. ``chain``: ``"bn"`` (negative and zero gamma), ``"unit_bn"`` (gamma +-1), ``"flip"`` (a Mul
    by [1, -1, 1, 1]) or ``"none"``; ``broken`` names one deviation from DySign's subgraph."""
    rng = np.random.default_rng(0)
    g = Graph(list(shape))
    x = g.quant(g.input, 0.125, name="q_in") if int_input else g.sign(g.input, name="in_sign")
    acc = g.conv(x, binary_weights(rng, 4, shape[1], 3, 3), name="conv")
    height, width = shape[2] - 2, shape[3] - 2
    if pooled:
        acc = g.maxpool(acc, [2, 2], strides=[2, 2], name="pool")
        height, width = height // 2, width // 2
    bn_in = g.node("Relu", [acc], name="relu_bn") if broken == "bn_after_relu" else acc
    if chain == "bn":
        z = g.bn(bn_in, [1.0, -0.5, 0.0, 2.0], [0.5, 0.25, -0.1, -1.0], [0.0, 1.0, 0.0, -2.0], [1.0, 2.0, 1.0, 0.5],
                 name="bn")
    elif chain == "unit_bn":  # gamma +-1, beta 0, mean 0, variance 1, epsilon 0: exactly +-a
        z = g.bn(bn_in, [1.0, -1.0, 1.0, -1.0], [0.0] * 4, [0.0] * 4, [1.0] * 4, name="bn", epsilon=0.0)
    elif chain == "flip":
        z = g.node("Mul", [bn_in, np.array([1, -1, 1, 1], np.float32).reshape(1, 4, 1, 1)], name="flip")
    else:
        z = bn_in
    stat_in = g.node("Mul", [acc, np.float32(0.3)], name="prescale") if broken == "stat_scale" else acc
    total = g.node("ReduceSum", [stat_in, g.const(np.array([2, 3], dtype=np.int64), "axes")], name="sum", keepdims=0)
    mean = g.node("Mul", [total, np.float32(2.0 ** -int(np.ceil(np.log2(height * width))))], name="mean")
    q = g.quant(mean, 0.1 if broken == "q_scale" else 2.0 ** -3, bits=8, name="q_stat")
    hidden = g.node("Relu", [g.matmul(q, DYSIGN_W1 * 2.0 ** -2, name="fc1")], name="relu")
    r = g.quant(hidden, 2.0 ** -4, bits=4, signed=0, name="q_hidden")
    u = g.quant(g.matmul(r, DYSIGN_W2 * 2.0 ** -1, name="fc2"), 2.0 ** -3, bits=4, name="q_code")
    index = g.node("Div", [u, np.float32(2.0 ** -3)], name="div")
    if broken != "no_round":
        index = g.node("Round", [index], name="round")
    index = g.node("Add", [index, np.float32(7.0 if broken == "index" else 8.0)], name="offset")
    index = g.node("Cast", [index], name="cast", to=onnx.TensorProto.INT64)
    t = g.node("Gather", [g.const(DYSIGN_TABLE, "table"), index], name="gather", axis=0)
    if broken == "not_subtracted":
        t = g.node("Mul", [t, np.float32(1.0)], name="scale_t")
    t = g.node("Unsqueeze", [t, g.const(np.array([2], dtype=np.int64))], name="unsq1")
    t = g.node("Unsqueeze", [t, g.const(np.array([3], dtype=np.int64))], name="unsq2")
    y = g.node("Sub", [z, t], name="sub")
    y = g.node("Relu", [y], name="not_a_sign") if broken == "no_sign" else g.sign(y, name="act")
    return g.model(g.matmul(g.flatten(y), binary_weights(rng, 4 * height * width, 3), name="fc"))
