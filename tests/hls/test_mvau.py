"""C simulation of ``hw_templates/hls/mvau.hpp`` against the MVAU op's execution. Each case is a one-node graph of
an MVAU: the config and the memories are the op's ``core(model)``, as the code generator emits them."""
import functools

import numpy as np
import pytest

from signflow.packing import write_memh
from tests.flow.ops.conftest import one_mvau, run_model
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


@functools.cache
def make_case(case):
    """Deterministic case: the MVAU op, its one-node graph, FRAMES input frames and their golden output (the
    graph's execution)."""
    mw, mh, pe, simd, input_mode, in_bits, output_mode, pixels, period, pool = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    pixel = tuple(pixels or ())
    if input_mode == "binary":
        x = rng.integers(0, 2, (FRAMES, *pixel, mw))
    else:
        x = rng.integers(-(2 ** (in_bits - 1)), 2 ** (in_bits - 1), (FRAMES, *pixel, mw))
    consts = {"w": rng.integers(0, 2, (mw, mh))}
    if output_mode == "threshold":
        phases = period[0] * period[1]
        if input_mode == "binary":  # thresholds on the xnor count, including never (MW + 1) and always (0)
            consts["t"] = rng.integers(0, mw + 2, (mh, phases))
        else:
            peak = mw * 2 ** (in_bits - 1)
            consts["t"] = rng.integers(-peak // 4, peak // 4 + 1, (mh, phases))
    op, model = one_mvau(x, consts, mw, mh, pe, simd, input_mode, in_bits, output_mode, period, pool)
    return op, model, x, run_model(model, {"x": x})


def config(case):
    op, model, _, _ = make_case(case)
    return op.core(model)[1]


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "mvau", [config(case) for case in CASES])


@pytest.mark.parametrize("case", list(CASES))
def test_mvau(driver, case, tmp_path):
    op, model, x, golden = make_case(case)
    _, _, memories = op.core(model)
    source, sink = op.in_stream(), op.out_stream()
    write_beats(tmp_path / "in.memh", x, source.lanes, source.bits)
    for param, memory in memories.items():  # weights.memh, thresholds.memh (the driver reads them in threshold mode)
        if memory.used:
            write_memh(tmp_path / f"{param.lower().replace('_file', '')}.memh", memory.words, memory.width)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert len(got) == FRAMES * sink.beats
    assert_beats_equal(got, golden, sink.lanes, sink.bits)
