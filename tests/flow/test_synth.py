"""Yosys synthesis estimate: per-layer figures beside the analytic ones, and a clear error without Yosys."""
import json
import shutil

import pytest

from signflow.builder import BuildConfig, run_build
from signflow.cli import main
from signflow.models.export import export_model
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
    # one run per distinct instance: the FIFOs of equal width and depth share one
    distinct = {json.dumps([i["module"], i["params"]], sort_keys=True) for i in design["instances"]}
    assert len(list((rtl_build / "synth").glob("*/netlist.json"))) == len(distinct) < len(design["instances"])
    assert synth["glue"]["luts"] > 0 and synth["glue"]["ffs"] > 0  # every layer has an input FIFO
    assert "total" in (rtl_build / "synth.txt").read_text()


def test_missing_yosys_is_one_line(rtl_build, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code = main(["build", str(rtl_build.parent / "m.onnx"), "--out", str(rtl_build), "--from-step",
                 "synth_estimate", "--quiet", "--no-verify"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Yosys is not installed" in err
