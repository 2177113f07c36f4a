"""Streamlining: quantized float graph -> integer accumulators and threshold nodes.

After these rewrites every binary layer is ``Conv``/``MatMul`` with +-1
constant weights on integer inputs, followed by a ``PixelThreshold`` (or a
``DynamicThreshold`` for DySign) holding integer thresholds. Float pre- and
post-processing around the accelerator (input scaling, the score scale) stays.
"""
import numpy as np
from onnx import helper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from signflow.graph import const, node_error, node_label, power_of_two_exponent, single_consumer
from signflow.ops.base import make_node
from signflow.transforms.thresholds import fold_chain

#: elementwise ops with a constant second input that may sit between an accumulator and its sign
AFFINE_OPS = ("BatchNormalization", "Mul", "Add", "Sub", "Div")
LINEAR_OPS = ("Conv", "MatMul")
QUANT_OPS = ("Quant", "BipolarQuant")


class FoldWeightQuant(Transformation):
    """Quant / BipolarQuant on constant inputs -> the quantized constant."""

    def apply(self, model):
        for node in model.graph.node:
            if node.op_type in QUANT_OPS and all(const(model, i) is not None for i in node.input):
                context = {i: const(model, i) for i in node.input}
                getCustomOp(node).execute_node(context, model.graph)
                model.set_initializer(node.output[0], context[node.output[0]].astype(np.float32))
                model.graph.node.remove(node)
                return model, True
        return model, False


class SplitQuantScale(Transformation):
    """A scaled quantizer feeding a layer -> the same quantizer at scale 1, and the scale moved past the layer.

    The input's integer ``Quant(x; s)`` becomes ``Quant(Div(x, s); 1)``: the same integers the original
    computes internally. A sign ``BipolarQuant(x; s)`` (the input's or a hidden one, e.g. Brevitas'
    ``CommonActQuant`` at 1 bit) becomes ``BipolarQuant(x; 1)``. The layer then accumulates integers and a
    ``Mul(s)`` after it restores the original values; the next threshold fold absorbs that ``Mul`` (after
    the last layer it stays, as the score scale). Exact only for power-of-two ``s``. A scaled sign that is
    the network's output keeps its scale as a ``Mul`` after it.
    """

    def apply(self, model):
        for node in model.graph.node:
            if node.op_type not in QUANT_OPS or const(model, node.input[0]) is not None:
                continue
            scale = const(model, node.input[1])
            if scale is None or np.all(scale == 1.0):
                continue
            sign = node.op_type == "BipolarQuant"
            if not sign and after_layer(model, node.input[0]):
                continue  # a multi-bit hidden activation: check_streamlined names it
            path = _layer_path(model, node.output[0])
            if path is None and not (sign and node.output[0] in _graph_outputs(model)):
                continue  # feeds no binary layer: left for the later checks to name
            _check_exact_scale(model, node, scale, sign)
            s = np.float32(np.asarray(scale).reshape(-1)[0])
            if not sign:
                div_out = model.make_new_valueinfo_name()
                model.set_tensor_shape(div_out, model.get_tensor_shape(node.input[0]))
                model.graph.node.insert(list(model.graph.node).index(node),
                                        helper.make_node("Div", [node.input[0], _scalar(model, s)], [div_out]))
                node.input[0] = div_out
            model.set_initializer(node.input[1], np.float32(1.0))
            if path is None:
                _scale_after(model, node, s)
                return model, True
            for pad in path[:-1]:  # pad values are in the quantized domain too
                if pad.op_type == "Pad":
                    _rescale_pad(model, pad, s)
            _scale_after(model, path[-1], s)
            return model, True
        return model, False


