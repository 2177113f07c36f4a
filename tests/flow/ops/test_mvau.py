"""MVAU's golden model against plain loops, and its folding options, cycles and resource estimate."""
import itertools

import numpy as np
import pytest
from onnx import helper
from qonnx.custom_op.registry import getCustomOp

from signflow.ops.base import DOMAIN
from signflow.ops.mvau import mvau, mvau_dot


def naive_popcount(x, weights):
    """``[..., MH]``: how many of the ``MW`` input bits match the weight bits (popcount of xnor)."""
    mw, mh = weights.shape
    out = np.zeros(x.shape[:-1] + (mh,), dtype=np.int64)
    for index in np.ndindex(*x.shape[:-1]):
        for c in range(mh):
            out[index + (c,)] = sum(1 for k in range(mw) if int(x[index + (k,)]) == int(weights[k, c]))
    return out


def naive_int_dot(x, weights):
    """``[..., MH]``: ``sum_k x[k] * (2 w[k, c] - 1)`` of signed integers."""
    mw, mh = weights.shape
    out = np.zeros(x.shape[:-1] + (mh,), dtype=np.int64)
    for index in np.ndindex(*x.shape[:-1]):
        for c in range(mh):
            out[index + (c,)] = sum(int(x[index + (k,)]) * (2 * int(weights[k, c]) - 1) for k in range(mw))
    return out


