"""PixelThreshold's golden model against a plain loop, directly and through qonnx; with a pool, thresholding
before an OR pool equals thresholding the max-pooled map."""
import itertools

import numpy as np
import pytest
from onnx import helper
from qonnx.custom_op.registry import getCustomOp

from signflow.ops.base import DOMAIN
from signflow.ops.maxpool import maxpool_nhwc
from signflow.ops.threshold import phase_index, threshold

PERIODS = [(1, 1), (2, 2), (3, 2), (2, 3)]
POOLS = [(1, 1), (2, 2), (3, 2)]


def naive_threshold(acc, thr, period, layout, pool=(1, 1)):
    """``acc[n, c, h, w] >= thr[c, (h // ph % kh) * kw + (w // pw % kw)]``, index by index, in Python ints."""
    (kh, kw), (ph, pw) = period, pool
    out = np.zeros(acc.shape, dtype=bool)
    if acc.ndim == 2:
        for n, c in itertools.product(*map(range, acc.shape)):
            out[n, c] = int(acc[n, c]) >= int(thr[c, 0])
        return out
    nchw = acc if layout == "NCHW" else acc.transpose(0, 3, 1, 2)
    batch, channels, height, width = nchw.shape
    for n, c, h, w in itertools.product(range(batch), range(channels), range(height), range(width)):
        index = (n, c, h, w) if layout == "NCHW" else (n, h, w, c)
        out[index] = int(nchw[n, c, h, w]) >= int(thr[c, (h // ph % kh) * kw + (w // pw % kw)])
    return out


def random_case(rng, shape, channels, period):
    acc = rng.integers(-20, 21, size=shape)
    thr = rng.integers(-22, 23, size=(channels, period[0] * period[1]))
    return acc, thr


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("height, width", [(7, 5), (4, 6), (1, 3)])
def test_phase_index(period, height, width):
    kh, kw = period
    expected = [[(h % kh) * kw + (w % kw) for w in range(width)] for h in range(height)]
    assert phase_index(height, width, period).tolist() == expected


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("height, width", [(7, 5), (5, 7), (1, 3)])
def test_phase_index_pooled(period, pool, height, width):
    (kh, kw), (ph, pw) = period, pool
    expected = [[(h // ph % kh) * kw + (w // pw % kw) for w in range(width)] for h in range(height)]
    assert phase_index(height, width, period, pool).tolist() == expected


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("height, width", [(7, 5), (6, 6), (5, 7)])
def test_threshold_conv(period, pool, layout, height, width):
    rng = np.random.default_rng([*period, *pool, height, width, layout == "NHWC"])
    shape = (2, 3, height, width) if layout == "NCHW" else (2, height, width, 3)
    acc, thr = random_case(rng, shape, 3, period)
    got = threshold(acc, thr, period, layout, pool)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, naive_threshold(acc, thr, period, layout, pool))


@pytest.mark.parametrize("period", [(2, 2), (3, 3), (3, 2)])
@pytest.mark.parametrize("pool", [(2, 2), (3, 2)])
@pytest.mark.parametrize("height, width", [(5, 7), (6, 8), (9, 5)])
def test_threshold_before_or_pool(period, pool, height, width):
    """``max_i a_i >= t == OR_i (a_i >= t)``: the published order (pool, then DeSign on the pooled map) equals
    thresholding with the pooled pixel's phase, then an OR pool (rows and columns past the last window dropped)."""
    rng = np.random.default_rng([*period, *pool, height, width])
    acc, thr = random_case(rng, (3, height, width, 4), 4, period)
    pooled_first = threshold(maxpool_nhwc(acc, pool, pool), thr, period, "NHWC")
    thresholded_first = maxpool_nhwc(threshold(acc, thr, period, "NHWC", pool), pool, pool)
    assert 0 < pooled_first.sum() < pooled_first.size
    np.testing.assert_array_equal(thresholded_first, pooled_first)


@pytest.mark.parametrize("phases", [1, 4])
def test_threshold_fully_connected(phases):
    rng = np.random.default_rng(phases)
    acc, thr = random_case(rng, (4, 11), 11, (1, phases))
    np.testing.assert_array_equal(threshold(acc, thr, (1, 1)), naive_threshold(acc, thr, (1, 1), "NC"))


@pytest.mark.parametrize("out_bits, low", [(1, 0.0), (0, -1.0)])
@pytest.mark.parametrize("period, pool", [((2, 2), (1, 1)), ((3, 2), (1, 1)), ((2, 2), (2, 2))])
def test_pixel_threshold_node(one_node, run, out_bits, low, period, pool):
    rng = np.random.default_rng(7)
    acc, thr = random_case(rng, (1, 7, 5, 3), 3, period)
    model = one_node("PixelThreshold", {"acc": acc}, acc.shape, consts={"thr": thr},
                     period=list(period), pool=list(pool), data_layout="NHWC", out_bits=out_bits)
    expected = np.where(naive_threshold(acc, thr, period, "NHWC", pool), 1.0, low)
    got = run(model, {"acc": acc})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def threshold_op(**attrs):
    return getCustomOp(helper.make_node("PixelThreshold", ["acc", "thr"], ["y"], domain=DOMAIN, **attrs))


@pytest.mark.parametrize("pe", [1, 4])
def test_pool_costs_a_few_counter_bits(pe):
    attrs = dict(in_shape=[12, 12, 16], PE=pe, acc_bits=10)
    plain = threshold_op(period=[2, 2], **attrs).resources()
    pooled = threshold_op(period=[2, 2], pool=[2, 2], **attrs).resources()
    assert 0 < pooled["luts"] - plain["luts"] <= 20 and 0 < pooled["ffs"] - plain["ffs"] <= 4
    assert pooled["brams18"] == plain["brams18"]
    # one phase: no phase counter, nothing to pool
    assert threshold_op(pool=[2, 2], **attrs).resources() == threshold_op(**attrs).resources()


def test_core_parameters_carry_the_pool(one_node):
    model = one_node("PixelThreshold", {"acc": np.zeros((1, 5, 7, 4))}, (1, 5, 7, 4), consts={"thr": np.zeros((4, 9))},
                     in_shape=[5, 7, 4], period=[3, 3], pool=[2, 3], data_layout="NHWC")
    _, params, _ = getCustomOp(model.graph.node[0]).core(model)
    assert [params[k] for k in ("H", "W", "PERIOD_H", "PERIOD_W", "POOL_H", "POOL_W")] == [5, 7, 3, 3, 2, 3]
