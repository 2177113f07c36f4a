"""The wheel, installed outside the checkout, builds a digits model through rtlsim and csim.

The new venv sees only the wheel's signflow: its dependencies come from the test's own venv through a path
entry (a ``.pth`` line adds a folder to sys.path without running that folder's ``.pth`` files, so the
checkout's editable-install hook stays off), and every command runs from a folder outside the checkout.
"""
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from signflow.builder import FRONT_END
from signflow.models.export import export_model
from tests.helpers import random_model

ROOT = Path(__file__).resolve().parents[2]
STEPS = FRONT_END + ["rtl_codegen", "rtlsim", "hls_codegen", "csim"]


def run(*cmd, cwd):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"{cmd[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Built from a copy of the project's files, so that setuptools' build/ and egg-info stay out of the checkout."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source, cwd=out)
    (path,) = out.glob("signflow-*.whl")
    return path


def test_wheel_holds_one_package_with_its_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"signflow"}
    for needed in ["signflow/build.py", "signflow/models/zoo.py", "signflow/models/published_design_kernels.json",
                   "signflow/hw_templates/rtl/mvau.sv", "signflow/hw_templates/rtl/top.sv.template",
                   "signflow/hw_templates/hls/mvau.hpp", "signflow/hw_templates/sim/harness.cpp",
                   "signflow/hw_templates/tcl/vivado_project.tcl",
                   "signflow/hw_templates/driver/signflow_driver.py"]:
        assert needed in names, needed
    # every module of the checkout is in the wheel (pyproject lists the packages by hand)
    modules = {f"signflow/{p.relative_to(ROOT / 'flow')}" for p in (ROOT / "flow").rglob("*.py")}
    modules |= {f"signflow/models/{p.relative_to(ROOT / 'models')}" for p in (ROOT / "models").rglob("*.py")}
    assert modules - set(names) == set()


@pytest.mark.sim
@pytest.mark.slow
def test_installed_wheel_builds_digits_through_rtlsim_and_csim(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip())
    (site / "signflow_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    where = run(python, "-c", "import signflow; print(signflow.__file__)", cwd=tmp_path).strip()
    assert Path(where).is_relative_to(site), where
    for generic in ("flow", "models"):
        missing = subprocess.run([python, "-c", f"import {generic}"], cwd=tmp_path, capture_output=True, text=True)
        assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr

    model = random_model("digits", "design", seed=3)
    export_model(model, model.in_shape, tmp_path / "digits.onnx")
    run(venv / "bin" / "signflow", "build", "digits.onnx", "--out", "build", "--steps", ",".join(STEPS), "--quiet",
        cwd=tmp_path)
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    assert report["status"] == "complete"
    assert report["rtlsim"]["mismatches"] == 0 == report["csim"]["mismatches"] and report["rtlsim"]["frames"] > 0
