"""flow/transforms/to_hw.py: ``MatMul (+ PixelThreshold)`` -> MVAU with thresholds in the popcount domain,
binary streams as bits (padding -1 -> bit 0, +1 -> bit 1, a host-side input sign -> ``(x + 1) / 2``), shapes and
widths recorded on the HW ops, and the label select after order-keeping score post-processing."""
from types import SimpleNamespace

import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_shapes import InferShapes

from signflow.builder.steps import step_lower, step_to_hw
from signflow.graph import node_attr
from signflow.sim.reference import run_graph
from signflow.transforms.dynamic import CollapseDynamicSign
from signflow.transforms.pool_order import ThresholdBeforePool
from signflow.transforms.streamline import AbsorbIntoThreshold, SplitQuantScale
from signflow.transforms.to_hw import AnnotateHW, AppendLabelSelect, BinaryStreamsAsBits, ToMVAU, stream_kind
from tests.flow.transforms.builders import (
    Graph,
    assert_same_outputs,
    binary_weights,
    by_name,
    dysign,
    init_of,
    inputs,
    only,
    op_types,
    refusal,
    run,
)

#: conv1 per channel: rising, falling, zero gamma (always), zero gamma (never)
BN1 = ([1.0, -1.0, 0.0, 0.0], [0.5, 2.0, 1.0, -1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])


def network(int_input=False, published=False, tail=None, conv_pads=False):
    """``[sign | Quant] -> conv1 -> [pool ->] BN -> sign -> Pad(-1) -> conv2 -> BN -> sign -> [pool ->] flatten
    -> fc [-> tail]``, streamlined and lowered."""
    rng = np.random.default_rng(0)
    g = Graph([1, 1, 9, 9])
    x = g.quant(g.input, 0.125, name="q_in") if int_input else g.sign(g.input, name="in_sign")
    acc = g.conv(x, binary_weights(rng, 4, 1, 3, 3), name="conv1")
    if published:
        acc = g.maxpool(acc, [2, 2], strides=[2, 2], name="pool1")
    y = g.sign(g.bn(acc, *BN1, epsilon=0.0), name="act1")
    if conv_pads:  # zero padding of a bipolar stream
        acc = g.conv(y, binary_weights(rng, 3, 4, 3, 3), name="conv2", pads=[1, 1, 1, 1])
    else:
        acc = g.conv(g.pad(y, [0, 0, 1, 1, 0, 0, 1, 1], -1.0), binary_weights(rng, 3, 4, 3, 3), name="conv2")
    y = g.sign(g.bn(acc, [1, 2, -1], [0, 1, -1], [1, 0, 0], [1, 1, 1]), name="act2")
    if not published:
        y = g.maxpool(y, [2, 2], strides=[2, 2], name="pool2")
    y = g.matmul(g.flatten(y), binary_weights(rng, 27, 5), name="fc")
    for op, value in tail or []:
        y = g.node(op, [y, value], name=f"tail_{op}")
    model = g.model(y)
    for transform in (SplitQuantScale(), ThresholdBeforePool(), AbsorbIntoThreshold()):
        model = model.transform(transform)
    return step_lower(model, None)


def to_hw(model):
    return model.transform(ToMVAU()).transform(BinaryStreamsAsBits()).transform(InferShapes())