def naive_compare(acc, thr, period, pool=(1, 1)):
    """``acc[n, ..., c] >= thr[c, phase]``; the phase follows the output pixel ``(oh, ow)`` of NHWC input, or the
    pooled pixel ``(oh // ph, ow // pw)`` it falls in."""
    (kh, kw), (ph, pw) = period, pool
    out = np.zeros(acc.shape, dtype=np.float32)
    for index in np.ndindex(*acc.shape):
        c = index[-1]
        phase = (index[1] // ph % kh) * kw + (index[2] // pw % kw) if acc.ndim == 4 else 0
        out[index] = float(int(acc[index]) >= int(thr[c, phase]))
    return out


def random_case(rng, x_shape, mh, input_mode):
    mw = x_shape[-1]
    x = rng.integers(0, 2, size=x_shape) if input_mode == "binary" else rng.integers(-128, 128, size=x_shape)
    weights = rng.integers(0, 2, size=(mw, mh))
    return x.astype(np.float32), weights.astype(np.float32)


SHAPES = [(5, 27), (3, 4, 27), (2, 3, 5, 27), (4, 64), (2, 4, 4, 8)]  # [N, ..., MW]; MW odd and even


@pytest.mark.parametrize("x_shape", SHAPES)
def test_binary_dot(x_shape):
    x, weights = random_case(np.random.default_rng(list(x_shape)), x_shape, 6, "binary")
    popcount = naive_popcount(x, weights)
    np.testing.assert_array_equal(mvau_dot(x, weights, "binary"), 2 * popcount - x_shape[-1])
    params = {"input_mode": "binary", "output_mode": "acc", "period": [1, 1], "pool": [1, 1]}
    np.testing.assert_array_equal(mvau(x, weights, None, params), 2 * popcount - x_shape[-1])


@pytest.mark.parametrize("x_shape", SHAPES)
def test_int_dot(x_shape):
    x, weights = random_case(np.random.default_rng(list(x_shape)), x_shape, 6, "int")
    params = {"input_mode": "int", "output_mode": "acc", "period": [1, 1], "pool": [1, 1]}
    np.testing.assert_array_equal(mvau(x, weights, None, params), naive_int_dot(x, weights))


def extreme_thresholds(rng, mh, phases, low, high):
    """Random thresholds in ``[low, high]`` plus, in the first channels, ones below ``low`` and above ``high``."""
    thr = rng.integers(low, high + 1, size=(mh, phases))
    thr[0], thr[1], thr[2, 0] = low - 5, high + 5, high + 1
    return thr.astype(np.float32)


@pytest.mark.parametrize("x_shape, period, pool", [
    pytest.param((6, 27), (1, 1), (1, 1), id="fc"),
    pytest.param((2, 7, 5, 27), (1, 1), (1, 1), id="nhwc"),
    pytest.param((2, 7, 5, 27), (2, 2), (1, 1), id="nhwc-period2x2"),
    pytest.param((2, 5, 6, 8), (3, 2), (1, 1), id="nhwc-period3x2"),
    pytest.param((2, 5, 7, 8), (2, 2), (2, 2), id="nhwc-period2x2-pool2x2"),
    pytest.param((2, 7, 5, 8), (3, 3), (2, 2), id="nhwc-period3x3-pool2x2"),
])
@pytest.mark.parametrize("input_mode", ["binary", "int"])
def test_threshold_output(x_shape, period, pool, input_mode):
    rng = np.random.default_rng([*x_shape, *period, *pool])
    mw, mh = x_shape[-1], 6
    x, weights = random_case(rng, x_shape, mh, input_mode)
    phases = period[0] * period[1]
    if input_mode == "binary":  # thresholds count matching bits: p >= t
        acc, thr = naive_popcount(x, weights), extreme_thresholds(rng, mh, phases, 0, mw)
    else:  # thresholds on the signed sum
        acc = naive_int_dot(x, weights)
        thr = extreme_thresholds(rng, mh, phases, int(acc.min()), int(acc.max()))
    params = {"input_mode": input_mode, "output_mode": "threshold", "period": list(period), "pool": list(pool)}
    got = mvau(x, weights, thr, params)
    expected = naive_compare(acc, thr, period, pool)
    assert expected.min() == 0 and expected.max() == 1
    np.testing.assert_array_equal(got, expected)


# ---- the op: execution through qonnx, folding and estimates

def mvau_op(**attrs):
    return getCustomOp(helper.make_node("MVAU", ["x", "w", "t"], ["y"], domain=DOMAIN, **attrs))


@pytest.mark.parametrize("output_mode, pool", [("threshold", (1, 1)), ("threshold", (2, 2)), ("acc", (1, 1))])
def test_mvau_node(one_node, run, output_mode, pool):
    rng = np.random.default_rng(11)
    x, weights = random_case(rng, (1, 7, 5, 27), 6, "binary")
    thr = extreme_thresholds(rng, 6, 4, 0, 27)
    consts = {"w": weights, "t": thr} if output_mode == "threshold" else {"w": weights}
    model = one_node("MVAU", {"x": x}, (1, 7, 5, 6), consts=consts, MW=27, MH=6, output_mode=output_mode,
                     period=[2, 2], pool=list(pool))
    popcount = naive_popcount(x, weights)
    expected = naive_compare(popcount, thr, (2, 2), pool) if output_mode == "threshold" else 2 * popcount - 27
    np.testing.assert_array_equal(run(model, {"x": x}), expected)


LAYERS = [  # MW, MH, channels (0: fully connected), out_shape
    (27, 64, 3, [30, 30, 64]),
    (576, 64, 64, [12, 12, 64]),
    (72, 10, 8, [5, 5, 10]),
    (256, 10, 0, [10]),
    (1024, 64, 0, [64]),
]


@pytest.mark.parametrize("mw, mh, channels, out_shape", LAYERS)
def test_folding_options(mw, mh, channels, out_shape):
    options = mvau_op(MW=mw, MH=mh, channels=channels, out_shape=out_shape).folding_options()
    for option in options:
        assert mh % option["PE"] == 0 and mw % option["SIMD"] == 0
        if channels:
            assert channels % option["SIMD"] == 0 or option["SIMD"] == mw
    pes = {pe for pe in range(1, mh + 1) if mh % pe == 0}
    # a conv layer's SIMD takes channels of one pixel (divides channels) or the whole window (MW)
    simds = {s for s in range(1, mw + 1) if (channels % s == 0 or s == mw if channels else mw % s == 0)}
    assert sorted((o["PE"], o["SIMD"]) for o in options) == sorted(itertools.product(pes, simds))


@pytest.mark.parametrize("mw, mh, out_shape, pe, simd, cycles", [
    (27, 64, [30, 30, 64], 4, 3, 16 * 9 * 900),
    (27, 64, [30, 30, 64], 64, 27, 900),
    (576, 64, [12, 12, 64], 1, 1, 64 * 576 * 144),
    (256, 10, [10], 2, 16, 5 * 16),
    (256, 10, [10], 10, 256, 1),
])
def test_expected_cycles(mw, mh, out_shape, pe, simd, cycles):
    assert mvau_op(MW=mw, MH=mh, PE=pe, SIMD=simd, out_shape=out_shape).expected_cycles() == cycles


@pytest.mark.parametrize("mw, mh, channels, out_shape", LAYERS)
@pytest.mark.parametrize("output_mode, input_mode", [("threshold", "binary"), ("acc", "binary"), ("threshold", "int")])
def test_resources(mw, mh, channels, out_shape, output_mode, input_mode):
    attrs = dict(MW=mw, MH=mh, channels=channels, out_shape=out_shape, output_mode=output_mode,
                 input_mode=input_mode, in_bits=8, period=[2, 2])
    luts = {}
    for option in mvau_op(**attrs).folding_options():
        res = mvau_op(**attrs, **option).resources()
        assert set(res) == {"luts", "ffs", "brams18"}
        assert all(isinstance(v, int) and v >= 0 for v in res.values()), res
        luts[option["PE"], option["SIMD"]] = res["luts"]
    # more parallelism (one of PE, SIMD larger, the other not smaller) never costs fewer LUTs
    for (pe_a, simd_a), (pe_b, simd_b) in itertools.permutations(luts, 2):
        if pe_a <= pe_b and simd_a <= simd_b:
            assert luts[pe_a, simd_a] < luts[pe_b, simd_b], ((pe_a, simd_a), (pe_b, simd_b))


@pytest.mark.parametrize("period", [[2, 2], [3, 3]])
def test_pool_costs_a_few_counter_bits(period):
    attrs = dict(MW=72, MH=16, PE=4, SIMD=8, channels=8, out_shape=[10, 10, 16], period=period)
    plain, pooled = mvau_op(**attrs).resources(), mvau_op(**attrs, pool=[2, 2]).resources()
    assert 0 < pooled["luts"] - plain["luts"] <= 20 and 0 < pooled["ffs"] - plain["ffs"] <= 4
    assert pooled["brams18"] == plain["brams18"]
    # no thresholds, or one phase: nothing to pool
    for other in (dict(output_mode="acc"), dict(period=[1, 1])):
        assert mvau_op(**{**attrs, **other}, pool=[2, 2]).resources() == mvau_op(**{**attrs, **other}).resources()


def test_core_parameters_carry_the_pool(one_node):
    consts = {"w": np.zeros((72, 16)), "t": np.zeros((16, 4))}
    model = one_node("MVAU", {"x": np.zeros((1, 5, 7, 72))}, (1, 5, 7, 16), consts=consts, MW=72, MH=16, PE=4,
                     SIMD=8, period=[2, 2], pool=[2, 3])
    op = getCustomOp(model.graph.node[0])
    op.set_nodeattr("out_shape", [5, 7, 16])  # an HW attribute (to_hw)
    _, params, _ = op.core(model)
    assert [params[k] for k in ("OUT_H", "OUT_W", "PERIOD_H", "PERIOD_W", "POOL_H", "POOL_W")] == [5, 7, 2, 2, 2, 3]
