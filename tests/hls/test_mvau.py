"""C simulation of ``hw_templates/hls/mvau.hpp`` against the golden ``flow.ops.mvau.mvau``."""
import numpy as np
import pytest

from signflow.ops.hw import signed_width
from signflow.ops.mvau import mvau
from signflow.packing import mvau_threshold_words, mvau_weight_words, write_memh
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (MW, MH, PE, SIMD, input_mode, in_bits, output_mode, (OUT_H, OUT_W), period, pool)
CASES = {
    "bin_thr_conv": (32, 16, 4, 8, "binary", 1, "threshold", (3, 5), (2, 2), (1, 1)),
    "bin_thr_fc_odd": (18, 6, 3, 9, "binary", 1, "threshold", None, (1, 1), (1, 1)),
    "int_thr_conv": (27, 8, 2, 3, "int", 8, "threshold", (2, 3), (2, 2), (1, 1)),
    "bin_acc_fc": (16, 10, 5, 4, "binary", 1, "acc", None, (1, 1), (1, 1)),
    "int_acc_conv": (12, 4, 1, 12, "int", 4, "acc", (2, 2), (1, 1), (1, 1)),
    # before an OR pool: the phase of the pooled pixel, odd maps
    "bin_thr_pool2x2": (18, 4, 2, 9, "binary", 1, "threshold", (5, 7), (2, 2), (2, 2)),
    "int_thr_pool2x2_p3x3": (12, 3, 3, 4, "int", 4, "threshold", (7, 5), (3, 3), (2, 2)),
    "bin_thr_pool3x2_p2x3": (8, 4, 4, 8, "binary", 1, "threshold", (7, 8), (2, 3), (3, 2)),
}


def acc_bits(mw, input_mode, in_bits):
    peak = mw if input_mode == "binary" else mw * 2 ** (in_bits - 1)
    return signed_width(-peak, peak + 1)


def config(case):
    mw, mh, pe, simd, input_mode, in_bits, output_mode, pixels, (kh, kw), (pool_h, pool_w) = CASES[case]
    out_h, out_w = pixels or (1, 1)
    return {"MW": mw, "MH": mh, "PE": pe, "SIMD": simd, "INPUT_MODE": int(input_mode == "int"), "IN_BITS": in_bits,
                "OUTPUT_MODE": int(output_mode == "acc"), "ACC_BITS": acc_bits(mw, input_mode, in_bits),
                "OUT_H": out_h, "OUT_W": out_w, "PERIOD_H": kh, "PERIOD_W": kw, "POOL_H": pool_h, "POOL_W": pool_w}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "mvau", [config(case) for case in CASES])


@pytest.mark.parametrize("case", list(CASES))
def test_mvau(driver, case, tmp_path):
    mw, mh, pe, simd, input_mode, in_bits, output_mode, pixels, period, pool = CASES[case]
    cfg, rng = config(case), np.random.default_rng(sum(map(ord, case)))
    shape = (FRAMES, *pixels, mw) if pixels else (FRAMES, mw)
    if input_mode == "binary":
        x = rng.integers(0, 2, shape)
    else:
        x = rng.integers(-(2 ** (in_bits - 1)), 2 ** (in_bits - 1), shape)
    weights = rng.integers(0, 2, (mw, mh))
    phases = period[0] * period[1]
    if input_mode == "binary":  # thresholds on the xnor count, including never (MW + 1) and always (0)
        thresholds = rng.integers(0, mw + 2, (mh, phases))
    else:
        peak = mw * 2 ** (in_bits - 1)
        thresholds = rng.integers(-peak // 4, peak // 4 + 1, (mh, phases))
    write_beats(tmp_path / "in.memh", x, simd, in_bits)
    write_memh(tmp_path / "weights.memh", mvau_weight_words(weights, pe, simd), pe * simd)
    write_memh(tmp_path / "thresholds.memh", mvau_threshold_words(thresholds, pe, cfg["ACC_BITS"]),
               pe * cfg["ACC_BITS"])
    golden = mvau(x, weights, thresholds,
                  {"input_mode": input_mode, "output_mode": output_mode, "period": period, "pool": pool})
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    if output_mode == "acc":
        assert_beats_equal(got, golden, pe, cfg["ACC_BITS"])
    else:
        assert_beats_equal(got, golden, pe, 1)