def test_binary_network_to_mvaus():
    lowered = network()
    thresholds = [init_of(lowered, n) for n in lowered.get_nodes_by_op_type("PixelThreshold")]
    matmuls = {n.name: init_of(lowered, n) for n in lowered.get_nodes_by_op_type("MatMul")}
    after = to_hw(lowered)
    assert op_types(after) == ["BipolarQuant", "Add", "Mul", "Transpose", "SlidingWindow", "MVAU", "SlidingWindow",
                               "MVAU", "StreamingMaxPool", "Flatten", "MVAU"]
    assert [n.name for n in after.graph.node[1:3]] == ["ToBits_in_sign_add", "ToBits_in_sign_mul"]
    mvau1, mvau2, fc = [getCustomOp(n) for n in after.get_nodes_by_op_type("MVAU")]
    assert [after.get_nodes_by_op_type("MVAU")[k].name for k in range(3)] == ["MVAU_MatMul_conv1", "MVAU_MatMul_conv2",
                                                                            "MVAU_fc"]
    assert (mvau1.get_nodeattr("MW"), mvau1.get_nodeattr("MH"), mvau1.get_nodeattr("channels")) == (9, 4, 1)
    assert (mvau2.get_nodeattr("MW"), mvau2.get_nodeattr("MH"), mvau2.get_nodeattr("channels")) == (36, 3, 4)
    assert (fc.get_nodeattr("MW"), fc.get_nodeattr("MH"), fc.get_nodeattr("channels")) == (27, 5, 0)
    assert all(op.get_nodeattr("input_mode") == "binary" for op in (mvau1, mvau2, fc))
    assert mvau1.get_nodeattr("output_mode") == "threshold" and fc.get_nodeattr("output_mode") == "acc"
    assert fc.get_nodeattr("out_dtype") == "INT32"
    # the thresholds move to the popcount domain: acc = 2p - MW, so acc >= t <=> p >= ceil((t + MW) / 2)
    # conv1 (|acc| <= 9): a + 0.5 >= 0 -> t = 0 -> p >= 5 (4.5 up); -a + 2 >= 0 -> -a >= -2 (weights negated)
    # -> p >= 4 (3.5 up); always (t = -9) -> p >= 0; never (t = 10) -> p >= 10 > MW
    assert thresholds[0].tolist() == [[0], [-2], [-9], [10]]
    mvau_nodes = after.get_nodes_by_op_type("MVAU")
    assert init_of(after, mvau_nodes[0], 2).tolist() == [[5], [4], [0], [10]]
    np.testing.assert_array_equal(init_of(after, mvau_nodes[1], 2), np.ceil((thresholds[1] + 36) / 2))
    # weights become bits
    for node, name in zip(mvau_nodes, ["MatMul_conv1", "MatMul_conv2", "fc"]):
        np.testing.assert_array_equal(init_of(after, node), (matmuls[name] + 1) / 2)
    # -1 padding of a bipolar stream is bit 0
    assert getCustomOp(after.get_nodes_by_op_type("SlidingWindow")[1]).get_nodeattr("pad_values") == [0.0] * 4
    x = inputs(lowered, 8)
    assert_same_outputs(lowered, after, x)
    # the layer tensors keep their names, and the bipolar values become bits
    full_before, full_after = run_graph(lowered, x, full=True), run_graph(after, x, full=True)
    for name in ("act1_out", "act2_out"):
        np.testing.assert_array_equal(full_after[name], (full_before[name] + 1) / 2)


def test_integer_first_layer_keeps_its_thresholds():
    lowered = network(int_input=True)
    thr = init_of(lowered, lowered.get_nodes_by_op_type("PixelThreshold")[0])
    after = to_hw(lowered)
    first = after.get_nodes_by_op_type("MVAU")[0]
    op = getCustomOp(first)
    assert op.get_nodeattr("input_mode") == "int" and op.get_nodeattr("in_bits") == 8
    np.testing.assert_array_equal(init_of(after, first, 2), thr)
    assert "BipolarQuant" not in op_types(after) and "Add" not in op_types(after)  # no host-side sign
    assert_same_outputs(lowered, after, inputs(lowered, 8))


def test_published_order_keeps_period_and_pool():
    lowered = network(published=True)
    after = to_hw(lowered)
    first = getCustomOp(after.get_nodes_by_op_type("MVAU")[0])
    assert first.get_nodeattr("pool") == [2, 2] and first.get_nodeattr("period") == [1, 1]
    # the complemented channel (falling gamma) pads with +1 in conv2: bit 1
    assert getCustomOp(after.get_nodes_by_op_type("SlidingWindow")[1]).get_nodeattr("pad_values") == \
        [0.0, 1.0, 0.0, 0.0]
    assert_same_outputs(lowered, after, inputs(lowered, 8))


