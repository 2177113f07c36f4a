"""flow/transforms/streamline.py: weight quantizers folded, the input quantizer split around the first layer,
``layer -> affine chain -> sign`` absorbed into a PixelThreshold, and the checks that name what cannot be."""
import numpy as np
import pytest

from signflow.errors import UserError
from signflow.transforms.streamline import (
    AbsorbIntoThreshold,
    FoldWeightQuant,
    SplitQuantScale,
    accumulator,
    affine_chain,
    check_streamlined,
    flip_output_channels,
    value_bound,
)
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


def test_fold_weight_quant_replaces_quantizers_on_constants():
    rng = np.random.default_rng(0)
    g = Graph([1, 2, 5, 5])
    x = g.quant(g.input, 1.0, bits=4, name="q_in")  # not on a constant: stays
    weights = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    weights[0, 0, 0, 0] = 0.0  # sign(0) = +1
    w = g.sign(g.const(weights, "w_float"), name="w_sign")
    acc = g.node("Conv", [x, w], name="conv", kernel_shape=[3, 3])
    fc_w = rng.normal(size=(27, 2)).astype(np.float32)
    w4 = g.quant(g.const(fc_w, "fc_float"), 0.25, bits=4, narrow=1, name="w_int4")
    y = g.node("MatMul", [g.flatten(acc), w4], name="fc")
    before = g.model(y)
    after = before.transform(FoldWeightQuant())
    assert op_types(after) == ["Quant", "Conv", "Flatten", "MatMul"]
    expected_w = np.where(weights >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(init_of(after, by_name(after, "conv")), expected_w)
    np.testing.assert_array_equal(init_of(after, by_name(after, "fc")), np.clip(np.round(fc_w / 0.25), -7, 7) * 0.25)
    assert_same_outputs(before, after, inputs(before, 8, low=-8, high=8))


def _first_layer(scale, pad=None, zero=0.0, fc=False, weights=None):
    """``Quant(scale) [-> Pad] -> Conv | Flatten -> MatMul -> affine -> sign``: an 8-bit input layer."""
    rng = np.random.default_rng(1)
    g = Graph([1, 12] if fc else [1, 1, 6, 6])
    q = g.quant(g.input, scale, zero=zero, name="q_in")
    if pad is not None:
        q = g.pad(q, [0, 0, 1, 1, 0, 0, 1, 1], pad, name="pad")
    if fc:
        acc = g.matmul(g.flatten(q), binary_weights(rng, 12, 4) if weights is None else weights, name="layer")
        z = g.node("Add", [acc, rng.normal(size=(1, 4)).astype(np.float32)])
    else:
        acc = g.conv(q, binary_weights(rng, 3, 1, 3, 3) if weights is None else weights, name="layer")
        z = g.bn(acc, rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), rng.uniform(0.5, 2, 3))
    return g.model(g.sign(z, name="act"))


@pytest.mark.parametrize("fc", [False, True])
def test_split_input_quant_moves_the_scale_past_the_layer(fc):
    before = _first_layer(0.125, fc=fc)
    after = before.transform(SplitQuantScale())
    ops = op_types(after)
    assert ops[:2] == ["Div", "Quant"] and ops[ops.index("MatMul" if fc else "Conv") + 1] == "Mul"
    div, quant = after.graph.node[:2]
    assert float(init_of(after, div)) == 0.125 and float(init_of(after, quant)) == 1.0
    layer = by_name(after, "layer")
    mul = after.find_consumers(layer.output[0])[0]
    assert mul.op_type == "Mul" and float(init_of(after, mul)) == 0.125
    # the layer now accumulates the integers of the 8-bit code
    full = after.transform(FoldWeightQuant())
    assert value_bound(full, layer.input[0]) == 128
    assert_same_outputs(before, after, inputs(before, 10, low=-20, high=20))


def test_split_input_quant_rescales_the_pad_value():
    before = _first_layer(0.5, pad=-1.0)
    after = before.transform(SplitQuantScale())
    assert float(after.get_initializer(by_name(after, "pad").input[2])) == -2.0  # -1 in units of 0.5
    assert_same_outputs(before, after, inputs(before, 10, low=-40, high=40))


