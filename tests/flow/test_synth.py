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


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs Debian's yosys (installed by make)")
def test_synth_estimate_per_layer(rtl_build):
    run_build(rtl_build.parent / "m.onnx", BuildConfig(output_dir=str(rtl_build), quiet=True, verify=False,
                                                       from_step="synth_estimate"))
    synth = json.loads((rtl_build / "report.json").read_text())["synth"]
    assert synth["part"] == "xc7z020clg400-1" and synth["luts"] > 0 and synth["ffs"] > 0
    assert {layer["op"] for layer in synth["layers"]} == {"SlidingWindow", "MVAU", "StreamingMaxPool"}
    assert all(layer["luts"] > 0 and layer["est_luts"] > 0 for layer in synth["layers"])
    assert synth["luts"] == sum(layer["luts"] for layer in synth["layers"]) + synth["glue"]["luts"]
    assert "total" in (rtl_build / "synth.txt").read_text()


def test_missing_yosys_is_one_line(rtl_build, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code = main(["build", str(rtl_build.parent / "m.onnx"), "--out", str(rtl_build), "--from-step",
                 "synth_estimate", "--quiet", "--no-verify"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Yosys is not installed" in err
