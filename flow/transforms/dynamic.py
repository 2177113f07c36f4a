"""DySign subgraph -> one ``DynamicThreshold`` node with integer parameters."""
import numpy as np
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from signflow.graph import (
    const,
    execute_nodes,
    integer_exponent,
    node_error,
    node_label,
    power_of_two_exponent,
    single_consumer,
)
from signflow.ops.base import make_node
from signflow.ops.dynamic_threshold import PARAM_NAMES, dynamic_threshold
from signflow.transforms.streamline import LINEAR_OPS, accumulator, affine_chain
from signflow.transforms.thresholds import chain_values, sliced_constants, thresholds_from_predicate

#: the statistic path of models.activations.DynamicSign, from the Gather back to the channel sum
STAT_PATH = ["Cast", "Add", "Round", "Div", "Quant", "MatMul", "Quant", "Relu", "MatMul", "Quant", "Mul", "ReduceSum"]


def _walk_back(model, gather):
    nodes, tensor = [], gather.input[1]
    for op in STAT_PATH:
        node = model.find_producer(tensor)
        if node is None or node.op_type != op:
            raise node_error(gather, f"the dynamic-threshold subgraph differs from DySign's ({op} expected "
                             f"before {nodes[-1].op_type if nodes else 'Gather'}); it is not supported")
        nodes.append(node)
        tensor = node.input[0]
    return nodes[::-1]


def _quant_range(model, node):
    """``(exponent, min, max)`` of a Quant node: power-of-two scale, zero point 0."""
    exp = power_of_two_exponent(const(model, node.input[1]))
    if exp is None or np.any(const(model, node.input[2]) != 0):
        raise node_error(node, "DySign quantizers need power-of-two scales and zero point 0")
    op = getCustomOp(node)
    bits, narrow = int(const(model, node.input[3])), op.get_nodeattr("narrow")
    if op.get_nodeattr("signed"):
        return exp, -(2 ** (bits - 1)) + narrow, 2 ** (bits - 1) - 1
    return exp, 0, 2 ** bits - 1 - narrow


def _exponent_between(model, source, tensor):
    """Power-of-two exponent of the Mul nodes between the accumulator ``source`` and ``tensor``."""
    exp = 0
    while tensor != source:
        node = model.find_producer(tensor)
        if node is None or node.op_type != "Mul" or power_of_two_exponent(const(model, node.input[1])) is None:
            raise node_error(node or model.find_producer(source), "only power-of-two scaling may sit between a "
                             "layer and its DySign statistic")
        exp += power_of_two_exponent(const(model, node.input[1]))
        tensor = node.input[0]
    return exp


def integer_mlp(model, source, stat):
    """Integer parameters and weights of the statistic path ``stat`` (see ``STAT_PATH``)."""
    reduce_sum, mul, q_node, mm1, relu, r_node, mm2, u_node, div, rnd, add, _ = stat
    exp = _exponent_between(model, source, reduce_sum.input[0])
    exp += power_of_two_exponent(const(model, mul.input[1])) or 0
    q_exp, q_min, q_max = _quant_range(model, q_node)
    w1, w2 = const(model, mm1.input[1]), const(model, mm2.input[1])
    e1, e2 = integer_exponent(w1), integer_exponent(w2)
    r_exp, r_min, r_max = _quant_range(model, r_node)
    u_exp, u_min, u_max = _quant_range(model, u_node)
    params = dict(stat_shift=exp - q_exp, q_min=q_min, q_max=q_max,
                  r_shift=q_exp + e1 - r_exp, r_min=r_min, r_max=r_max,
                  u_shift=r_exp + e2 - u_exp, u_min=u_min, u_max=u_max)
    # the code -> table index map, computed as the graph computes it (float32, round half even)
    codes = np.arange(u_min, u_max + 1)
    u_values = (codes * np.float32(2.0 ** u_exp)).astype(np.float32)
    index = np.round(u_values / const(model, div.input[1]).astype(np.float32)) + const(model, add.input[1])
    if not np.array_equal(index, codes - u_min):
        raise node_error(div, "the DySign table index is not the code offset by its minimum")
    return params, np.round(w1 / 2.0 ** e1), np.round(w2 / 2.0 ** e2)


