"""Small helpers over qonnx's ModelWrapper used by the transformations."""
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

from signflow.errors import UserError


def load_graph(source):
    """A saved graph (path or ModelProto) as a ModelWrapper; ops saved under an old domain name get today's."""
    from qonnx.core.modelwrapper import ModelWrapper

    from signflow.ops.base import DOMAIN, OLD_DOMAINS

    model = source
    if not isinstance(model, ModelWrapper):
        model = ModelWrapper(str(source) if isinstance(source, Path) else source)  # ModelWrapper takes str paths
    for node in model.graph.node:
        if node.domain in OLD_DOMAINS:
            node.domain = DOMAIN
    return model


def const(model, name):
    """The initializer ``name`` as a numpy array, or None when it is not constant."""
    return model.get_initializer(name)


def single_consumer(model, tensor):
    """The one node reading ``tensor``, or None when zero or several read it."""
    consumers = model.find_consumers(tensor) or []
    return consumers[0] if len(consumers) == 1 else None


def node_attr(node, name, default):
    """ONNX attribute ``name`` of ``node`` as a Python value (lists as lists), or ``default`` when absent."""
    for attr in node.attribute:
        if attr.name == name:
            value = helper.get_attribute_value(attr)
            return list(value) if isinstance(value, (list, tuple)) else value
    return default


def node_label(node):
    """``node 'NAME'``, or for a node without a name ``the unnamed node producing 'TENSOR'``: no message ever
    names a node ''."""
    if node.name:
        return f"node '{node.name}'"
    return f"the unnamed node producing '{node.output[0]}'" if node.output else "an unnamed node"


def node_error(node, message):
    """A UserError that names the node and its op type."""
    return UserError(f"{node_label(node)} ({node.op_type}): {message}")


def power_of_two_exponent(value):
    """``k`` with ``value == 2**k`` for a positive scalar, else None."""
    value = float(np.asarray(value).reshape(-1)[0]) if np.asarray(value).size == 1 else None
    if value is None or value <= 0:
        return None
    mantissa, exponent = np.frexp(value)
    return int(exponent - 1) if mantissa == 0.5 else None


def integer_exponent(values):
    """Largest ``k`` such that ``values / 2**k`` are all integers (values a power-of-two grid)."""
    values = np.asarray(values, dtype=np.float64)
    for k in range(20, -40, -1):
        scaled = values / 2.0 ** k
        if np.all(scaled == np.round(scaled)):
            return k
    return None


def run_nodes(model, nodes, feeds, output, overrides=None):
    """Run ``nodes`` of ``model`` with onnxruntime on ``feeds``; constants come from ``model``.

    ``overrides`` replaces some initializers (e.g. a per-pixel offset sliced to
    one period). The same runtime executes the full graph, so the arithmetic is
    the same as in ``execute_onnx``.
    """
    overrides = overrides or {}
    produced = {o for n in nodes for o in n.output}
    inputs, inits = [], []
    for name in dict.fromkeys(i for n in nodes for i in n.input if i and i not in produced):
        if name in feeds:
            inputs.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(feeds[name].shape)))
        else:
            value = overrides[name] if name in overrides else const(model, name)
            inits.append(onnx.numpy_helper.from_array(np.asarray(value), name))
    graph = helper.make_graph(list(nodes), "chain", inputs,
                              [helper.make_tensor_value_info(output, onnx.TensorProto.FLOAT, None)], inits)
    opset = [o for o in model.model.opset_import if o.domain in ("", "ai.onnx")]
    proto = helper.make_model(graph, opset_imports=opset or [helper.make_opsetid("", 13)])
    proto.ir_version = 8
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([output], {k: v for k, v in feeds.items()})[0]


def execute_nodes(model, nodes, feeds, output):
    """Run ``nodes`` (standard or custom ops) in order with qonnx, batch as in the graph."""
    from qonnx.core.onnx_exec import execute_node

    context = {init.name: onnx.numpy_helper.to_array(init) for init in model.graph.initializer}
    context.update(feeds)
    opset = model.model.opset_import[0].version
    for node in nodes:
        for out in node.output:  # qonnx expects a buffer of the output's shape to replace
            context.setdefault(out, np.zeros(model.get_tensor_shape(out) or 0, dtype=np.float32))
        execute_node(node, context, model.graph, opset)
    return context[output]