def _check_exact_scale(model, node, scale, sign):
    what = "sign (BipolarQuant)" if sign else "input quantizer"
    need = "a scalar power-of-two scale" if sign else "a power-of-two scale and zero point 0"
    zero = None if sign else const(model, node.input[2])
    if power_of_two_exponent(scale) is None:
        got = f"scale {np.round(np.asarray(scale, dtype=np.float64).reshape(-1)[:4], 6).tolist()}"
    elif zero is not None and np.any(zero != 0):
        got = f"zero point {np.asarray(zero, dtype=np.float64).reshape(-1)[:4].tolist()}"
    else:
        return
    raise node_error(node, f"{what} needs {need} to stay exact in integer hardware (got {got})")


def _graph_outputs(model):
    return [out.name for out in model.graph.output]


def _scale_after(model, node, scale):
    """Insert ``Mul(scale)`` on ``node``'s output (its readers see the same values as before)."""
    inner = model.make_new_valueinfo_name()
    model.set_tensor_shape(inner, model.get_tensor_shape(node.output[0]))
    mul = helper.make_node("Mul", [inner, _scalar(model, scale)], [node.output[0]])
    node.output[0] = inner
    model.graph.node.insert(list(model.graph.node).index(node) + 1, mul)


def _scalar(model, value):
    name = model.make_new_valueinfo_name()
    model.set_initializer(name, np.asarray(value, dtype=np.float32))
    return name


def _layer_path(model, tensor):
    """``[Pad|MaxPool..., binary Conv|MatMul]`` reached from ``tensor`` through pads, pools and reshapes, or None.

    A positive scale commutes with a max-pool, so the scale moves past it too.
    """
    path = []
    node = single_consumer(model, tensor)
    while node is not None and node.op_type in ("Pad", "MaxPool", "Reshape", "Flatten"):
        if node.op_type in ("Pad", "MaxPool"):
            path.append(node)
        node = single_consumer(model, node.output[0])
    if node is None or node.op_type not in LINEAR_OPS:
        return None
    weights = const(model, node.input[1])
    if weights is None or not np.all(np.abs(weights) == 1):
        return None  # not a binary layer (e.g. DySign's integer MLP)
    return path + [node]


def _rescale_pad(model, pad, scale):
    value = const(model, pad.input[2]) if len(pad.input) > 2 and pad.input[2] else np.float32(0)
    scaled = np.float32(value) / scale
    if scaled != np.round(scaled):
        raise node_error(pad, f"pad value {float(value)} is not on the input quantizer's grid")
    name = model.make_new_valueinfo_name()
    model.set_initializer(name, np.asarray(scaled, dtype=np.float32))
    while len(pad.input) < 3:
        pad.input.append("")
    pad.input[2] = name


def value_bound(model, tensor):
    """Largest ``|x|`` of an integer-valued tensor feeding a layer, or None when not integer."""
    node = model.find_producer(tensor)
    if node is None:
        return None
    if node.op_type in ("PixelThreshold", "DynamicThreshold"):
        return 1
    if node.op_type == "BipolarQuant":  # +-1 once SplitQuantScale has moved its scale
        return 1 if np.all(const(model, node.input[1]) == 1.0) else None
    if node.op_type == "Quant" and float(const(model, node.input[1])) == 1.0:
        bits = int(const(model, node.input[3]))
        signed = getCustomOp(node).get_nodeattr("signed")
        return 2 ** (bits - 1) if signed else 2 ** bits - 1
    if node.op_type in ("MaxPool", "Reshape", "Flatten", "Transpose"):
        return value_bound(model, node.input[0])
    if node.op_type == "Mul" and const(model, node.input[1]) is not None and \
            np.all(np.abs(const(model, node.input[1])) == 1):  # a channel flip (pool_order) keeps |x|
        return value_bound(model, node.input[0])
    if node.op_type == "Pad":
        inner = value_bound(model, node.input[0])
        pad = const(model, node.input[2]) if len(node.input) > 2 and node.input[2] else 0
        return None if inner is None else max(inner, int(abs(float(pad))))
    return None


