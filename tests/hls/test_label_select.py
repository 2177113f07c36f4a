"""C simulation of ``hw_templates/hls/label_select.hpp`` against numpy's argmax (ties: lowest index)."""
import numpy as np
import pytest

from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 6
# name -> (NUM, PE, BITS)
CASES = {"num10_pe1": (10, 1, 8), "num10_pe5": (10, 5, 8), "num12_pe4_bits3": (12, 4, 3)}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "label_select", [{"NUM": n, "PE": pe, "BITS": b} for n, pe, b in CASES.values()])


@pytest.mark.parametrize("case", list(CASES))
def test_label_select(driver, case, tmp_path):
    num, pe, bits = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)
    scores = rng.integers(low, high, (FRAMES, num))
    scores[1] = high - 1  # all tied at the maximum
    scores[2] = low  # all tied at the minimum
    scores[3, [2, num - 1]] = high - 1  # tie across beats
    scores[4, [pe - 1, pe]] = high - 1  # tie at a beat boundary
    write_beats(tmp_path / "in.memh", scores, pe, bits)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, np.argmax(scores, axis=-1), 1, max(1, int(np.ceil(np.log2(num)))))
