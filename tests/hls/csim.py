"""g++ C simulation of the HLS operators in ``hw_templates/hls`` (no vendor tools).

One driver binary per op holds every test case's config struct (``struct case<i> : signflow::<op>_config``
overriding constants) and dispatches on ``argv[1]``; it is compiled once per session (under xdist, the first
worker builds it under a file lock and the others reuse it). Stream beats and memories are hex text files in
the ``$readmemh`` format of ``flow.packing.write_memh``.
"""
import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np

from signflow.codegen.hls import CXX_STD
from signflow.packing import pack_words, write_memh
from signflow.templates import template_path
from signflow.tools import ap_types

HLS_DIR = template_path("hls")
SIM_DIR = HLS_DIR / "sim"
DRIVERS = Path(__file__).resolve().parent / "drivers.hpp"


#: the two forms of the headers' wide-word primitives (signflow_common.hpp): the ap_uint one Vitis HLS
#: synthesizes, and the 64-bit host-word one the signflow C simulation runs
FORMS = {"hardware": [], "host": ["-DSIGNFLOW_HOST_WORDS"]}


def compile_flags(form="hardware"):
    # the sim directory comes first: ap_types also ships an hls_stream.h
    return ["g++", f"-std={CXX_STD}", "-O1", "-w", *FORMS[form], f"-I{SIM_DIR}", f"-I{HLS_DIR}",
            f"-I{DRIVERS.parent}", f"-I{ap_types()}"]


def config_struct(name, op, params):
    """``struct name : signflow::<op>_config { static const int K = v; ... };`` (int, as the code generator emits)"""
    lines = "".join(f"    static const int {key} = {int(value)};\n" for key, value in params.items())
    return f"struct {name} : signflow::{op}_config {{\n{lines}}};\n"


def driver_source(op, cases):
    """A driver for ``cases`` (a list of config dicts): ``./driver <case> <dir> <frames>``."""
    structs = "".join(config_struct(f"case{i}", op, params) for i, params in enumerate(cases))
    calls = "".join(f"    case {i}: return signflow_test::run_{op}<case{i}>(dir, frames);\n" for i in range(len(cases)))
    return ('#include <cstdlib>\n#include "drivers.hpp"\n\n' + structs +
            "\nint main(int argc, char **argv) {\n    if (argc != 4) return 2;\n"
            "    const std::string dir = argv[2];\n    const unsigned frames = std::atoi(argv[3]);\n"
            f"    switch (std::atoi(argv[1])) {{\n{calls}    default: return 2;\n    }}\n}}\n")


def _shared_root(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_driver(tmp_path_factory, form, op, cases):
    """Compile (or reuse) the driver of ``op`` for ``cases`` in ``form`` (FORMS); returns the binary's path."""
    source = driver_source(op, cases)
    digest = hashlib.sha256(source.encode())
    for header in sorted(HLS_DIR.rglob("*.h*")) + [DRIVERS]:
        digest.update(header.read_bytes())
    digest.update(" ".join(compile_flags(form)).encode())
    build = _shared_root(tmp_path_factory) / "hls_csim" / f"{op}_{digest.hexdigest()[:16]}"
    build.mkdir(parents=True, exist_ok=True)
    binary = build / "driver"
    with open(build / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            (build / "driver.cpp").write_text(source)
            result = subprocess.run([*compile_flags(form), "-o", str(build / "driver.tmp"), str(build / "driver.cpp")],
                                    capture_output=True, text=True, check=False)
            assert result.returncode == 0, f"g++ failed:\n{result.stderr[-4000:]}"
            os.replace(build / "driver.tmp", binary)
    return binary


def write_beats(path, values, lanes, bw):
    """Elements in stream order -> a hex file of beats of ``lanes`` x ``bw`` bits."""
    write_memh(path, pack_words(np.asarray(values).astype(np.int64), lanes, bw), lanes * bw)


def run_driver(binary, case, workdir, frames):
    """Run one case in ``workdir`` (holding in.memh and the memories); returns the output words."""
    result = subprocess.run([str(binary), str(case), str(workdir), str(frames)], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, f"driver failed ({result.returncode}):\n{result.stderr[-4000:]}"
    return [int(line, 16) for line in (Path(workdir) / "out.memh").read_text().split()]


def assert_beats_equal(got, golden, lanes, bw):
    """Compare output words with the golden elements packed ``lanes`` x ``bw`` bits per beat."""
    expected = pack_words(np.asarray(golden).astype(np.int64), lanes, bw)
    assert len(got) == len(expected), f"{len(got)} beats, expected {len(expected)}"
    bad = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert not bad, f"{len(bad)} of {len(expected)} beats differ; first at {bad[0]}: {got[bad[0]]:x} != {expected[bad[0]]:x}"
