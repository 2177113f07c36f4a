"""The container files: docker-compose.yml names the services the flow's messages point to, and the
entry script puts a mounted Xilinx install on PATH or says in one line why it cannot.

No Docker engine runs here, so the image is not built; the compose file is parsed and the entry script
is run directly on a stand-in install tree.
"""
import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ENTRY = REPO / "docker" / "entrypoint.sh"


def test_compose_services():
    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    vivado = doc["services"]["vivado"]
    assert "${XILINX_HOST_DIR:-/tools/Xilinx}:/tools/Xilinx:ro" in vivado["volumes"]
    assert ".:/work" in vivado["volumes"] and vivado["working_dir"] == "/work"
    assert doc["services"]["signflow"]["build"] == "." and (REPO / "Dockerfile").is_file()
    assert "/opt/signflow/docker/entrypoint.sh" in (REPO / "Dockerfile").read_text()
    notebook = doc["services"]["notebook"]
    assert notebook["command"][:2] == ["jupyter", "lab"] and notebook["command"][-1] == "notebooks"
    assert (REPO / "notebooks").is_dir() and "8888:8888" in notebook["ports"]
    assert "'.[notebooks]'" in (REPO / "Dockerfile").read_text()


def _entry(env, *command):
    return subprocess.run([str(ENTRY), *command], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True)


def test_entry_puts_the_mounted_tools_on_path(tmp_path):
    settings = tmp_path / "Vitis_HLS" / "2024.1" / "settings64.sh"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"PATH={settings.parent}/bin:$PATH\nexport PATH\n")
    done = _entry({"XILINX_DIR": str(tmp_path), "XILINX_VERSION": "2024.1"}, "sh", "-c", "echo $PATH")
    assert done.returncode == 0 and done.stdout.startswith(f"{settings.parent}/bin:")


def test_entry_without_the_tools_is_one_line(tmp_path):
    done = _entry({"XILINX_DIR": str(tmp_path), "XILINX_VERSION": "2024.1"}, "true")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"no Xilinx tools of version 2024.1 under {tmp_path}")


def test_entry_without_xilinx_runs_the_command():
    done = _entry({}, "echo", "hello")
    assert done.returncode == 0 and done.stdout == "hello\n"
    assert os.access(ENTRY, os.X_OK)
