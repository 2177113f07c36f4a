"""flow/transforms/pool_order.py: the published DeSign order ``conv -> max-pool -> BN -> offset -> sign`` becomes
``conv -> PixelThreshold(pool) -> MaxPool [-> ChannelFlip Mul]``; the flips go into the next layer's weights and
padding; pools the form cannot express and complements nothing absorbs are refused naming the node."""
import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp

from signflow.errors import UserError
from signflow.graph import node_attr
from signflow.transforms.lower import LowerConv, LowerMaxPool
from signflow.transforms.pool_order import (
    AbsorbChannelFlips,
    MoveScalarMulPastMaxPool,
    ThresholdBeforePool,
    channel_flips,
    pool_window,
)
from signflow.transforms.streamline import AbsorbIntoThreshold, SplitQuantScale
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

#: per channel: rising; falling (AND pool, complemented); zero gamma always; zero gamma never; rising
GAMMA, BETA = [1.0, -1.0, 0.0, 0.0, 2.0], [-0.5, 2.0, 1.0, -1.0, 0.5]


def pooled(shape=(1, 2, 9, 9), gamma=GAMMA, beta=BETA, pool=2, offset=None, after="fc", int_input=False,
           pool_attrs=None, seed=0):
    """``[Quant | sign] -> conv -> MaxPool -> BN [-> Sub(per-pixel offset)] -> sign -> AFTER``; the BN has mean 0,
    variance 1 and epsilon 0, so it is exactly ``gamma * m + beta``."""
    rng = np.random.default_rng(seed)
    channels = len(gamma)
    g = Graph(list(shape))
    x = g.quant(g.input, 0.125, name="q_in") if int_input else g.sign(g.input, name="in_sign")
    acc = g.conv(x, binary_weights(rng, channels, shape[1], 3, 3), name="conv")
    attrs = {"strides": [pool, pool]} if pool_attrs is None else pool_attrs
    m = g.maxpool(acc, [pool, pool], name="pool", **attrs)
    z = g.bn(m, gamma, beta, np.zeros(channels), np.ones(channels), name="bn", epsilon=0.0)
    if offset is not None:
        z = g.node("Sub", [z, offset], name="offset")
    y = g.sign(z, name="act")
    if after == "conv":  # -1 padding, a second binary conv, then a fully connected layer
        y = g.pad(y, [0, 0, 1, 1, 0, 0, 1, 1], -1.0, name="pad")
        acc2 = g.conv(y, binary_weights(rng, 3, channels, 3, 3), name="conv2")
        y = g.sign(g.bn(acc2, [1, -1, 2], [0.5, 0.5, -1], [0, 1, 0], [1, 1, 1]), name="act2")
    if after in ("fc", "conv"):
        rows = int(np.prod(g.shape_of(y)[1:]))
        y = g.matmul(g.flatten(y, name="flat"), binary_weights(rng, rows, 4), name="fc")
    elif after == "relu":
        y = g.node("Relu", [y], name="relu")
    elif after == "flatten_relu":
        y = g.node("Relu", [g.flatten(y, name="flat")], name="relu")
    return g.model(y)


def tiled_offset(kernel, channels, height, width):
    kernel = np.asarray(kernel, dtype=np.float32)
    plane = kernel[np.arange(height)[:, None] % kernel.shape[0], np.arange(width)[None, :] % kernel.shape[1]]
    return np.stack([plane * (c + 1) for c in range(channels)])[None].astype(np.float32)


def test_threshold_before_pool_hand_computed_with_complement():
    before = pooled()
    after = before.transform(ThresholdBeforePool())
    assert op_types(after) == ["BipolarQuant", "Conv", "PixelThreshold", "MaxPool", "Mul", "Flatten", "MatMul"]
    thr = only(after, "PixelThreshold")
    assert thr.name == "Threshold_act" and thr.input[0] == by_name(after, "conv").output[0]
    assert node_attr(thr, "pool", None) == [2, 2] and node_attr(thr, "period", None) == [1, 1]
    assert by_name(after, "pool").input[0] == thr.output[0]
    # |acc| <= 18: m - 0.5 >= 0 <=> m >= 1; -m + 2 >= 0 <=> m <= 2, emitted as its complement m >= 3;
    # 1 >= 0 always (-18); -1 >= 0 never (19); 2m + 0.5 >= 0 <=> m >= 0
    assert init_of(after, thr).tolist() == [[1], [3], [-18], [19], [0]]
    flip = by_name(after, "ChannelFlip_act")
    assert flip.output[0] == "act_out"
    np.testing.assert_array_equal(init_of(after, flip), np.array([1, -1, 1, 1, 1], np.float32).reshape(1, 5, 1, 1))
    np.testing.assert_array_equal(init_of(after, by_name(after, "conv")), init_of(before, by_name(before, "conv")))
    assert_same_outputs(before, after, inputs(before, 10))


