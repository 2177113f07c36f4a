"""DynamicThreshold's integer golden model against Fractions and plain loops, and the width of its channel sum."""
import itertools
from fractions import Fraction

import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp

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


PARAMS = {"stat_shift": -3, "q_min": -8, "q_max": 7, "r_shift": -2, "r_min": 0, "r_max": 11, "u_shift": -2,
          "u_min": -3, "u_max": 3}


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


# ---- the op: the width of the channel sum

def dynamic_threshold_node(one_node, height, width, channels, pe, acc_bits):
    """A one-node DynamicThreshold graph (HW attributes as to_hw sets them) and its op."""
    rng = np.random.default_rng([height, width, channels])
    w1, w2 = random_mlp(rng, channels)
    codes = PARAMS["u_max"] - PARAMS["u_min"] + 1
    consts = {"w1": w1, "w2": w2, "thr": rng.integers(-20, 21, size=(channels, codes)),
              "direction": rng.choice([-1, 1], size=channels)}
    model = one_node("DynamicThreshold", {"x": np.zeros((1, height, width, channels))}, (1, height, width, channels),
                     consts=consts, PE=pe, acc_bits=acc_bits, hidden=w1.shape[1], data_layout="NHWC", out_bits=1,
                     **PARAMS)
    op = getCustomOp(model.graph.node[0])
    op.set_nodeattr("in_shape", [height, width, channels])  # the HW attributes of AnnotateHW
    op.set_nodeattr("out_shape", [height, width, channels])
    return model, op


@pytest.mark.parametrize("height, width, acc_bits, extreme, sum_bits", [
    # 16 pixels of the most negative 6-bit accumulator: S = 16 * -32 = -512, the least of 10 signed bits
    (4, 4, 6, -512, 10),
    # 15 pixels of -128: S = -1920, below the -1024 of 11 bits; 12 bits (-2048..2047) hold it
    (3, 5, 8, -1920, 12),
    # one pixel: S is the accumulator itself
    (1, 1, 5, -16, 5),
])
def test_sum_bits_hold_the_extreme_sum(one_node, monkeypatch, height, width, acc_bits, extreme, sum_bits):
    model, op = dynamic_threshold_node(one_node, height, width, 4, 2, acc_bits)
    _, params, _ = op.core(model)
    assert params["SUM_BITS"] == op.sum_bits() == sum_bits
    # the extreme sum H*W * max |acc| (and the largest positive one) fit SUM_BITS signed bits, and not one fewer
    assert extreme == height * width * -(1 << (acc_bits - 1))
    assert -(1 << (sum_bits - 1)) <= extreme and height * width * ((1 << (acc_bits - 1)) - 1) < 1 << (sum_bits - 1)
    assert extreme < -(1 << (sum_bits - 2))
    # the cores accept it: dynamic_threshold.sv and .hpp require SUM_BITS >= ACC_BITS + clog2(H*W)
    assert params["SUM_BITS"] >= params["ACC_BITS"] + int(np.ceil(np.log2(params["H"] * params["W"])))
    # resources() costs the same width: a one bit wider sum costs PE more flip-flops (and LUTs) in both
    costed = op.resources()
    monkeypatch.setattr(op, "sum_bits", lambda: sum_bits + 1)
    wider = op.resources()
    assert op.core(model)[1]["SUM_BITS"] == sum_bits + 1
    assert (wider["ffs"] - costed["ffs"], wider["luts"] - costed["luts"]) == (2, 2)
