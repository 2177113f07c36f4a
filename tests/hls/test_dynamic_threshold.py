"""C simulation of ``hw_templates/hls/dynamic_threshold.hpp`` against ``flow.ops.dynamic_threshold``."""
import math

import numpy as np
import pytest

from signflow.ops.dynamic_threshold import dynamic_codes, dynamic_threshold, shift_round
from signflow.packing import dynamic_threshold_memories, write_memh
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 3


def mlp(stat_shift, q, r_shift, r, u_shift, u):
    """MLP parameters from (shift, (min, max)) per stage."""
    return {"stat_shift": stat_shift, "q_min": q[0], "q_max": q[1], "r_shift": r_shift, "r_min": r[0],
            "r_max": r[1], "u_shift": u_shift, "u_min": u[0], "u_max": u[1]}


# name -> (H, W, C, PE, HID, ACC_BITS, W_BITS, tight SUM_BITS, MLP parameters)
CASES = {
    # all shifts negative, q clipped to 7 bits, R_MIN < 0 (only the ReLU keeps r from going negative)
    "h3w5c6pe3": (3, 5, 6, 3, 2, 8, 4, False, mlp(-4, (-64, 63), -6, (-2, 15), -3, (-8, 7))),
    # PE = 1, positive STAT_SHIFT and U_SHIFT, R_MIN > 0, SUM_BITS exactly ACC_BITS + clog2(H*W)
    "h5w3c4pe1": (5, 3, 4, 1, 3, 6, 3, True, mlp(1, (-100, 90), -7, (1, 12), 1, (-20, 23))),
    # one beat per pixel (G = 1), W_BITS = 3, shifts -1 and -2 (ties are frequent)
    "h1w7c8pe8": (1, 7, 8, 8, 2, 5, 3, False, mlp(-1, (-20, 20), -2, (0, 31), -1, (-6, 9))),
    # wide accumulators, HID = 1, R_SHIFT = 0, a single code (U_MIN = U_MAX)
    "h3w3c12pe4_one_code": (3, 3, 12, 4, 1, 12, 5, False, mlp(-6, (-50, 50), 0, (0, 7), -3, (-2, -2))),
}


def config(case):
    h, w, c, pe, hid, acc_bits, w_bits, tight, p = CASES[case]
    sum_bits = acc_bits + math.ceil(math.log2(h * w)) + (0 if tight else 1)
    return {"H": h, "W": w, "C": c, "PE": pe, "ACC_BITS": acc_bits, "HID": hid, "W_BITS": w_bits,
            "SUM_BITS": sum_bits, **{key.upper(): value for key, value in p.items()}}