def test_threshold_before_pool_design_offset_odd_map():
    """conv 9x9 -> 7x7, 2x2 pool -> 3x3 (the last row and column dropped), a 2x2 DeSign offset in pooled
    coordinates: four phases per channel following the pooled pixel."""
    offset = tiled_offset([[0.6, -0.3], [1.0, 0.0]], 5, 3, 3)
    before = pooled(offset=offset, after="conv")
    after = before.transform(ThresholdBeforePool())
    thr = only(after, "PixelThreshold")
    assert node_attr(thr, "pool", None) == [2, 2] and node_attr(thr, "period", None) == [2, 2]
    assert init_of(after, thr).shape == (5, 4)
    assert "Sub" not in op_types(after) and op_types(after).count("BatchNormalization") == 1  # conv2's stays
    assert by_name(after, "ChannelFlip_act").output[0] == by_name(after, "pad").input[0]
    x = inputs(before, 10)
    expected = assert_same_outputs(before, after, x)
    # and the rest of the streamline step on top
    assert_same_outputs(expected, after.transform(AbsorbIntoThreshold()), x)


def test_threshold_before_pool_3x3_pool_that_floors():
    # 12x10 -> conv 10x8 -> 3x3 pool 3x2 (one row and two columns dropped); offset periodic 2 x 2 on the pooled map
    offset = tiled_offset([[0.5, -1.5], [2.5, 0.25]], 5, 3, 2)
    before = pooled(shape=(1, 1, 12, 10), pool=3, offset=offset)
    after = before.transform(ThresholdBeforePool())
    thr = only(after, "PixelThreshold")
    assert node_attr(thr, "pool", None) == [3, 3] and node_attr(thr, "period", None) == [2, 2]
    assert_same_outputs(before, after, inputs(before, 10))


def test_first_layer_scale_moves_behind_the_pool():
    before = pooled(int_input=True, gamma=[1.0, -2.0, 0.5], beta=[0.1, 0.2, -0.3])
    split = before.transform(SplitQuantScale())
    mul = split.find_consumers(by_name(split, "conv").output[0])[0]
    assert mul.op_type == "Mul"
    moved = split.transform(MoveScalarMulPastMaxPool())
    assert op_types(moved)[:5] == ["Div", "Quant", "Conv", "MaxPool", "Mul"]
    x = inputs(before, 8)
    expected = assert_same_outputs(before, moved, x)
    after = moved.transform(ThresholdBeforePool())
    assert op_types(after)[:5] == ["Div", "Quant", "Conv", "PixelThreshold", "MaxPool"]
    assert "BatchNormalization" not in op_types(after) and op_types(after).count("Mul") == 1  # the flip only
    assert_same_outputs(expected, after, x)


def _mul_pool(scale, readers=1):
    rng = np.random.default_rng(1)
    g = Graph([1, 2, 7, 7])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 3, 2, 3, 3), name="conv")
    scaled = g.node("Mul", [acc, scale], name="scale")
    y = g.maxpool(scaled, [2, 2], name="pool", strides=[2, 2])
    if readers == 2:
        y = g.node("Add", [g.flatten(y), g.flatten(g.maxpool(scaled, [5, 5]))])
    return g.model(y)


def test_move_scalar_mul_past_max_pool():
    before = _mul_pool(np.float32(0.3))
    after = before.transform(MoveScalarMulPastMaxPool())
    assert op_types(after) == ["BipolarQuant", "Conv", "MaxPool", "Mul"]
    assert by_name(after, "scale").output[0] == after.graph.output[0].name
    assert_same_outputs(before, after, inputs(before, 8))


@pytest.mark.parametrize("scale, readers", [
    (np.float32(-0.5), 1),                                           # max(-a) != -max(a)
    (np.float32(0.0), 1),
    (np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1), 1),        # not a scalar
    (np.float32(0.5), 2),                                            # the Mul has another reader
])
def test_move_scalar_mul_leaves_other_muls(scale, readers):
    model = _mul_pool(scale, readers)
    assert op_types(model.transform(MoveScalarMulPastMaxPool())) == op_types(model)


