"""DynamicThreshold's integer golden model against Fractions and plain loops."""
import itertools
from fractions import Fraction

import numpy as np
import pytest

from signflow.ops.dynamic_threshold import dynamic_codes, dynamic_threshold, shift_round


def naive_shift_round(x, shift):
    """``round(x * 2**shift)`` exactly; Python's round() of a Fraction rounds half to even."""
    return round(Fraction(int(x)) * Fraction(2) ** shift)


def clip(value, low, high):
    return min(max(value, low), high)


def naive_codes(sums, w1, w2, p):
    """The integer MLP of one frame, channel sums ``[C]`` -> codes ``[C]``, in Python ints."""
    channels, hidden = w1.shape
    q = [clip(naive_shift_round(s, p["stat_shift"]), p["q_min"], p["q_max"]) for s in sums]
    h = [max(sum(q[k] * int(w1[k, j]) for k in range(channels)), 0) for j in range(hidden)]
    r = [clip(naive_shift_round(v, p["r_shift"]), p["r_min"], p["r_max"]) for v in h]
    u = [clip(naive_shift_round(sum(r[j] * int(w2[j, c]) for j in range(hidden)), p["u_shift"]), p["u_min"], p["u_max"])
         for c in range(channels)]
    return [v - p["u_min"] for v in u]


PARAMS = dict(stat_shift=-3, q_min=-8, q_max=7, r_shift=-2, r_min=0, r_max=11, u_shift=-2, u_min=-3, u_max=3)


@pytest.mark.parametrize("shift", range(-5, 4))
def test_shift_round(shift):
    values = list(range(-200, 201))  # every residue, exact halves included, for all shifts
    values += [(2 * k + 1) << (-shift - 1) for k in range(-40, 40)] if shift < 0 else []
    values += np.random.default_rng(shift + 5).integers(-2**40, 2**40, size=500).tolist()
    got = shift_round(np.array(values), shift)
    assert got.tolist() == [naive_shift_round(x, shift) for x in values]
    assert int(shift_round(values[-1], shift)) == naive_shift_round(values[-1], shift)  # scalar input


def random_mlp(rng, channels, hidden=4):
    w1 = rng.integers(-3, 4, size=(channels, hidden))
    w2 = rng.integers(-3, 4, size=(hidden, channels))
    return w1, w2


@pytest.mark.parametrize("seed", range(3))
def test_dynamic_codes(seed):
    rng = np.random.default_rng(seed)
    sums = rng.integers(-300, 301, size=(8, 6))
    w1, w2 = random_mlp(rng, 6)
    got = dynamic_codes(sums, w1, w2, PARAMS)
    assert got.tolist() == [naive_codes(s, w1, w2, PARAMS) for s in sums]


def naive_dynamic_threshold(acc, w1, w2, thr, direction, p, layout):
    nchw = acc if layout == "NCHW" else acc.transpose(0, 3, 1, 2)
    batch, channels, height, width = nchw.shape
    out = np.zeros(acc.shape, dtype=bool)
    for n in range(batch):
        sums = [sum(int(nchw[n, c, h, w]) for h in range(height) for w in range(width)) for c in range(channels)]
        codes = naive_codes(sums, w1, w2, p)
        for c, h, w in itertools.product(range(channels), range(height), range(width)):
            index = (n, c, h, w) if layout == "NCHW" else (n, h, w, c)
            out[index] = int(direction[c]) * int(nchw[n, c, h, w]) >= int(thr[c, codes[c]])
    return out


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("height, width", [(5, 3), (4, 4)])
def test_dynamic_threshold(layout, height, width):
    rng = np.random.default_rng([height, width, layout == "NHWC"])
    channels, codes = 6, PARAMS["u_max"] - PARAMS["u_min"] + 1
    shape = (3, channels, height, width) if layout == "NCHW" else (3, height, width, channels)
    acc = rng.integers(-20, 21, size=shape)
    w1, w2 = random_mlp(rng, channels)
    thr = rng.integers(-20, 21, size=(channels, codes))
    direction = rng.choice([-1, 1], size=channels)
    got = dynamic_threshold(acc.astype(np.float32), w1, w2, thr, direction, PARAMS, layout)
    assert got.shape == acc.shape
    np.testing.assert_array_equal(got, naive_dynamic_threshold(acc, w1, w2, thr, direction, PARAMS, layout))
