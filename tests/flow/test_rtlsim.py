"""End to end through Verilator: the stitched RTL is bit-exact with the reference, keeps the estimated
cycles per frame, survives stalls and back-pressure, and a corrupted weight file is caught and named."""
import json

import numpy as np
import pytest
import torch

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.models.export import export_model
from tests.helpers import DIGITS_CASES, assert_verify_names_layer, export_bnn_pynq, inner_mvau, random_model

pytestmark = pytest.mark.rtlsim


def build_rtl(model_or_path, out, in_shape=None, **cfg):
    """Export (when given a model) and build through rtlsim; returns the report."""
    path = model_or_path
    if isinstance(model_or_path, torch.nn.Module):
        path = out.parent / f"{out.name}.onnx"
        export_model(model_or_path, model_or_path.in_shape, path)
    steps = cfg.pop("steps", FRONT_END + ["rtl_codegen", "rtlsim"])  # synthesis: tests/flow/test_synth.py
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, rtlsim_frames=32, steps=steps, **cfg))
    return json.loads((out / "report.json").read_text())


def assert_cycles_match(report):
    measured, estimated = report["rtlsim"]["cycles_per_frame"], report["estimate"]["bottleneck_cycles"]
    assert report["rtlsim"]["mismatches"] == 0 and report["rtlsim"]["frames"] == 32
    assert abs(measured - estimated) <= 0.05 * estimated, f"measured {measured} vs estimated {estimated} cycles"


@pytest.mark.parametrize("act, order, fps", DIGITS_CASES)
def test_digits_rtl(act, order, fps, tmp_path, capsys):
    out = tmp_path / "build"
    report = build_rtl(random_model("digits", act, seed=31, order=order), out, target_fps=fps)
    assert_cycles_match(report)
    # random input stalls and output back-pressure change neither results nor termination
    assert main(["verify", str(out), "--frames", "32", "--stall", "0.3", "--backpressure", "0.4", "--seed", "3"]) == 0
    assert "32 frames bit-exact" in capsys.readouterr().out


def test_corrupted_weights_are_caught_and_named(tmp_path, capsys):
    out = tmp_path / "build"
    build_rtl(random_model("digits", "design", seed=32), out, target_fps=100000)
    design = json.loads((out / "rtl" / "design.json").read_text())
    victim = inner_mvau(design)
    memory = out / "rtl" / f"{victim['name']}_weights.mem"
    lines = memory.read_text().split()
    lines[::2] = [line[::-1] for line in lines[::2]]  # every other word garbled
    memory.write_text("\n".join(lines) + "\n")
    assert_verify_names_layer(main, [str(out), "--frames", "8"], victim, capsys)


@pytest.mark.parametrize("fps", [5000, 20000])
def test_bnn_pynq_lfc_rtl(fps, tmp_path):
    """brevitas_examples' LFC-1W1A, exported unmodified with random weights."""
    path = tmp_path / "lfc.onnx"
    export_bnn_pynq("lfc_1w1a", path, seed=5)
    report = build_rtl(str(path), tmp_path / "build", target_fps=fps, input_low=0.0)
    assert_cycles_match(report)


@pytest.mark.slow
@pytest.mark.parametrize("order", ["published", "finn"])
@pytest.mark.parametrize("fps", [3000, 10000])
def test_cnv_design_rtl(fps, order, tmp_path):
    out = tmp_path / "build"
    report = build_rtl(random_model("cnv", "design", seed=33, order=order), out, target_fps=fps)
    assert_cycles_match(report)
    assert main(["verify", str(out), "--frames", "4", "--stall", "0.3", "--backpressure", "0.4"]) == 0


def test_label_select_rtl(tmp_path):
    """The accelerator can end in a label select: its output is the argmax of the model's scores."""
    from signflow.cli.run import built_graph
    from signflow.sim.fast import FastGraph
    from tests.helpers import random_inputs

    model = random_model("digits", "dysign", seed=34)
    report = build_rtl(model, tmp_path / "build", target_fps=100000, label_select=True)
    assert_cycles_match(report)
    x = random_inputs(model.in_shape, 40, seed=4)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy().argmax(1)
    np.testing.assert_array_equal(FastGraph(built_graph(tmp_path / "build"))(x).ravel(), expected)


@pytest.fixture(scope="module")
def digits_rtl(tmp_path_factory):
    """A small digits build through rtlsim, for the cycle-limit checks below."""
    out = tmp_path_factory.mktemp("rtl") / "build"
    build_rtl(random_model("digits", "design", seed=35), out, target_fps=100000)
    return out


def _graph_and_inputs(out, frames):
    from signflow.cli.run import built_graph
    from tests.helpers import random_inputs

    graph = built_graph(out)
    return graph, random_inputs(graph.get_tensor_shape(graph.graph.input[0].name)[1:], frames, seed=7)


@pytest.mark.sim
@pytest.mark.parametrize("stall, backpressure", [(0.0, 0.0), (0.3, 0.4)])
def test_cycle_limit_exceeds_simulated_cycles(digits_rtl, stall, backpressure):
    from signflow.sim import rtlsim

    graph, x = _graph_and_inputs(digits_rtl, 16)
    design = json.loads((digits_rtl / "rtl" / "design.json").read_text())
    exe = rtlsim.build_harness(digits_rtl / "rtl", digits_rtl / "sim" / "obj_dir")
    ctx = rtlsim.reference(graph, x)
    expected = rtlsim.encode(ctx[design["output"]["tensor"]], design["output"])
    estimate = rtlsim.cycle_estimate(graph, len(x))
    cycles, words = rtlsim.run_harness(exe, digits_rtl / "rtl", digits_rtl / "sim" / "limit_run",
                                       rtlsim.encode(ctx[design["input"]["tensor"]], design["input"]),
                                       design["input"]["width"], len(expected), stall, backpressure, seed=5,
                                       estimate=estimate)
    assert words == expected
    assert rtlsim.cycle_limit(estimate, stall, backpressure) > cycles[-1]
    if not stall and not backpressure:
        assert estimate >= cycles[-1]  # the latency estimate is an upper bound


@pytest.mark.sim
def test_timeout_is_reported_as_a_timeout(digits_rtl, monkeypatch, capsys):
    """A run that hits the cycle limit is one line naming the limit and the estimate, and no layer."""
    from signflow.sim import rtlsim

    graph, _ = _graph_and_inputs(digits_rtl, 8)
    estimate = rtlsim.cycle_estimate(graph, 8)
    monkeypatch.setattr(rtlsim, "cycle_limit", lambda *args: 100)
    assert main(["verify", str(digits_rtl), "--frames", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"signflow verify: error: the RTL simulation timed out after 100 cycles waiting for output "
                   f"(estimate: {estimate})")
    assert "layer" not in err and "differs" not in err