def test_split_input_quant_refusals():
    assert refusal(_first_layer(0.5, pad=0.25).transform, SplitQuantScale()) == (
        "node 'pad' (Pad): pad value 0.25 is not on the input quantizer's grid")
    expected = ("node 'q_in' (Quant): input quantizer needs a power-of-two scale and zero point 0 to stay exact "
                "in integer hardware (got {})")
    assert refusal(_first_layer(0.1).transform, SplitQuantScale()) == expected.format("scale [0.1]")
    assert refusal(_first_layer(0.125, zero=1.0).transform, SplitQuantScale()) == expected.format("zero point [1.0]")


def _scaled_signs(in_scale, hidden_scale, pool=False, pad=False):
    """``sign(s_in) -> Conv -> BN -> sign(s_hid) [-> MaxPool] [-> Pad(-s_hid)] -> Conv -> BN -> sign(s_hid)
    -> Flatten -> MatMul``: Brevitas' ``CommonActQuant`` at 1 bit with a scale, as input and hidden sign."""
    rng = np.random.default_rng(3)
    g = Graph([1, 2, 9, 9])

    def bn(x, n):
        return g.bn(x, rng.normal(size=n), rng.normal(size=n), rng.normal(size=n) * 3, rng.uniform(0.5, 2, n))

    x = g.sign(g.input, name="sign_in", scale=in_scale)
    x = g.sign(bn(g.conv(x, binary_weights(rng, 3, 2, 3, 3), name="conv0"), 3), name="sign0", scale=hidden_scale)
    if pool:
        x = g.maxpool(x, [2, 2], strides=[2, 2], name="pool")
    if pad:
        x = g.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], -hidden_scale, name="pad")
    x = g.sign(bn(g.conv(x, binary_weights(rng, 4, 3, 3, 3), name="conv1"), 4), name="sign1", scale=hidden_scale)
    width = {(False, False): 5, (True, False): 1, (False, True): 7, (True, True): 3}[pool, pad]
    return g.model(g.matmul(g.flatten(x), binary_weights(rng, 4 * width * width, 3), name="fc"))


@pytest.mark.parametrize("in_scale, hidden_scale, pool, pad", [
    (2.0, 0.5, False, False), (1.0, 4.0, True, False), (0.5, 2.0, False, True), (2.0, 0.25, True, True)])
def test_split_quant_scale_moves_sign_scales_past_the_next_layer(in_scale, hidden_scale, pool, pad):
    before = _scaled_signs(in_scale, hidden_scale, pool, pad)
    after = before.transform(SplitQuantScale())
    for name in ("sign_in", "sign0", "sign1"):  # every sign at scale 1, its inputs' layer bound +-1
        assert float(init_of(after, by_name(after, name))) == 1.0
    assert value_bound(after, by_name(after, "conv1").input[0]) == 1
    for layer, scale in (("conv0", in_scale), ("conv1", hidden_scale), ("fc", hidden_scale)):
        reader = after.find_consumers(by_name(after, layer).output[0])[0]  # a Mul restores a scale other than 1
        assert (reader.op_type == "Mul" and float(init_of(after, reader)) == scale) == (scale != 1.0)
    if pad:
        assert float(after.get_initializer(by_name(after, "pad").input[2])) == -1.0
    assert_same_outputs(before, after, inputs(before, 10, low=-2, high=2))


def test_split_quant_scale_keeps_the_scale_of_a_sign_that_is_the_output():
    g = Graph([1, 2, 5, 5])
    rng = np.random.default_rng(4)
    acc = g.conv(g.sign(g.input, name="sign_in"), binary_weights(rng, 3, 2, 3, 3), name="conv")
    before = g.model(g.sign(acc, name="out_sign", scale=0.5))
    after = before.transform(SplitQuantScale())
    assert op_types(after)[-2:] == ["BipolarQuant", "Mul"] and float(init_of(after, only(after, "Mul"))) == 0.5
    assert_same_outputs(before, after, inputs(before, 10))


def test_split_quant_scale_refuses_a_sign_scale_off_the_power_of_two_grid():
    assert refusal(_scaled_signs(1.0, 0.75).transform, SplitQuantScale()) == (
        "node 'sign0' (BipolarQuant): sign (BipolarQuant) needs a scalar power-of-two scale to stay exact in "
        "integer hardware (got scale [0.75])")


def test_split_input_quant_leaves_other_quantizers():
    # scale 1 already: nothing to split
    model = _first_layer(1.0)
    assert op_types(model.transform(SplitQuantScale())) == op_types(model)
    # a layer with non-binary weights (e.g. DySign's integer MLP) is not a binary layer: its quantizer stays
    model = _first_layer(0.1, weights=np.full((3, 1, 3, 3), 0.5, dtype=np.float32))
    assert op_types(model.transform(SplitQuantScale())) == op_types(model)


