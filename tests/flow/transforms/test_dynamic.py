"""flow/transforms/dynamic.py: DySign's subgraph (BatchNorm side, channel sum -> quantized MLP -> table lookup,
subtracted before a sign) becomes one integer ``DynamicThreshold``; the subgraphs it cannot read are refused
naming the node."""
import numpy as np
import pytest

from signflow.graph import node_attr
from signflow.ops.dynamic_threshold import PARAM_NAMES
from signflow.sim.reference import run_graph
from signflow.transforms.dynamic import CollapseDynamicSign, _walk_back, integer_mlp
from signflow.transforms.streamline import SplitQuantScale
from tests.flow.transforms.builders import (
    DYSIGN_TABLE,
    DYSIGN_W1,
    DYSIGN_W2,
    Graph,
    assert_same_outputs,
    by_name,
    dysign,
    init_of,
    inputs,
    only,
    op_types,
    refusal,
)

#: the ops of DySign's subgraph, all gone after the collapse
SUBGRAPH_OPS = {"ReduceSum", "Quant", "Relu", "Div", "Round", "Cast", "Gather", "Unsqueeze", "Sub", "BipolarQuant",
                "BatchNormalization"}


def params(node):
    return {name: node_attr(node, name, None) for name in PARAM_NAMES}


def collapse(**kwargs):
    before = dysign(**kwargs)
    if kwargs.get("int_input"):  # the streamline step runs this first: a Mul(1/8) after the conv
        before = before.transform(SplitQuantScale())
    return before, before.transform(CollapseDynamicSign())


def test_collapse_dynamic_sign():
    before, after = collapse()
    assert op_types(after) == ["BipolarQuant", "Conv", "DynamicThreshold", "Flatten", "MatMul"]
    node = only(after, "DynamicThreshold")
    assert node.name == "DynamicThreshold_act" and node.output[0] == "act_out"
    assert node.input[0] == by_name(after, "conv").output[0]
    # 4x4 map: the mean is a shift by -4; the statistic's scale is 2^-3, so S * 2^-4 / 2^-3 = S * 2^-1
    assert params(node) == {"stat_shift": -1, "q_min": -128, "q_max": 127,
                            "r_shift": -3 - 2 + 4, "r_min": 0, "r_max": 15,      # q_exp + e1 - r_exp
                            "u_shift": -4 - 1 + 3, "u_min": -8, "u_max": 7}      # r_exp + e2 - u_exp
    w1, w2, thr, direction = (init_of(after, node, k) for k in range(1, 5))
    np.testing.assert_array_equal(w1, DYSIGN_W1)  # the integers, without their power-of-two scales
    np.testing.assert_array_equal(w2, DYSIGN_W2)
    assert thr.shape == (4, 16)
    # gamma -0.5 falls; gamma 0 (beta -0.1 - t) is constant for every code: never or always
    assert direction.tolist() == [1, -1, 1, 1]
    bound = 18
    zero_gamma = -0.1 - DYSIGN_TABLE >= 0
    np.testing.assert_array_equal(thr[2], np.where(zero_gamma, -bound, bound + 1))
    x = inputs(before, 8)
    full = run_graph(before, x, full=True)
    assert len(np.unique(full["cast_out"])) >= 6  # the inputs reach many table entries
    assert_same_outputs(full[before.graph.output[0].name], after, x)


@pytest.mark.parametrize("chain, direction", [("none", [1, 1, 1, 1]), ("unit_bn", [1, -1, 1, -1])])
def test_thresholds_hand_computed(chain, direction):
    """``sign(d * a - t[code])`` is ``d * a >= ceil(t)``; the table lies in (-1, 1), so every threshold is 0
    (t <= 0) or 1 (t > 0), whichever the direction."""
    before, after = collapse(chain=chain)
    node = only(after, "DynamicThreshold")
    assert init_of(after, node, 4).tolist() == direction
    np.testing.assert_array_equal(init_of(after, node, 3), np.tile(np.where(DYSIGN_TABLE > 0, 1, 0), (4, 1)))
    assert "BatchNormalization" not in op_types(after)
    assert_same_outputs(before, after, inputs(before, 8))