def test_no_falling_channel_needs_no_flip():
    before = pooled(gamma=[1.0, 0.0, 3.0], beta=[0.5, -0.5, -4.0], after="relu")  # nothing to absorb: fine
    after = before.transform(ThresholdBeforePool())
    assert op_types(after) == ["BipolarQuant", "Conv", "PixelThreshold", "MaxPool", "Relu"]
    assert by_name(after, "pool").output[0] == "act_out"
    assert_same_outputs(before, after, inputs(before, 10))


POOL_MESSAGE = ("node 'pool' (MaxPool): a max-pool before the sign (the published DeSign order) must have stride equal "
                "to its size, no padding, no dilation and floor mode (got kernel {}, stride {}); only then does "
                "thresholding before the pool give the same bits")


@pytest.mark.parametrize("attrs, stride", [
    ({"strides": [1, 1]}, [1, 1]),
    ({"strides": [2, 1]}, [2, 1]),
    ({"strides": [2, 2], "pads": [0, 0, 1, 1]}, [2, 2]),
    ({"strides": [2, 2], "ceil_mode": 1}, [2, 2]),
    ({"strides": [2, 2], "dilations": [2, 2]}, [2, 2]),
])
def test_pools_the_form_cannot_express_are_refused(attrs, stride):
    model = pooled(pool_attrs=attrs)
    assert refusal(pool_window, model, by_name(model, "pool")) == POOL_MESSAGE.format([2, 2], stride)
    assert refusal(model.transform, ThresholdBeforePool()) == POOL_MESSAGE.format([2, 2], stride)


def test_pool_window_of_a_non_overlapping_pool():
    model = pooled(pool=3, pool_attrs={"strides": [3, 3], "pads": [0, 0, 0, 0], "dilations": [1, 1], "ceil_mode": 0})
    assert pool_window(model, by_name(model, "pool")) == (3, 3)


def test_a_pool_without_strides_is_stride_one_and_refused():
    model = pooled(pool_attrs={}, offset=tiled_offset([[0.6, -0.3], [1.0, 0.0]], 5, 6, 6))
    assert model.get_tensor_shape(by_name(model, "pool").output[0]) == [1, 5, 6, 6]  # ONNX: stride 1
    assert refusal(model.transform, ThresholdBeforePool()) == POOL_MESSAGE.format([2, 2], [1, 1])


@pytest.mark.parametrize("after, blocker", [
    ("output", "the graph output"),
    ("relu", "'relu' (Relu)"),
    ("flatten_relu", "'flat' (Flatten)"),
])
def test_a_complement_nothing_absorbs_is_refused(after, blocker):
    model = pooled(after=after)
    assert refusal(model.transform, ThresholdBeforePool()) == (
        "node 'pool' (MaxPool): channels [1] of this pooled sign fall with the accumulator (negative BatchNorm "
        "gamma): their max-pool is an AND, which the next binary Conv or fully connected layer absorbs, but "
        f"they feed {blocker}")


def test_a_pooled_accumulator_with_other_readers_is_refused():
    rng = np.random.default_rng(2)
    g = Graph([1, 1, 6, 6])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 2, 1, 3, 3), name="conv")
    y = g.sign(g.maxpool(acc, [2, 2], name="pool", strides=[2, 2]), name="act")
    model = g.model(g.node("Add", [g.flatten(y), g.flatten(g.maxpool(acc, [4, 4], name="other"))]))
    assert refusal(model.transform, ThresholdBeforePool()) == (
        "node 'conv' (Conv): this accumulator, pooled before its sign, has other readers; only the sign may read it")


def test_a_chain_output_with_other_readers_is_refused_or_kept():
    rng = np.random.default_rng(3)
    g = Graph([1, 2, 6, 6])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 3, 2, 3, 3), name="conv")
    z = g.bn(g.maxpool(acc, [2, 2], name="pool", strides=[2, 2]), [1, 2, 3], [0.1, 0.2, 0.3], [0, 0, 0],
             [1, 1, 1], name="bn")
    before = g.model(g.node("Add", [g.sign(z, name="act"), z], name="both"))
    try:
        after = before.transform(ThresholdBeforePool())
    except UserError as err:
        assert "node '" in str(err)
        return
    produced = {o for n in after.graph.node for o in n.output} | {i.name for i in after.graph.initializer} | {"x"}
    assert all(i in produced for n in after.graph.node for i in n.input if i)
    assert_same_outputs(before, after, inputs(before, 8))


