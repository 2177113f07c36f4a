"""C simulation of ``hw_templates/hls/binary_maxpool.hpp`` against ``flow.ops.maxpool.maxpool_nhwc``."""
import numpy as np
import pytest

from flow.ops.maxpool import maxpool_nhwc
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (H, W, C, (KH, KW), (SH, SW), PE)
CASES = {
    "5x7c4k2s2_pe2": (5, 7, 4, (2, 2), (2, 2), 2),
    "6x6c3k3s2_pe3": (6, 6, 3, (3, 3), (2, 2), 3),
    "7x5c2k2x3s3x1_pe1": (7, 5, 2, (2, 3), (3, 1), 1),
}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    cases = [{"IFM_H": h, "IFM_W": w, "C": c, "KH": kh, "KW": kw, "STRIDE_H": sh, "STRIDE_W": sw, "PE": pe}
             for h, w, c, (kh, kw), (sh, sw), pe in CASES.values()]
    return build_driver(tmp_path_factory, request.param, "binary_maxpool", cases)


@pytest.mark.parametrize("case", list(CASES))
def test_binary_maxpool(driver, case, tmp_path):
    h, w, c, kernel, stride, pe = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    x = (rng.random((FRAMES, h, w, c)) < 0.2).astype(np.int64)  # sparse ones: windows of all zeros occur
    write_beats(tmp_path / "in.memh", x, pe, 1)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, maxpool_nhwc(x, kernel, stride), pe, 1)
