"""The main job end to end, short: train -> export -> build -> RTL and HLS -> Verilator and g++ on the test set."""
import json
import re

import pytest

from signflow.cli import main


@pytest.mark.sim
def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"accuracy ([0-9.]+) \(PyTorch\), ([0-9.]+) \(RTL in Verilator, bit-exact\), "
                      r"([0-9.]+) \(HLS C\+\+ in g\+\+, bit-exact\)", out)
    assert match and match.group(1) == match.group(2) == match.group(3) and float(match.group(1)) > 0.3
    assert re.search(r"hardware: \d+ cycles/frame", out)
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["status"] == "complete" and report["rtlsim"]["mismatches"] == 0 == report["csim"]["mismatches"]
    assert report["estimate"]["bottleneck_cycles"] <= 1e9 / (10.0 * 100000)
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "train" / "checkpoint.pt").is_file()
    assert "for the board: Vivado project in" in out
    assert (tmp_path / "build" / "vivado" / "make_project.tcl").is_file()
    assert (tmp_path / "build" / "deploy" / "signflow_driver.py").is_file()