def test_channel_flips():
    g = Graph([1, 3, 2, 2])
    flips = [g.node("Mul", [g.input, v], name=f"m{k}") for k, v in enumerate([
        np.array([1, -1, -1], np.float32).reshape(1, 3, 1, 1),
        np.array([1, -0.5, 1], np.float32).reshape(1, 3, 1, 1),
        np.float32(-1),
        -np.ones((1, 3, 2, 2), np.float32),
    ])]
    model = g.model(g.node("Add", [g.node("Add", [flips[0], flips[1]]), g.node("Add", [flips[2], flips[3]])]))
    assert channel_flips(model, by_name(model, "m0")).tolist() == [1, -1, -1]
    assert all(channel_flips(model, by_name(model, f"m{k}")) is None for k in (1, 2, 3))
    assert channel_flips(model, model.find_consumers(flips[0])[0]) is None  # not a Mul


def test_absorb_channel_flips_into_a_padded_conv():
    """The flip before ``Pad(-1) -> conv2``: complemented channels pad with +1 and their weight rows are negated."""
    offset = tiled_offset([[0.6, -0.3], [1.0, 0.0]], 5, 3, 3)
    before = pooled(offset=offset, after="conv", gamma=[1.0, -1.0, -0.5, 0.0, 2.0], beta=[-0.5, 2.0, 0.5, 1.0, 0.5])
    streamlined = before.transform(ThresholdBeforePool()).transform(AbsorbIntoThreshold())
    lowered = streamlined.transform(LowerConv()).transform(LowerMaxPool())
    windows = [n for n in lowered.graph.node if n.op_type == "SlidingWindow"]
    assert getCustomOp(windows[1]).get_nodeattr("pad_values") == [-1.0] * 5
    matmul = lowered.find_consumers(windows[1].output[0])[0]
    weights = init_of(lowered, matmul).copy()
    after = lowered.transform(AbsorbChannelFlips())
    assert not any(n.name.startswith("ChannelFlip") for n in after.graph.node) and "Mul" not in op_types(after)
    windows = [n for n in after.graph.node if n.op_type == "SlidingWindow"]
    assert getCustomOp(windows[1]).get_nodeattr("pad_values") == [-1.0, 1.0, 1.0, -1.0, -1.0]
    # rows of the 3x3 window are (i, j, c): channels 1 and 2 negated in each of the 9 positions
    signs = np.tile([1, -1, -1, 1, 1], 9).astype(np.float32)
    np.testing.assert_array_equal(init_of(after, after.find_consumers(windows[1].output[0])[0]),
                                  weights * signs[:, None])
    x = inputs(before, 8)
    expected = assert_same_outputs(before, lowered, x)
    assert_same_outputs(expected, after, x)


@pytest.mark.parametrize("flatten", ["Flatten", "Reshape"])
def test_absorb_channel_flips_into_a_fully_connected_layer(flatten):
    rng = np.random.default_rng(4)
    g = Graph([1, 3, 4, 4])
    bits = g.sign(g.input)
    flip = g.node("Mul", [bits, np.array([-1, 1, -1], np.float32).reshape(1, 3, 1, 1)], name="ChannelFlip_act")
    flat = g.flatten(flip) if flatten == "Flatten" else g.node("Reshape", [flip, g.const(np.array([1, -1]))])
    fc_w = binary_weights(rng, 48, 5)
    before = g.model(g.matmul(flat, fc_w, name="fc"))
    after = before.transform(AbsorbChannelFlips())
    assert op_types(after) == ["BipolarQuant", flatten, "MatMul"]
    np.testing.assert_array_equal(init_of(after, by_name(after, "fc")),
                                  fc_w * np.repeat([-1, 1, -1], 16).astype(np.float32)[:, None])  # rows (c, h, w)
    assert_same_outputs(before, after, inputs(before, 8))


def test_absorb_channel_flips_internal_error():
    g = Graph([1, 2, 3, 3])
    flip = g.node("Mul", [g.sign(g.input), np.array([-1, 1], np.float32).reshape(1, 2, 1, 1)], name="flip")
    model = g.model(g.node("Relu", [flip], name="relu"))
    assert refusal(model.transform, AbsorbChannelFlips()) == (
        "node 'relu' (Relu): internal error: a channel flip reached a node that cannot absorb it")