def test_value_bound_and_accumulator():
    rng = np.random.default_rng(2)
    g = Graph([1, 2, 4, 4])
    q8 = g.quant(g.input, 1.0, bits=8, signed=1, name="q8")
    u4 = g.quant(g.input, 1.0, bits=4, signed=0, name="u4")
    s = g.sign(g.input, name="s")
    pooled = g.maxpool(s, [2, 2], name="pool", strides=[2, 2])
    flipped = g.node("Mul", [pooled, np.array([1, -1], np.float32).reshape(1, 2, 1, 1)], name="flip")
    padded = g.pad(flipped, [0, 0, 1, 1, 0, 0, 1, 1], -3.0, name="pad")
    scaled = g.node("Mul", [q8, np.float32(0.5)], name="half")
    conv = g.conv(padded, binary_weights(rng, 5, 2, 3, 3), name="conv")
    g.matmul(g.flatten(u4), binary_weights(rng, 32, 3), name="fc")  # a side branch: only its layer is asked about
    model = g.model(g.node("Add", [g.flatten(conv), g.flatten(scaled)]))
    assert value_bound(model, q8) == 128 and value_bound(model, u4) == 15 and value_bound(model, s) == 1
    assert value_bound(model, pooled) == 1 and value_bound(model, flipped) == 1
    assert value_bound(model, padded) == 3  # the pad value is larger than the bits
    assert value_bound(model, scaled) is None and value_bound(model, g.input) is None
    assert accumulator(model, by_name(model, "conv")) == (2 * 9 * 3, 5)
    assert accumulator(model, by_name(model, "fc")) == (32 * 15, 3)


def test_accumulator_refusals():
    rng = np.random.default_rng(3)
    g = Graph([1, 2, 4, 4])
    s = g.sign(g.input)
    a = g.conv(s, rng.normal(size=(2, 2, 3, 3)), name="real_conv")
    b = g.conv(g.input, binary_weights(rng, 2, 2, 3, 3), name="float_in")
    c = g.node("Conv", [s, g.sign(g.input, name="dynamic_w")], name="dyn_conv", kernel_shape=[3, 3])
    model = g.model(g.node("Add", [g.node("Add", [a, b]), c]))
    assert refusal(accumulator, model, by_name(model, "real_conv")) == (
        "node 'real_conv' (Conv): weights are not binary (+-1); signflow supports binary weights "
        "(1-bit Brevitas weight quantizers) in every layer")
    assert refusal(accumulator, model, by_name(model, "float_in")) == (
        "node 'float_in' (Conv): input is not binary or integer-quantized; put a Brevitas sign or integer "
        "quantizer before it")
    assert refusal(accumulator, model, by_name(model, "dyn_conv")) == "node 'dyn_conv' (Conv): weights are not constant"


def test_affine_chain_stops_at_the_first_non_constant_op():
    g = Graph([1, 2, 3, 3])
    r = g.node("Relu", [g.input], name="relu")
    a = g.node("Mul", [r, np.float32(2)], name="m")
    b = g.node("Add", [a, g.input], name="dyn_add")  # second input not constant: ends the chain
    c = g.node("Sub", [b, np.float32(1)], name="sub")
    d = g.node("Div", [c, np.float32(3)], name="div")
    model = g.model(d)
    source, chain = affine_chain(model, d)
    assert source.name == "dyn_add" and [n.name for n in chain] == ["sub", "div"]
    source, chain = affine_chain(model, a)
    assert source.name == "relu" and [n.name for n in chain] == ["m"]


def test_flip_output_channels():
    rng = np.random.default_rng(4)
    g = Graph([1, 2, 3, 3])
    s = g.sign(g.input)
    conv_w, fc_w = binary_weights(rng, 3, 2, 3, 3), binary_weights(rng, 3, 4)
    conv = g.conv(s, conv_w, name="conv")
    model = g.model(g.matmul(g.flatten(conv), fc_w, name="fc"))
    direction = np.array([1, -1, -1])
    flip_output_channels(model, by_name(model, "conv"), direction)
    flip_output_channels(model, by_name(model, "fc"), np.array([-1, 1, 1, -1]))
    np.testing.assert_array_equal(init_of(model, by_name(model, "conv")), conv_w * direction[:, None, None, None])
    np.testing.assert_array_equal(init_of(model, by_name(model, "fc")), fc_w * np.array([-1, 1, 1, -1])[None, :])