def test_a_per_channel_mul_on_the_batchnorm_side():
    before, after = collapse(chain="flip")
    assert init_of(after, only(after, "DynamicThreshold"), 4).tolist() == [1, -1, 1, 1]
    assert_same_outputs(before, after, inputs(before, 8))


def test_integer_first_layer():
    """The input scale 1/8 moved behind the conv joins the statistic's shift and the BatchNorm side."""
    before, after = collapse(int_input=True)
    assert op_types(after) == ["Div", "Quant", "Conv", "DynamicThreshold", "Flatten", "MatMul"]
    node = only(after, "DynamicThreshold")
    assert node.input[0] == by_name(after, "conv").output[0]  # the integer accumulator, before Mul(1/8)
    assert params(node)["stat_shift"] == -3 - 4 + 3
    assert init_of(after, node, 3).shape == (4, 16)
    assert_same_outputs(before, after, inputs(before, 8))


def test_published_order_keeps_the_integer_pool():
    """conv 4x4 -> MaxPool 2x2: the statistic of the pooled map (a shift by -2), the pool stays in front."""
    before, after = collapse(pooled=True)
    assert op_types(after) == ["BipolarQuant", "Conv", "MaxPool", "DynamicThreshold", "Flatten", "MatMul"]
    node = only(after, "DynamicThreshold")
    assert node.input[0] == by_name(after, "pool").output[0]
    assert params(node)["stat_shift"] == -2 + 3
    assert_same_outputs(before, after, inputs(before, 8))


def test_odd_map_statistic_shift():
    """A 5x7 map (35 pixels): the mean is a shift by -ceil(log2(35)) = -6."""
    before, after = collapse(shape=(1, 2, 7, 9))
    assert params(only(after, "DynamicThreshold"))["stat_shift"] == -6 + 3
    assert not SUBGRAPH_OPS & set(op_types(after)[2:])
    assert_same_outputs(before, after, inputs(before, 8))


def test_integer_mlp_reads_the_exponents():
    model = dysign()
    stat = _walk_back(model, by_name(model, "gather"))
    assert [n.name for n in stat] == ["sum", "mean", "q_stat", "fc1", "relu", "q_hidden", "fc2", "q_code", "div",
                                      "round", "offset", "cast"]
    p, w1, w2 = integer_mlp(model, by_name(model, "conv").output[0], stat)
    assert p["stat_shift"] == -1 and p["r_shift"] == -1 and p["u_shift"] == -2
    np.testing.assert_array_equal(w1, DYSIGN_W1)
    np.testing.assert_array_equal(w2, DYSIGN_W2)


@pytest.mark.parametrize("broken, message", [
    ("no_round", ("node 'gather' (Gather): the dynamic-threshold subgraph differs from DySign's (Round expected before "
                 "Add); it is not supported")),
    ("q_scale", "node 'q_stat' (Quant): DySign quantizers need power-of-two scales and zero point 0"),
    ("stat_scale", ("node 'prescale' (Mul): only power-of-two scaling may sit between a layer and its DySign "
                   "statistic")),
    ("no_sign", "node 'sub' (Sub): a DySign threshold must feed a sign (BipolarQuant)"),
    ("not_subtracted", "node 'gather' (Gather): the DySign threshold must be subtracted before a sign"),
    ("index", "node 'div' (Div): the DySign table index is not the code offset by its minimum"),
    ("bn_after_relu", ("node 'bn' (BatchNormalization): the DySign BatchNorm side must be constant elementwise ops "
                      "after a layer or after a max-pool of its accumulator")),
])
def test_refusals_name_the_node(broken, message):
    assert refusal(dysign(broken=broken).transform, CollapseDynamicSign()) == message


def test_graphs_without_dysign_are_left_alone():
    g = Graph([1, 3])
    model = g.model(g.node("Gather", [g.input, g.const(np.array([0, 2], dtype=np.int64))], axis=1))  # no table
    assert op_types(model.transform(CollapseDynamicSign())) == ["Gather"]
