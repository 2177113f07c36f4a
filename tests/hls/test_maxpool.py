"""C simulation of ``hw_templates/hls/maxpool.hpp`` (bits and signed integers) against
``flow.ops.maxpool.maxpool_nhwc``."""
import numpy as np
import pytest

from signflow.ops.maxpool import maxpool_nhwc
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (H, W, C, (KH, KW), (SH, SW), PE, BITS)
CASES = {
    "5x7c4k2s2_pe2": (5, 7, 4, (2, 2), (2, 2), 2, 1),
    "6x6c3k3s2_pe3": (6, 6, 3, (3, 3), (2, 2), 3, 1),
    "7x5c2k2x3s3x1_pe1": (7, 5, 2, (2, 3), (3, 1), 1, 1),
    "5x7c4k2s2_pe2_int8": (5, 7, 4, (2, 2), (2, 2), 2, 8),
    "7x5c6k3s2x1_pe3_int5": (7, 5, 6, (3, 3), (2, 1), 3, 5),
}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    cases = [{"IFM_H": h, "IFM_W": w, "C": c, "KH": kh, "KW": kw, "STRIDE_H": sh, "STRIDE_W": sw, "PE": pe,
              "BITS": bits} for h, w, c, (kh, kw), (sh, sw), pe, bits in CASES.values()]
    return build_driver(tmp_path_factory, request.param, "maxpool", cases)


@pytest.mark.parametrize("case", list(CASES))
def test_maxpool(driver, case, tmp_path):
    h, w, c, kernel, stride, pe, bits = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    if bits == 1:
        x = (rng.random((FRAMES, h, w, c)) < 0.2).astype(np.int64)  # sparse ones: windows of all zeros occur
    else:
        x = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), (FRAMES, h, w, c))
        x[1] = np.minimum(x[1], -1)  # negative values only: the max is no OR of the bits
    write_beats(tmp_path / "in.memh", x, pe, bits)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, maxpool_nhwc(x, kernel, stride), pe, bits)