def make_case(case):
    """Weights, thresholds, directions and FRAMES frames, steered to hit clip bounds and rounding ties."""
    h, w, c, pe, hid, acc_bits, w_bits, _, p = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    w_lo, w_hi = -(1 << (w_bits - 1)), (1 << (w_bits - 1)) - 1
    w1 = rng.integers(w_lo, w_hi + 1, (c, hid))
    w2 = rng.integers(w_lo, w_hi + 1, (hid, c))
    w1[0, 0], w2[0, 0] = w_lo, w_hi  # the weight extremes
    direction = rng.permutation(np.resize([1, -1], c))  # both signs
    codes = p["u_max"] - p["u_min"] + 1
    # thresholds over the accumulator range and a little beyond, a few far outside (always / never)
    thr = rng.integers(lo - 2, hi + 4, (c, codes))
    far = rng.random((c, codes))
    thr = np.where(far < 0.05, lo - 1000, np.where(far > 0.95, hi + 1000, thr))
    # frames with per-channel means from small to full scale, so the codes differ between channels and frames
    scale = hi * rng.choice([1 / 16, 1 / 4, 1 / 2, 1], (FRAMES, 1, 1, c))
    mean = rng.uniform(-1, 1, (FRAMES, 1, 1, c)) * scale
    acc = np.clip(np.round(mean + rng.uniform(-hi / 3, hi / 3, (FRAMES, h, w, c))), lo, hi).astype(np.int64)
    acc[0, :, :, 0], acc[0, :, :, 1] = lo, hi  # the extreme sums (q clips both ways for most ranges)
    acc[1, 0, 0, :] = lo  # full-scale values
    if p["stat_shift"] < 0:  # move channel sums of the last frame onto round-half ties of q
        step = 1 << -p["stat_shift"]
        for ch in range(2, c, 2):
            delta = (step // 2 - acc[-1, :, :, ch].sum()) % step  # in [0, step)
            pixel = acc[-1, :, :, ch].reshape(-1)
            k = int(np.argmin(pixel))  # the smallest value has room to grow when step <= 2^(ACC_BITS-1)
            pixel[k] += delta
            acc[-1, :, :, ch] = pixel.reshape(h, w)
    assert acc.min() >= lo and acc.max() <= hi
    return w1, w2, thr, direction, acc


def stage_inputs(acc, w1, w2, p):
    """(value before rounding, shift, min, max) of q, r and u, as dynamic_codes computes them."""
    sums = acc.sum(axis=(1, 2))
    q_in = sums
    q = np.clip(shift_round(q_in, p["stat_shift"]), p["q_min"], p["q_max"])
    r_in = np.maximum(q @ w1, 0)
    r = np.clip(shift_round(r_in, p["r_shift"]), p["r_min"], p["r_max"])
    u_in = r @ w2
    return {"q": (q_in, p["stat_shift"], p["q_min"], p["q_max"]), "r": (r_in, p["r_shift"], p["r_min"], p["r_max"]),
            "u": (u_in, p["u_shift"], p["u_min"], p["u_max"])}


def coverage(case):
    """Events each MLP stage of the case's data reaches: 'tie' (round half to even), 'low' and 'high' (clips)."""
    w1, w2, _, _, acc = make_case(case)
    events = {}
    for stage, (x, shift, low, high) in stage_inputs(acc, w1, w2, CASES[case][-1]).items():
        rounded = shift_round(x, shift)
        hit = set()
        if shift < 0 and np.any(x % (1 << -shift) == 1 << (-shift - 1)):
            hit.add("tie")
        if np.any(rounded < low):
            hit.add("low")
        if np.any(rounded > high):
            hit.add("high")
        events[stage] = hit
    return events


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "dynamic_threshold", [config(case) for case in CASES])


@pytest.mark.parametrize("case", list(CASES))
def test_dynamic_threshold(driver, case, tmp_path):
    cfg = config(case)
    w1, w2, thr, direction, acc = make_case(case)
    p = CASES[case][-1]
    write_beats(tmp_path / "in.memh", acc, cfg["PE"], cfg["ACC_BITS"])
    memories = dynamic_threshold_memories(w1, w2, thr, direction, cfg["PE"], cfg["W_BITS"], cfg["ACC_BITS"])
    for stem, (words, width) in memories.items():
        write_memh(tmp_path / f"{stem}.memh", words, width)
    golden = dynamic_threshold(acc, w1, w2, thr, direction, p, layout="NHWC")
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, golden, cfg["PE"], 1)


def test_cases_reach_ties_clips_and_several_codes():
    """The data exercises what the integer MLP can get wrong: ties, both clip bounds, changing codes."""
    events = {stage: set() for stage in "qru"}
    for case in CASES:
        for stage, hit in coverage(case).items():
            events[stage] |= hit
    assert events == {"q": {"tie", "low", "high"}, "r": {"tie", "low", "high"}, "u": {"tie", "low", "high"}}, events
    for case in CASES:
        w1, w2, _, _, acc = make_case(case)
        p = CASES[case][-1]
        codes = dynamic_codes(acc.sum(axis=(1, 2)), w1, w2, p)
        if p["u_max"] > p["u_min"]:
            assert len(np.unique(codes)) >= 3, (case, codes)