def test_zero_padding_of_a_binary_stream_is_refused():
    model = network(conv_pads=True).transform(ToMVAU())
    window = model.get_nodes_by_op_type("SlidingWindow")[1].name
    assert refusal(model.transform, BinaryStreamsAsBits()) == (
        f"node '{window}' (SlidingWindow): binary stream padded with [0.0]; only -1 padding (+1 on a complemented "
        "channel) keeps it binary")


def test_stream_kind():
    rng = np.random.default_rng(1)
    g = Graph([1, 6])
    relu = g.node("Relu", [g.input], name="relu")
    a = g.matmul(relu, binary_weights(rng, 6, 2), name="after_relu")
    b = g.matmul(g.input, binary_weights(rng, 6, 2), name="after_input")
    q = g.quant(g.input, 1.0, bits=5, name="q")
    c = g.matmul(g.node("Reshape", [q, g.const(np.array([1, 6]))]), binary_weights(rng, 6, 2), name="after_q")
    d = g.matmul(g.sign(g.input), binary_weights(rng, 6, 2), name="after_sign")
    model = g.model(g.node("Add", [g.node("Add", [a, b]), g.node("Add", [c, d])]))
    assert stream_kind(model, by_name(model, "after_q").input[0]) == ("int", 5)
    assert stream_kind(model, by_name(model, "after_sign").input[0]) == ("binary", 1)
    assert refusal(stream_kind, model, relu) == (
        "node 'relu' (Relu): feeds a layer but is neither a binary nor an integer stream")
    assert refusal(stream_kind, model, "x").startswith("node 'relu' (Relu): feeds a layer")  # its first reader
    assert refusal(model.transform, ToMVAU()).startswith("node 'relu' (Relu): feeds a layer but")


def test_to_mvau_leaves_non_binary_matmuls():
    g = Graph([1, 4])
    model = g.model(g.matmul(g.sign(g.input), np.full((4, 3), 0.5, np.float32), name="real"))
    assert op_types(model.transform(ToMVAU())) == ["BipolarQuant", "MatMul"]


def test_annotate_hw_records_shapes_and_widths():
    after = to_hw(network(int_input=True)).transform(AnnotateHW())
    windows = [getCustomOp(n) for n in after.get_nodes_by_op_type("SlidingWindow")]
    mvaus = [getCustomOp(n) for n in after.get_nodes_by_op_type("MVAU")]
    pool = getCustomOp(only(after, "StreamingMaxPool"))
    assert windows[0].get_nodeattr("in_shape") == [9, 9, 1] and windows[0].get_nodeattr("out_shape") == [7, 7, 9]
    assert windows[1].get_nodeattr("in_shape") == [7, 7, 4] and windows[1].get_nodeattr("out_shape") == [7, 7, 36]
    assert windows[0].get_nodeattr("bits") == 8 and windows[1].get_nodeattr("bits") == 1  # the MVAU's input width
    assert mvaus[0].get_nodeattr("in_shape") == [7, 7, 9] and mvaus[0].get_nodeattr("out_shape") == [7, 7, 4]
    assert mvaus[2].get_nodeattr("in_shape") == [27] and mvaus[2].get_nodeattr("out_shape") == [5]
    assert pool.get_nodeattr("in_shape") == [7, 7, 3] and pool.get_nodeattr("out_shape") == [3, 3, 3]
    assert pool.get_nodeattr("bits") == 1  # a pool of bits
    # |acc| <= 9 * 128 for the 8-bit first layer, 27 for the FC: signed widths
    assert mvaus[0].acc_width() == 12 and mvaus[2].acc_width() == 6