class CollapseDynamicSign(Transformation):
    """``layer -> {BN chain, ReduceSum -> MLP -> Gather} -> Sub -> BipolarQuant`` -> ``layer -> DynamicThreshold``."""

    def apply(self, model):
        for gather in model.get_nodes_by_op_type("Gather"):
            table = const(model, gather.input[0])
            if table is None:
                continue
            stat = _walk_back(model, gather)
            sub, tensor = None, gather.output[0]
            while sub is None:
                node = single_consumer(model, tensor)
                if node is None or node.op_type not in ("Unsqueeze", "Reshape", "Sub"):
                    raise node_error(gather, "the DySign threshold must be subtracted before a sign")
                sub, tensor = (node, None) if node.op_type == "Sub" else (None, node.output[0])
            act = single_consumer(model, sub.output[0])
            if act is None or act.op_type != "BipolarQuant":
                raise node_error(sub, "a DySign threshold must feed a sign (BipolarQuant)")
            layer, source, chain = _chain_to_layer(model, sub.input[0])
            bound, channels = accumulator(model, layer)
            params, w1, w2 = integer_mlp(model, source, stat)
            acc_values = np.arange(-bound, bound + 1)
            spatial = layer.op_type == "Conv"  # [R, C, 1, 1]: per-channel [1, C, 1, 1] constants broadcast right
            if spatial and sliced_constants(model, chain, (1, 1)):
                raise node_error(act, "a per-pixel constant (a DeSign offset) before a DySign threshold is not "
                                 "supported; use one of the two per layer")
            g = chain_values(model, chain, acc_values, channels, (1, 1), spatial=spatial)  # R, C, 1
            passed = (g - table.astype(np.float32)[None, None, :]) >= 0  # R, C, codes
            direction, thr = thresholds_from_predicate(passed, acc_values, node_label(act))
            inits = {}
            for key, value in (("w1", w1), ("w2", w2), ("thr", thr), ("dir", direction)):
                inits[key] = model.make_new_valueinfo_name()
                model.set_initializer(inits[key], np.asarray(value, dtype=np.float32))
            node = make_node("DynamicThreshold", [source, inits["w1"], inits["w2"], inits["thr"], inits["dir"]],
                             [act.output[0]], name=f"DynamicThreshold_{act.name}", **params)
            replaced = _between(model, source, act.output[0])
            _check_against_graph(model, source, replaced, sub, node, bound)
            model.graph.node.insert(list(model.graph.node).index(act), node)
            for old in replaced:
                model.graph.node.remove(old)
            return model, True
        return model, False


def _chain_to_layer(model, tensor):
    """``(layer, source, chain)``: the affine chain ending at ``tensor`` (the BatchNorm side of DySign) reads
    ``source``, the layer's accumulator or, in the published DeSign order, its max-pool."""
    source, chain = affine_chain(model, tensor)
    pooled = source is not None and source.op_type == "MaxPool"
    layer = model.find_producer(source.input[0]) if pooled else source
    if layer is None or layer.op_type not in LINEAR_OPS:
        raise node_error(model.find_producer(tensor), "the DySign BatchNorm side must be constant elementwise ops "
                         "after a layer or after a max-pool of its accumulator")
    return layer, source.output[0], chain


def _check_against_graph(model, source, replaced, sub, node, bound, samples=8, seed=0):
    """The integer node must reproduce the float subgraph on random accumulators."""
    shape = model.get_tensor_shape(source)
    rng = np.random.default_rng(seed)
    acc = rng.integers(-bound, bound + 1, size=(samples, *shape[1:])).astype(np.float32)
    acc[: samples // 2] = np.round(acc[: samples // 2] / 4)  # smaller sums reach other codes
    sub_nodes = [n for n in replaced if n is not replaced[-1]]  # all but the sign
    expected = np.concatenate([execute_nodes(model, sub_nodes, {source: acc[i:i + 1]}, sub.output[0])
                               for i in range(samples)]) >= 0
    op_inputs = [const(model, i) for i in node.input[1:]]
    got = dynamic_threshold(acc, op_inputs[0], op_inputs[1], op_inputs[2].astype(np.int64),
                            op_inputs[3].astype(np.int64), {k: getattr_int(node, k) for k in PARAM_NAMES})
    if not np.array_equal(expected, got):
        raise node_error(sub, "internal error: the integer DySign unit differs from the float subgraph; please report")


def getattr_int(node, name):
    return next(a.i for a in node.attribute if a.name == name)


def _between(model, start, end):
    """Nodes on paths from tensor ``start`` to tensor ``end``, in graph order."""
    reach = {start}
    keep = []
    for node in model.graph.node:
        if any(i in reach for i in node.input):
            reach.update(node.output)
            keep.append(node)
    needed, out = {end}, []
    for node in reversed(keep):
        if any(o in needed for o in node.output):
            needed.update(node.input)
            out.append(node)
    return out[::-1]
