"""flow/transforms/lower.py: NCHW ``[Pad] -> Conv`` and ``MaxPool`` become NHWC sliding window + MatMul and
StreamingMaxPool wrapped in transposes; the transposes move through thresholds, cancel in pairs and leave the
flatten before the first FC, so only the input transpose remains."""
import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp

from signflow.builder.steps import step_lower
from signflow.errors import UserError
from signflow.graph import node_attr
from signflow.transforms.lower import (
    TO_NCHW,
    TO_NHWC,
    CancelTransposes,
    FlattenNHWC,
    LowerConv,
    LowerMaxPool,
    MoveTransposePastThreshold,
)
from signflow.transforms.pool_order import ThresholdBeforePool
from signflow.transforms.streamline import AbsorbIntoThreshold
from tests.flow.transforms.builders import (
    Graph,
    assert_same_outputs,
    binary_weights,
    by_name,
    init_of,
    inputs,
    only,
    op_types,
    refusal,
)


def _conv(pad=None, conv_attrs=None, int_input=False, cin=2, cout=3, shape=(6, 7), pad_readers=1, seed=0,
          pad_attrs=None):
    """``[sign | Quant] [-> Pad] -> Conv 3x3`` (and a second Conv on the same Pad when ``pad_readers`` is 2)."""
    rng = np.random.default_rng(seed)
    g = Graph([1, cin, *shape])
    x = g.quant(g.input, 1.0, bits=3, name="q") if int_input else g.sign(g.input, name="s")
    if pad is not None:
        pads, value = pad
        padded = g.pad(x, pads, value, name="pad", **(pad_attrs or {}))
    w = binary_weights(rng, cout, cin, 3, 3)
    y = g.conv(padded if pad is not None else x, w, name="conv", **(conv_attrs or {}))
    if pad_readers == 2:  # a second conv reads the same Pad
        y = g.node("Add", [y, g.conv(padded, binary_weights(rng, cout, cin, 3, 3), name="conv_b")])
    return g.model(y), w


def test_lower_conv_absorbs_a_minus_one_pad():
    before, w = _conv(pad=([0, 0, 1, 1, 0, 0, 1, 1], -1.0))
    after = before.transform(LowerConv())
    assert op_types(after) == ["BipolarQuant", "Transpose", "SlidingWindow", "MatMul", "Transpose"]
    t_in, window, matmul, t_out = after.graph.node[1:]
    assert node_attr(t_in, "perm", None) == TO_NHWC and node_attr(t_out, "perm", None) == TO_NCHW
    assert t_out.output[0] == "conv_out"
    sw = getCustomOp(window)
    assert window.name == "SlidingWindow_conv" and matmul.name == "MatMul_conv"
    assert sw.get_nodeattr("kernel") == [3, 3] and sw.get_nodeattr("stride") == [1, 1]
    assert sw.get_nodeattr("pads") == [1, 1, 1, 1] and sw.get_nodeattr("pad_values") == [-1.0, -1.0]
    # rows (i, j, c), columns the output channels
    rows = init_of(after, matmul)
    assert rows.shape == (18, 3)
    for i, j, c, o in [(0, 0, 0, 0), (1, 2, 1, 2), (2, 1, 0, 1)]:
        assert rows[(i * 3 + j) * 2 + c, o] == w[o, c, i, j]
    assert after.get_tensor_shape(window.output[0]) == [1, 6, 7, 18]
    assert_same_outputs(before, after, inputs(before, 8))


def test_lower_conv_own_pads_and_stride():
    # the Conv's own pads (t, l, b, r) pad with 0; stride 2
    before, _ = _conv(conv_attrs={"pads": [1, 0, 2, 1], "strides": [2, 2]}, int_input=True, shape=(7, 8))
    after = before.transform(LowerConv())
    sw = getCustomOp(only(after, "SlidingWindow"))
    assert sw.get_nodeattr("pads") == [1, 0, 2, 1] and sw.get_nodeattr("pad_values") == [0.0, 0.0]
    assert sw.get_nodeattr("stride") == [2, 2]
    assert_same_outputs(before, after, inputs(before, 8, low=-4, high=4))


