"""C simulation of ``hw_templates/hls/pixel_threshold.hpp`` against ``flow.ops.threshold.threshold``."""
import numpy as np
import pytest

from signflow.ops.threshold import threshold
from signflow.packing import mvau_threshold_words, write_memh
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (H, W, C, PE, ACC_BITS, period, pool)
CASES = {
    "3x5c6_pe3_period2x2": (3, 5, 6, 3, 8, (2, 2), (1, 1)),
    "fc_c8_pe8": (1, 1, 8, 8, 5, (1, 1), (1, 1)),
    "4x3c4_pe1_period1x3": (4, 3, 4, 1, 12, (1, 3), (1, 1)),
    # before an OR pool: the phase of the pooled pixel, odd maps
    "5x7c4_pe2_period2x2_pool2x2": (5, 7, 4, 2, 8, (2, 2), (2, 2)),
    "7x5c3_pe3_period3x3_pool2x2": (7, 5, 3, 3, 6, (3, 3), (2, 2)),
}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    cases = [{"H": h, "W": w, "C": c, "PE": pe, "ACC_BITS": bits, "PERIOD_H": kh, "PERIOD_W": kw, "POOL_H": ph,
              "POOL_W": pw} for h, w, c, pe, bits, (kh, kw), (ph, pw) in CASES.values()]
    return build_driver(tmp_path_factory, request.param, "pixel_threshold", cases)


@pytest.mark.parametrize("case", list(CASES))
def test_pixel_threshold(driver, case, tmp_path):
    h, w, c, pe, bits, period, pool = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)
    acc = rng.integers(low // 2, high // 2, (FRAMES, h, w, c))
    thresholds = rng.integers(low // 2, high // 2, (c, period[0] * period[1]))
    thresholds[0, 0], acc[0, 0, 0, 0] = low, low  # the extremes compare too
    write_beats(tmp_path / "in.memh", acc, pe, bits)
    write_memh(tmp_path / "thresholds.memh", mvau_threshold_words(thresholds, pe, bits), pe * bits)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, threshold(acc, thresholds, period, "NHWC", pool), pe, 1)
