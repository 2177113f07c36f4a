"""PixelThreshold's golden model against a plain loop, directly and through qonnx."""
import itertools

import numpy as np
import pytest

from flow.ops.threshold import phase_index, threshold

PERIODS = [(1, 1), (2, 2), (3, 2), (2, 3)]


def naive_threshold(acc, thr, period, layout):
    """``acc[n, c, h, w] >= thr[c, (h % kh) * kw + (w % kw)]``, index by index, in Python ints."""
    kh, kw = period
    out = np.zeros(acc.shape, dtype=bool)
    if acc.ndim == 2:
        for n, c in itertools.product(*map(range, acc.shape)):
            out[n, c] = int(acc[n, c]) >= int(thr[c, 0])
        return out
    nchw = acc if layout == "NCHW" else acc.transpose(0, 3, 1, 2)
    batch, channels, height, width = nchw.shape
    for n, c, h, w in itertools.product(range(batch), range(channels), range(height), range(width)):
        index = (n, c, h, w) if layout == "NCHW" else (n, h, w, c)
        out[index] = int(nchw[n, c, h, w]) >= int(thr[c, (h % kh) * kw + (w % kw)])
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
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("height, width", [(7, 5), (6, 6), (5, 7)])
def test_threshold_conv(period, layout, height, width):
    rng = np.random.default_rng([*period, height, width, layout == "NHWC"])
    shape = (2, 3, height, width) if layout == "NCHW" else (2, height, width, 3)
    acc, thr = random_case(rng, shape, 3, period)
    got = threshold(acc, thr, period, layout)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, naive_threshold(acc, thr, period, layout))


@pytest.mark.parametrize("phases", [1, 4])
def test_threshold_fully_connected(phases):
    rng = np.random.default_rng(phases)
    acc, thr = random_case(rng, (4, 11), 11, (1, phases))
    np.testing.assert_array_equal(threshold(acc, thr, (1, 1)), naive_threshold(acc, thr, (1, 1), "NC"))


@pytest.mark.parametrize("out_bits, low", [(1, 0.0), (0, -1.0)])
@pytest.mark.parametrize("period", [(2, 2), (3, 2)])
def test_pixel_threshold_node(one_node, run, out_bits, low, period):
    rng = np.random.default_rng(7)
    acc, thr = random_case(rng, (1, 7, 5, 3), 3, period)
    model = one_node("PixelThreshold", {"acc": acc}, acc.shape, consts={"thr": thr},
                     period=list(period), data_layout="NHWC", out_bits=out_bits)
    expected = np.where(naive_threshold(acc, thr, period, "NHWC"), 1.0, low)
    got = run(model, {"acc": acc})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