def _conv_bn_sign(gamma, beta, mean, var, shape=(1, 2, 6, 6), offset=None, seed=5):
    rng = np.random.default_rng(seed)
    g = Graph(list(shape))
    s = g.sign(g.input, name="in_sign")
    acc = g.conv(s, binary_weights(rng, len(gamma), shape[1], 3, 3), name="conv")
    z = g.bn(acc, gamma, beta, mean, var, name="bn")
    if offset is not None:
        z = g.node("Sub", [z, offset], name="offset")
    return g.model(g.sign(z, name="act"))


def test_absorb_into_threshold_batchnorm_with_negative_and_zero_gamma():
    # per channel: rising; falling (gamma < 0); zero gamma with beta >= 0 (always); zero gamma, beta < 0 (never)
    before = _conv_bn_sign([1.0, -2.0, 0.0, 0.0], [0.5, 1.0, 0.25, -0.25], [-1.25, 0.5, 3.0, 0.0],
                           [1.0, 4.0, 1.0, 1.0])
    weights = init_of(before, by_name(before, "conv")).copy()
    after = before.transform(AbsorbIntoThreshold())
    assert op_types(after) == ["BipolarQuant", "Conv", "PixelThreshold"]
    thr_node = only(after, "PixelThreshold")
    assert thr_node.name == "Threshold_act" and thr_node.output[0] == "act_out"
    # |acc| <= 18 (2 channels x 3x3, binary): (a + 1.25) / 1 + 0.5 >= 0 <=> a >= -1.75 <=> a >= -1;
    # -2 (a - 0.5) / 2 + 1 >= 0 <=> a <= 1.5 <=> -a >= -1; 0.25 always: -18; -0.25 never: 19
    assert init_of(after, thr_node).tolist() == [[-1], [-1], [-18], [19]]
    # the falling channel's weights are negated, the others kept
    np.testing.assert_array_equal(init_of(after, by_name(after, "conv")),
                                  weights * np.array([1, -1, 1, 1], np.float32)[:, None, None, None])
    assert_same_outputs(before, after, inputs(before, 12))
    check_streamlined(after)  # the input sign before the first layer stays, and is allowed


def test_absorb_into_threshold_design_offset_on_an_odd_map():
    """conv 7x7 -> 5x5, a 2x2-periodic per-pixel offset: thresholds ``[C, 4]`` and ``period = [2, 2]``."""
    kernel = np.array([[0.3, -0.6], [1.2, 0.0]], dtype=np.float32)
    plane = kernel[np.arange(5)[:, None] % 2, np.arange(5)[None, :] % 2]
    offset = np.stack([plane, -2 * plane, 3 * plane])[None].astype(np.float32)
    before = _conv_bn_sign([0.5, -1.5, 2.0], [0.1, -0.3, 0.7], [0.2, -1.0, 0.5], [2.0, 0.5, 1.0],
                           shape=(1, 2, 7, 7), offset=offset)
    after = before.transform(AbsorbIntoThreshold())
    thr_node = only(after, "PixelThreshold")
    assert next(a.ints for a in thr_node.attribute if a.name == "period") == [2, 2]
    assert init_of(after, thr_node).shape == (3, 4)
    assert "Sub" not in op_types(after) and "BatchNormalization" not in op_types(after)
    assert_same_outputs(before, after, inputs(before, 12))


def test_absorb_into_threshold_fully_connected_with_integer_input():
    rng = np.random.default_rng(6)
    g = Graph([1, 10])
    q = g.quant(g.input, 1.0, bits=3, name="q")
    acc = g.matmul(q, binary_weights(rng, 10, 4), name="fc")
    y = g.node("Add", [g.node("Mul", [acc, np.array([[0.5, -1.0, 0.25, 2.0]], np.float32)]),
                       np.array([[1.0, 3.5, -0.5, 0.0]], np.float32)])
    before = g.model(g.sign(y, name="act"))
    after = before.transform(AbsorbIntoThreshold())
    assert op_types(after) == ["Quant", "MatMul", "PixelThreshold"]
    # bound 40: a/2 + 1 >= 0 <=> a >= -2; -a + 3.5 >= 0 <=> -a >= -3; a/4 - 0.5 >= 0 <=> a >= 2; 2a >= 0 <=> a >= 0
    assert init_of(after, only(after, "PixelThreshold")).tolist() == [[-2], [-3], [2], [0]]
    assert_same_outputs(before, after, inputs(before, 12, low=-4, high=4))