@pytest.mark.parametrize("pooled", [False, True])
def test_annotate_hw_dysign_unit_and_integer_pool(pooled):
    """DySign: the MVAU emits accumulators; its DynamicThreshold (and in the published order the max-pool of
    accumulators in front of it) take the accumulator's width; the unit records the MLP's hidden width."""
    streamlined = dysign(pooled=pooled).transform(CollapseDynamicSign())
    lowered = step_lower(streamlined, None)
    after = to_hw(lowered).transform(AnnotateHW())
    conv = getCustomOp(after.get_nodes_by_op_type("MVAU")[0])
    assert conv.get_nodeattr("output_mode") == "acc" and conv.acc_width() == 6  # |acc| <= 18
    unit = getCustomOp(only(after, "DynamicThreshold"))
    assert unit.get_nodeattr("acc_bits") == 6 and unit.get_nodeattr("hidden") == 2
    assert unit.get_nodeattr("out_bits") == 1 and unit.get_nodeattr("data_layout") == "NHWC"
    assert unit.get_nodeattr("in_shape") == ([2, 2, 4] if pooled else [4, 4, 4])
    if pooled:
        pool = getCustomOp(only(after, "StreamingMaxPool"))
        assert pool.get_nodeattr("bits") == 6 and pool.get_nodeattr("in_shape") == [4, 4, 4]
    assert_same_outputs(streamlined, after, inputs(streamlined, 8))


def test_append_label_select():
    lowered = network(tail=[("Mul", np.float32(0.25)), ("Add", np.float32(-3.0))])
    hw = to_hw(lowered)
    after = hw.transform(AppendLabelSelect())
    assert op_types(after)[-2:] == ["MVAU", "LabelSelect"]
    select = getCustomOp(only(after, "LabelSelect"))
    assert select.get_nodeattr("NUM") == 5 and select.get_nodeattr("BITS") == 6
    assert after.get_tensor_shape(after.graph.output[0].name) == [1, 1]
    x = inputs(lowered, 8)
    scores = run(hw, x)
    labels = run(after, x)
    np.testing.assert_array_equal(labels[:, 0], np.argmax(scores, axis=1))
    assert len(np.unique(labels)) > 1


@pytest.mark.parametrize("tail, node", [
    ([("Mul", np.float32(-0.5))], "tail_Mul"),
    ([("Div", np.float32(0.0))], "tail_Div"),
    ([("Add", np.arange(5, dtype=np.float32).reshape(1, 5))], "tail_Add"),   # per class: changes the order
])
def test_label_select_refuses_post_processing_that_reorders(tail, node):
    hw = to_hw(network(tail=tail))
    op_type = node.split("_")[1]
    assert refusal(hw.transform, AppendLabelSelect()) == (
        f"node '{node}' ({op_type}): label select needs the scores' post-processing to keep their order (scalar "
        "Add/Sub, positive Mul/Div)")


def test_label_select_needs_integer_scores():
    rng = np.random.default_rng(2)
    g = Graph([1, 6])
    y = g.sign(g.node("Add", [g.matmul(g.sign(g.input), binary_weights(rng, 6, 3), name="fc"), np.float32(0.5)]),
               name="act")
    hw = to_hw(g.model(y).transform(AbsorbIntoThreshold()))
    assert refusal(hw.transform, AppendLabelSelect()) == (
        "node 'MVAU_fc' (MVAU): label select needs integer scores from the last layer")


def test_to_hw_step_names_the_layers():
    lowered = network()
    after = step_to_hw(lowered, SimpleNamespace(cfg=SimpleNamespace(label_select=True)))
    assert [n.name for n in after.get_nodes_by_op_type("MVAU")] == ["MVAU_0", "MVAU_1", "MVAU_2"]
    assert node_attr(only(after, "LabelSelect"), "NUM", None) == 5
    x = inputs(lowered, 8)
    np.testing.assert_array_equal(run(after, x)[:, 0], np.argmax(run(lowered, x), axis=1))