def test_lower_conv_asymmetric_pad_node_and_no_pad():
    before, _ = _conv(pad=([0, 0, 1, 0, 0, 0, 0, 2], -1.0))
    after = before.transform(LowerConv())
    assert "Pad" not in op_types(after)
    assert getCustomOp(only(after, "SlidingWindow")).get_nodeattr("pads") == [1, 0, 0, 2]
    assert_same_outputs(before, after, inputs(before, 8))
    before, _ = _conv()
    after = before.transform(LowerConv())
    sw = getCustomOp(only(after, "SlidingWindow"))
    assert sw.get_nodeattr("pads") == [0, 0, 0, 0] and sw.get_nodeattr("pad_values") == []
    assert_same_outputs(before, after, inputs(before, 8))


def test_a_pad_with_other_readers_stays():
    before, _ = _conv(pad=([0, 0, 1, 1, 0, 0, 1, 1], -1.0), pad_readers=2)
    after = before.transform(LowerConv())
    assert op_types(after).count("Pad") == 1 and "Conv" not in op_types(after)
    windows = after.get_nodes_by_op_type("SlidingWindow")
    assert len(windows) == 2 and all(getCustomOp(w).get_nodeattr("pads") == [0, 0, 0, 0] for w in windows)
    assert_same_outputs(before, after, inputs(before, 8))


GROUPED = "node 'conv' (Conv): grouped and dilated convolutions are not supported"


@pytest.mark.parametrize("kwargs, message", [
    ({"conv_attrs": {"group": 2}}, GROUPED),
    ({"conv_attrs": {"dilations": [2, 2]}, "shape": (8, 8)}, GROUPED),
    ({"pad": ([0, 0, 1, 1, 0, 0, 1, 1], -1.0), "conv_attrs": {"pads": [1, 1, 1, 1]}},
     "node 'conv' (Conv): padding both in a Pad node and in the Conv is not supported"),
    ({"pad": ([0, 1, 1, 1, 0, 0, 1, 1], -1.0), "cin": 1}, "node 'pad' (Pad): only spatial padding is supported"),
    ({"pad": ([0, 0, 1, 1, 0, 0, 1, 1], 0.0), "pad_attrs": {"mode": "reflect"}},
     "node 'pad' (Pad): only constant padding with constant pad amounts is supported"),
])
def test_lower_conv_refusals(kwargs, message):
    if kwargs.get("conv_attrs", {}).get("group") == 2:  # grouped weights: [Cout, Cin / group, kh, kw]
        rng = np.random.default_rng(0)
        g = Graph([1, 2, 5, 5])
        model = g.model(g.conv(g.sign(g.input), binary_weights(rng, 2, 1, 3, 3), name="conv", group=2))
    else:
        model, _ = _conv(**kwargs)
    assert refusal(model.transform, LowerConv()) == message


def _pool(kernel, shape=(1, 3, 5, 5), **attrs):
    g = Graph(list(shape))
    return g.model(g.maxpool(g.quant(g.input, 1.0, bits=4, name="q"), kernel, name="pool", **attrs))


@pytest.mark.parametrize("kernel, attrs, stride, out", [
    ([2, 2], {"strides": [2, 2]}, [2, 2], [1, 2, 2, 3]),   # 5x5 floors to 2x2
    ([3, 3], {"strides": [2, 2]}, [2, 2], [1, 2, 2, 3]),   # overlapping windows: fine in FINN's order
    ([3, 2], {"strides": [1, 3]}, [1, 3], [1, 3, 2, 3]),
])
def test_lower_max_pool(kernel, attrs, stride, out):
    before = _pool(kernel, **attrs)
    after = before.transform(LowerMaxPool())
    assert op_types(after) == ["Quant", "Transpose", "StreamingMaxPool", "Transpose"]
    pool = getCustomOp(only(after, "StreamingMaxPool"))
    assert only(after, "StreamingMaxPool").name == "StreamingMaxPool_pool"
    assert pool.get_nodeattr("kernel") == kernel and pool.get_nodeattr("stride") == stride
    assert after.get_tensor_shape(only(after, "StreamingMaxPool").output[0]) == out
    assert_same_outputs(before, after, inputs(before, 8, low=-8, high=8))


def test_lower_max_pool_without_strides_is_stride_one():
    before = _pool([2, 2])
    assert before.get_tensor_shape(by_name(before, "pool").output[0]) == [1, 3, 4, 4]  # ONNX: stride 1
    after = before.transform(LowerMaxPool())
    assert getCustomOp(only(after, "StreamingMaxPool")).get_nodeattr("stride") == [1, 1]
    assert_same_outputs(before, after, inputs(before, 4, low=-8, high=8))