def test_a_non_monotone_chain_is_refused_naming_the_sign():
    # a per-pixel Mul of +1 and -1 within one channel: rises at some pixels, falls at others
    offset = np.array([[1.0, -1.0], [1.0, 1.0]], np.float32)[np.arange(4)[:, None] % 2, np.arange(4)[None, :] % 2]
    rng = np.random.default_rng(7)
    g = Graph([1, 1, 6, 6])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 1, 1, 3, 3), name="conv")
    before = g.model(g.sign(g.node("Mul", [acc, offset[None, None]], name="mul"), name="act"))
    assert refusal(before.transform, AbsorbIntoThreshold()) == (
        "node 'act': channel 0 is not monotone in the accumulator; it cannot become a threshold")


def test_check_streamlined_names_a_sign_that_could_not_be_folded():
    rng = np.random.default_rng(8)
    g = Graph([1, 1, 5, 5])
    acc = g.conv(g.sign(g.input, name="in_sign"), binary_weights(rng, 2, 1, 3, 3), name="conv")
    y = g.sign(g.node("Relu", [g.bn(acc, [1, 1], [0, 0], [0, 0], [1, 1])], name="relu"), name="late_sign")
    model = g.model(y).transform(AbsorbIntoThreshold())
    assert "PixelThreshold" not in op_types(model)  # a Relu is not part of an affine chain
    assert refusal(check_streamlined, model) == (
        "node 'late_sign' (BipolarQuant): this sign could not be folded into a threshold: the ops between it and "
        "the preceding binary layer must be constant elementwise ops (BatchNorm, Mul, Add, Sub, Div)")


def test_a_layer_with_two_readers_is_not_absorbed():
    rng = np.random.default_rng(9)
    g = Graph([1, 1, 5, 5])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 2, 1, 3, 3), name="conv")
    y = g.node("Add", [g.sign(g.node("Add", [acc, np.float32(0.5)]), name="act"), acc])
    model = g.model(y)
    after = model.transform(AbsorbIntoThreshold())
    assert op_types(after) == op_types(model)
    assert refusal(check_streamlined, after).startswith("node 'act' (BipolarQuant): this sign could not be folded")


def test_a_chain_with_other_readers_is_kept_or_refused():
    rng = np.random.default_rng(10)
    g = Graph([1, 2, 6, 6])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 3, 2, 3, 3), name="conv")
    z = g.bn(acc, [1, 2, 3], [0.1, 0.2, 0.3], [0, 0, 0], [1, 1, 1], name="bn")
    before = g.model(g.node("Add", [g.sign(z, name="act"), z], name="both"))
    try:
        after = before.transform(AbsorbIntoThreshold())
    except UserError as err:
        assert "node '" in str(err)
        return
    produced = {o for n in after.graph.node for o in n.output} | {i.name for i in after.graph.initializer} | {"x"}
    assert all(i in produced for n in after.graph.node for i in n.input if i)
    assert_same_outputs(before, after, inputs(before, 8))


@pytest.mark.parametrize("bits", [2, 4])
def test_a_multi_bit_hidden_activation_is_refused_by_name_in_streamline(bits):
    """A 2- or 4-bit QuantReLU after a layer: refused where the streamline step first sees it, as a hidden
    activation (not as an "input quantizer"), before estimate.txt or folding.json could be written."""
    rng = np.random.default_rng(bits)
    g = Graph([1, 2, 6, 6])
    acc = g.conv(g.sign(g.input), binary_weights(rng, 3, 2, 3, 3), name="conv")
    hidden = g.quant(g.node("Relu", [acc], name="relu"), 0.5, bits=bits, signed=0, name="act")
    model = g.model(g.conv(hidden, binary_weights(rng, 2, 3, 1, 1), name="conv2"))
    model = model.transform(SplitQuantScale())  # leaves it: it is no input quantizer
    assert op_types(model).count("Quant") == 1 and "Div" not in op_types(model)
    assert refusal(check_streamlined, model) == (
        f"node 'act' (Quant): a {bits}-bit activation after a layer is not supported: hidden activations must be "
        "signs (BipolarQuant, 1 bit); only the network's input may have more bits")
