"""cocotb bench of pixel_threshold: bits equal flow.ops.threshold.threshold (NHWC) with the memory of
flow.packing.mvau_threshold_words, under idles and back-pressure."""
import json
import os

import cocotb
import numpy as np
import pytest

from signflow.ops.threshold import per_pixel_thresholds, threshold
from signflow.packing import mvau_threshold_words, pack_words, write_memh
from tests.rtl.axis import check_variants, run_bench

TEST_MODULE = "tests.rtl.test_pixel_threshold"
#: input beats per variant, at least (whole frames, 3 or more)
MIN_BEATS = 600


@cocotb.test()
async def run_test_pixel_threshold(dut):
    names = ("H", "W", "C", "PE", "ACC_BITS", "PERIOD_H", "PERIOD_W", "POOL_H", "POOL_W")
    p = {name: int(getattr(dut, name).value) for name in names}
    height, width, channels, pe, bits = p["H"], p["W"], p["C"], p["PE"], p["ACC_BITS"]
    period, pool = (p["PERIOD_H"], p["PERIOD_W"]), (p["POOL_H"], p["POOL_W"])
    thr = np.load(os.environ["THRESHOLDS_NPY"])
    assert thr.shape == (channels, period[0] * period[1])
    beats_per_frame = height * width * channels // pe
    frames = max(3, -(-MIN_BEATS // beats_per_frame))
    rng = np.random.default_rng(sum(p.values()))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    acc = rng.integers(lo, hi + 1, (frames, height, width, channels))
    # half of the accumulators sit at their threshold or one off it: the >= boundary is exercised
    near = per_pixel_thresholds(thr, height, width, period, "NHWC", pool)[None] + rng.integers(-1, 2, acc.shape)
    acc = np.where(rng.random(acc.shape) < 0.5, np.clip(near, lo, hi), acc)
    golden = threshold(acc, thr, period, "NHWC", pool).astype(np.int64)
    assert 0 < golden.sum() < golden.size
    words_in = pack_words(acc.reshape(-1), pe, bits)
    words_out = pack_words(golden.reshape(-1), pe, 1)

    await check_variants(dut, words_in, words_out, beats_per_frame, beats_per_frame)

@pytest.mark.parametrize("h, w, c, pe, acc_bits, period, pool", [
    (3, 5, 6, 3, 8, (2, 2), (1, 1)),   # DeSign: 4 phases, odd frame size (the period does not divide it)
    (1, 1, 10, 2, 12, (1, 1), (1, 1)),  # fully connected: one pixel, one phase
    (4, 3, 4, 1, 5, (3, 2), (1, 1)),   # 6 phases, PE 1
    (5, 7, 4, 2, 8, (2, 2), (2, 2)),   # before a 2x2 OR pool: phase per pooled pixel, odd map
    (5, 7, 3, 3, 6, (3, 3), (2, 2)),   # 9 phases over the pooled map
], ids=["3x5c6pe3a8p2x2", "1x1c10pe2a12p1x1", "4x3c4pe1a5p3x2", "5x7c4pe2a8p2x2pool2x2",
        "5x7c3pe3a6p3x3pool2x2"])
def test_pixel_threshold(h, w, c, pe, acc_bits, period, pool, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("pixel_threshold")
    rng = np.random.default_rng(c * 100 + acc_bits)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    thr = rng.integers(lo, hi + 1, (c, period[0] * period[1]))
    thr.flat[0], thr.flat[-1] = lo, hi  # the extremes: always and almost never passed
    np.save(build_dir / "thresholds.npy", thr)
    memh = build_dir / "thresholds.memh"
    write_memh(memh, mvau_threshold_words(thr, pe, acc_bits), pe * acc_bits)
    parameters = {"H": h, "W": w, "C": c, "PE": pe, "ACC_BITS": acc_bits, "PERIOD_H": period[0],
                  "PERIOD_W": period[1], "POOL_H": pool[0], "POOL_W": pool[1],
                  # a string parameter reaches Verilator as -GNAME="text": the runner runs no shell, so the
                  # quotes must be in the value
                  "THRESHOLDS_FILE": json.dumps(str(memh))}
    run_bench("pixel_threshold", parameters, TEST_MODULE, build_dir,
                             extra_env={"THRESHOLDS_NPY": str(build_dir / "thresholds.npy")})