@pytest.mark.parametrize("attrs", [{"strides": [2, 2], "pads": [0, 0, 1, 1]}, {"strides": [2, 2], "ceil_mode": 1}])
def test_lower_max_pool_refusals(attrs):
    assert refusal(_pool([2, 2], **attrs).transform, LowerMaxPool()) == (
        "node 'pool' (MaxPool): padded or ceil-mode max-pooling is not supported")


@pytest.mark.parametrize("op", ["Conv", "MaxPool"])
def test_auto_pad_is_lowered_or_refused(op):
    if op == "Conv":
        model, _ = _conv(conv_attrs={"auto_pad": "SAME_UPPER"}, shape=(5, 5))
        transform = LowerConv()
    else:
        model, transform = _pool([2, 2], strides=[2, 2], auto_pad="SAME_UPPER"), LowerMaxPool()
    try:
        after = model.transform(transform)
    except UserError as err:
        assert f"({op})" in str(err)
        return
    assert_same_outputs(model, after, inputs(model, 4, low=-8, high=8))


def _nhwc_threshold(readers=1, perm=TO_NCHW, period=(2, 2), pool=(1, 1), output=False):
    """NHWC integers -> Transpose -> PixelThreshold (NCHW, per-phase thresholds) [-> Relu unless ``output``]."""
    rng = np.random.default_rng(1)
    g = Graph([1, 5, 6, 3])  # N, H, W, C
    x = g.quant(g.input, 1.0, bits=4, name="q")
    t = g.shape(g.node("Transpose", [x], name="to_nchw", perm=perm), [1, 3, 5, 6])
    thr = rng.integers(-4, 5, size=(3, period[0] * period[1])).astype(np.float32)
    y = g.signflow("PixelThreshold", [t, thr], name="thr", period=list(period), pool=list(pool))
    if readers == 2:
        y = g.node("Add", [y, t])
    return g.model(y if output else g.node("Relu", [y], name="relu"))


@pytest.mark.parametrize("period, pool", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((2, 3), (2, 2))])
def test_move_transpose_past_threshold(period, pool):
    before = _nhwc_threshold(period=period, pool=pool)
    after = before.transform(MoveTransposePastThreshold())
    assert op_types(after) == ["Quant", "PixelThreshold", "Transpose", "Relu"]
    thr = by_name(after, "thr")
    assert getCustomOp(thr).get_nodeattr("data_layout") == "NHWC"
    assert thr.input[0] == "q_out" and after.get_tensor_shape(thr.output[0]) == [1, 5, 6, 3]
    assert by_name(after, "relu").input[0] == only(after, "Transpose").output[0]
    assert_same_outputs(before, after, inputs(before, 8, low=-8, high=8))


def test_move_transpose_past_a_threshold_that_is_the_graph_output():
    before = _nhwc_threshold(output=True)
    after = before.transform(MoveTransposePastThreshold())
    assert op_types(after) == ["Quant", "PixelThreshold", "Transpose"]
    assert after.graph.output[0].name == only(after, "Transpose").output[0]
    assert_same_outputs(before, after, inputs(before, 8, low=-8, high=8))


def test_move_transpose_past_threshold_leaves_others():
    # the transpose has another reader
    model = _nhwc_threshold(readers=2)
    assert op_types(model.transform(MoveTransposePastThreshold())) == op_types(model)
    # a transpose that is not NHWC -> NCHW (a square map, so the shapes agree)
    rng = np.random.default_rng(2)
    g = Graph([1, 4, 4, 4])
    t = g.shape(g.node("Transpose", [g.quant(g.input, 1.0, bits=4)], perm=[0, 3, 2, 1]), [1, 4, 4, 4])
    model = g.model(g.signflow("PixelThreshold", [t, rng.integers(-4, 5, (4, 1)).astype(np.float32)], name="thr"))
    after = model.transform(MoveTransposePastThreshold())
    assert op_types(after) == op_types(model)
    assert getCustomOp(by_name(after, "thr")).get_nodeattr("data_layout") == "NCHW"


def test_cancel_transposes():
    g = Graph([1, 2, 3, 4])
    q = g.quant(g.input, 1.0, bits=4, name="q")
    a = g.node("Transpose", [g.node("Transpose", [q], name="t1", perm=TO_NHWC)], name="t2", perm=TO_NCHW)
    b = g.node("Transpose", [g.node("Transpose", [a], name="t3", perm=[0, 1, 3, 2])], name="t4", perm=[0, 1, 3, 2])
    c = g.node("Transpose", [g.node("Transpose", [b], name="t5", perm=TO_NHWC)], name="t6", perm=TO_NHWC)  # not inverse
    before = g.model(g.node("Relu", [c], name="relu"))
    after = before.transform(CancelTransposes())
    assert [n.name for n in after.graph.node] == ["q", "t5", "t6", "relu"]
    assert by_name(after, "t5").input[0] == "q_out"
    assert_same_outputs(before, after, inputs(before, 6, low=-8, high=8))