def accumulator(model, layer):
    """``(bound, channels)`` of a binary layer's integer accumulator; errors when weights are not +-1."""
    weights = const(model, layer.input[1])
    if weights is None:
        raise node_error(layer, "weights are not constant")
    if not np.all(np.abs(weights) == 1):
        raise node_error(layer, "weights are not binary (+-1); signflow supports binary weights "
                         "(1-bit Brevitas weight quantizers) in every layer")
    bound = value_bound(model, layer.input[0])
    if bound is None:
        raise node_error(layer, "input is not binary or integer-quantized; put a Brevitas sign or "
                         "integer quantizer before it")
    if layer.op_type == "Conv":
        fan_in, channels = int(np.prod(weights.shape[1:])), weights.shape[0]
    else:
        fan_in, channels = weights.shape[0], weights.shape[1]
    return fan_in * bound, channels


def affine_chain(model, tensor):
    """``(source, chain)``: the constant elementwise ops ending at ``tensor``, and the node before them."""
    chain = []
    while True:
        node = model.find_producer(tensor)
        if node is None or node.op_type not in AFFINE_OPS or any(const(model, i) is None for i in node.input[1:]):
            return node, chain[::-1]
        chain.append(node)
        tensor = node.input[0]


def flip_output_channels(model, layer, direction):
    """Negate the weights of channels with ``direction == -1`` (the accumulator changes sign)."""
    weights = const(model, layer.input[1]).copy()
    if layer.op_type == "Conv":
        weights *= direction[:, None, None, None].astype(np.float32)
    else:
        weights *= direction[None, :].astype(np.float32)
    model.set_initializer(layer.input[1], weights)


class AbsorbIntoThreshold(Transformation):
    """``Conv|MatMul -> affine chain -> BipolarQuant`` -> ``Conv|MatMul -> PixelThreshold``."""

    def apply(self, model):
        for act in model.get_nodes_by_op_type("BipolarQuant"):
            layer, chain = affine_chain(model, act.input[0])
            # the chain goes: nobody but the next node may read the layer or a chain node (else left as is,
            # for check_streamlined to name)
            if layer is None or layer.op_type not in LINEAR_OPS or any(
                    len(model.find_consumers(node.output[0])) != 1 for node in [layer] + chain):
                continue
            bound, channels = accumulator(model, layer)
            spatial = layer.op_type == "Conv"
            direction, thr, period = fold_chain(model, chain, bound, channels, spatial, node_label(act))
            flip_output_channels(model, layer, direction)
            name = model.make_new_valueinfo_name()
            model.set_initializer(name, thr)
            node = make_node("PixelThreshold", [layer.output[0], name], [act.output[0]],
                             name=f"Threshold_{act.name}", period=list(period))
            index = list(model.graph.node).index(act)
            model.graph.node.insert(index, node)
            for old in chain + [act]:
                model.graph.node.remove(old)
            return model, True
        return model, False


def check_streamlined(model):
    """Every activation sign must have become a threshold node, and no multi-bit activation may follow a layer."""
    for node in model.get_nodes_by_op_type("Quant"):
        if const(model, node.input[0]) is None and after_layer(model, node.input[0]):
            bits = const(model, node.input[3])
            raise node_error(node, f"a {int(bits) if bits is not None else 'multi'}-bit activation after a layer is "
                             "not supported: hidden activations must be signs (BipolarQuant, 1 bit); only the "
                             "network's input may have more bits")
    for node in model.get_nodes_by_op_type("BipolarQuant"):
        if after_layer(model, node.input[0]):  # a sign before the first layer binarizes the input; it stays
            raise node_error(node, "this sign could not be folded into a threshold: the ops between it and the "
                             "preceding binary layer must be constant elementwise ops (BatchNorm, Mul, Add, Sub, Div)")


def after_layer(model, tensor):
    """Whether a Conv/MatMul lies upstream of ``tensor``."""
    node = model.find_producer(tensor)
    while node is not None:
        if node.op_type in LINEAR_OPS:
            return True
        node = model.find_producer(node.input[0])
    return False
