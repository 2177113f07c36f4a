"""The main job end to end, short: train -> export -> build -> run, scores bit-exact."""
import json
import re

from flow.cli import main


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"test accuracy ([0-9.]+) \(PyTorch\), ([0-9.]+) \(HW-layer graph", out)
    assert match and match.group(1) == match.group(2) and float(match.group(1)) > 0.3
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["status"] == "complete"
    assert report["estimate"]["bottleneck_cycles"] <= 1e9 / (10.0 * 100000)
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "train" / "checkpoint.pt").is_file()