@pytest.mark.parametrize("flatten", ["Flatten", "Reshape"])
def test_flatten_nhwc_permutes_the_weight_rows(flatten):
    rng = np.random.default_rng(3)
    g = Graph([1, 2, 3, 4])  # NHWC: H 2, W 3, C 4
    t = g.node("Transpose", [g.quant(g.input, 1.0, bits=4, name="q")], name="to_nchw", perm=TO_NCHW)
    flat = g.flatten(t, name="flat") if flatten == "Flatten" else \
        g.node("Reshape", [t, g.const(np.array([1, -1]))], name="flat")
    weights = binary_weights(rng, 24, 5)
    before = g.model(g.matmul(flat, weights, name="fc"))
    after = before.transform(FlattenNHWC())
    assert op_types(after) == ["Quant", flatten, "MatMul"]
    assert by_name(after, "flat").input[0] == "q_out"
    rows = init_of(after, by_name(after, "fc"))
    for h, w, c in [(0, 0, 1), (1, 2, 3), (1, 0, 0)]:  # row (h, w, c) holds the old row (c, h, w)
        np.testing.assert_array_equal(rows[(h * 3 + w) * 4 + c], weights[(c * 2 + h) * 3 + w])
    assert_same_outputs(before, after, inputs(before, 8, low=-8, high=8))


def test_flatten_nhwc_needs_a_matmul_after():
    g = Graph([1, 2, 3, 4])
    t = g.node("Transpose", [g.quant(g.input, 1.0, bits=4)], perm=TO_NCHW)
    model = g.model(g.node("Relu", [g.flatten(t)]))
    assert op_types(model.transform(FlattenNHWC())) == op_types(model)


def _network(order):
    """sign -> conv -> [pool ->] BN -> sign -> Pad(-1) -> conv -> BN -> sign -> [pool] -> flatten -> FC, streamlined."""
    rng = np.random.default_rng(4)
    g = Graph([1, 2, 9, 9])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 4, 2, 3, 3), name="conv1")
    if order == "published":
        acc = g.maxpool(acc, [2, 2], strides=[2, 2], name="pool1")
    y = g.sign(g.bn(acc, [1, -1, 0.5, -2], [0.5, 1, -0.5, 2], [0, 1, -1, 0], [1, 2, 1, 3]), name="act1")
    acc = g.conv(g.pad(y, [0, 0, 1, 1, 0, 0, 1, 1], -1.0), binary_weights(rng, 3, 4, 3, 3), name="conv2")
    y = g.sign(g.bn(acc, [1, 2, -1], [0, 1, -1], [1, 0, 0], [1, 1, 1]), name="act2")
    if order == "finn":
        y = g.maxpool(y, [2, 2], strides=[2, 2], name="pool2")
    # published: 7x7 pooled to 3x3, padded conv 3x3; FINN: 7x7, padded conv 7x7 pooled to 3x3
    model = g.model(g.matmul(g.flatten(y), binary_weights(rng, 3 * 3 * 3, 4), name="fc"))
    return model.transform(ThresholdBeforePool()).transform(AbsorbIntoThreshold())


@pytest.mark.parametrize("order", ["finn", "published"])
def test_lower_step_leaves_only_the_input_transpose(order):
    before = _network(order)
    flips = [n for n in before.graph.node if n.name.startswith("ChannelFlip")]
    assert len(flips) == (order == "published")  # act1's falling channels are complemented before the pool
    after = step_lower(before, None)
    transposes = after.get_nodes_by_op_type("Transpose")
    assert len(transposes) == 1
    assert after.find_producer(transposes[0].input[0]).op_type == "BipolarQuant"
    assert not ({"Conv", "MaxPool", "Mul", "Pad"} & set(op_types(after)))
    assert op_types(after).count("SlidingWindow") == 2 and op_types(after).count("StreamingMaxPool") == 1
    assert all(getCustomOp(n).get_nodeattr("data_layout") == "NHWC" for n in after.get_nodes_by_op_type("PixelThreshold"))
    assert_same_outputs(before, after, inputs(before, 8))
