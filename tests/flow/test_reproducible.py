"""The same model and config give byte-identical build files in any folder and after a resume (report.json's
timings and paths aside): graphs, RTL, HLS, the Vivado project and the driver's io.json, and the simulators'
caches (the Verilator build in sim/, the g++ objects in csim/)."""
import json
import os
import random

import pytest

from signflow.builder import BuildConfig, run_build
from signflow.models.export import export_model
from tests.helpers import random_model

#: every step that writes files without a simulator or vendor tool
STEPS = ["tidy", "streamline", "lower", "to_hw", "fold", "estimate", "rtl_codegen", "hls_codegen", "vivado_project",
         "driver"]


def files(root):
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = open(path, "rb").read()
    return found


def test_builds_are_byte_identical_across_folders_and_resumes(tmp_path):
    model = random_model("digits", "design", seed=3)
    export_model(model, model.in_shape, tmp_path / "m.onnx")

    def build(out, **cfg):
        random.seed(str(out))  # another process: Python's random state differs (qonnx names tensors with it)
        run_build(tmp_path / "m.onnx", BuildConfig(output_dir=str(out), quiet=True, target_fps=20000,
                                                   **{"steps": STEPS, **cfg}))

    build(tmp_path / "a")
    build(tmp_path / "elsewhere" / "b")
    build(tmp_path / "c", steps=STEPS[:3])  # interrupted after lower, then resumed
    build(tmp_path / "c", from_step="to_hw")
    a = files(tmp_path / "a")
    assert any(name.startswith("rtl/") for name in a) and "deploy/io.json" in a and "vivado/make_project.tcl" in a
    for other in ("elsewhere/b", "c"):
        b = files(tmp_path / other)
        assert sorted(b) == sorted(a)
        assert [name for name in a if name != "report.json" and a[name] != b[name]] == []
        reports = [json.loads(doc["report.json"]) for doc in (a, b)]
        assert reports[0]["estimate"] == reports[1]["estimate"]
        assert reports[0]["source"]["sha256"] == reports[1]["source"]["sha256"]


@pytest.mark.sim
def test_simulator_caches_are_byte_identical_across_folders(tmp_path):
    """Verilator and g++ run inside their folders with relative paths, so the cached simulators (sources,
    makefiles, objects, binaries) do not name the build folder."""
    model = random_model("digits", "sign", seed=5)
    export_model(model, model.in_shape, tmp_path / "m.onnx")
    steps = STEPS[:7] + ["rtlsim", "hls_codegen", "csim"]
    for out in (tmp_path / "a", tmp_path / "deeper" / "elsewhere" / "b"):
        random.seed(str(out))
        run_build(tmp_path / "m.onnx", BuildConfig(output_dir=str(out), quiet=True, target_fps=20000, steps=steps,
                                                   rtlsim_frames=2, csim_frames=2))
    a, b = files(tmp_path / "a"), files(tmp_path / "deeper" / "elsewhere" / "b")
    assert any(name.startswith("sim/obj_dir/V") for name in a) and "csim/obj/csim" in a
    assert sorted(a) == sorted(b)
    assert [name for name in a if name != "report.json" and a[name] != b[name]] == []
