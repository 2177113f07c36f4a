"""C simulation of the generated HLS design: g++ compiles the layers, the top and a testbench against the
open ``ap_int.h`` headers and a small ``hls::stream`` model; frames stream through and every output beat is
compared bit-exactly with the Python reference.

On a mismatch the frame is simulated again with every layer's output logged, and the first layer whose
stream differs from the reference is named (as rtlsim does).
"""
import hashlib
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from signflow.codegen.hls import CXX_STD
from signflow.errors import UserError
from signflow.files import file_sha256
from signflow.sim.rtlsim import decode, encode, first_differing_link, reference
from signflow.tools import ap_types, gxx

#: exceptions off: g++ needs minutes for large constant ap_uint arrays otherwise (it is quadratic in the
#: initializers' cleanup regions); SIGNFLOW_HOST_WORDS: wide words on 64-bit host integers (signflow_common.hpp).
#: -O1: compiling is the step, simulating a fraction of a second; CNV at 10k FPS, CPU seconds to build and to
#: simulate 16 frames: -O1 32.9 and 0.20, -O2 (before) 39.5 and 0.16, -O0 23.6 and 1.56 (too slow for many frames)
CXXFLAGS = ["-O1", "-fno-exceptions", "-w", "-DSIGNFLOW_GXX_CSIM", "-DSIGNFLOW_HOST_WORDS"]


def _flags(design):
    """g++'s flags, run inside the hls folder of ``design`` (its design.json): paths relative to it, so objects
    and their names do not depend on where the build folder is."""
    # the sim folder comes first: ap_types ships its own hls_stream.h
    return [f"-std={CXX_STD}", *CXXFLAGS, "-Isim", "-Iinclude", "-I.", f"-I{ap_types()}",
            "-include", f"{design['top']}.hpp"]


def _compile(args, cwd):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise UserError(f"g++ could not compile the HLS design: {' | '.join(tail)}")


def _stamp(path):
    """The record next to a cached file: its size and hash, written once the file is complete."""
    return path.with_name(path.name + ".sha256")


def _intact(path, extra=""):
    """Whether ``path`` is the file its stamp recorded (``extra``: what else the stamp must hold)."""
    try:
        return _stamp(path).read_text() == f"{path.stat().st_size} {file_sha256(path)}\n{extra}"
    except OSError:
        return False


def _produce(args, target, cwd, extra=""):
    """Run g++ ``args`` writing ``target`` under a temporary name; rename it on success and stamp it."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        _compile([*args, "-o", str(tmp)], cwd)
        if not tmp.is_file():
            raise UserError(f"g++ wrote no {target.name}")
        stamp = f"{tmp.stat().st_size} {file_sha256(tmp)}\n{extra}"
        _stamp(target).unlink(missing_ok=True)
        os.replace(tmp, target)
        stamp_tmp = tmp.with_name(tmp.name + ".sha256")
        stamp_tmp.write_text(stamp)
        os.replace(stamp_tmp, _stamp(target))
    finally:
        tmp.unlink(missing_ok=True)
    if not _intact(target, extra):
        raise UserError(f"the cached C simulation {target} does not match what g++ wrote: delete "
                        f"{target.parent} and retry")


def build_csim(hls_dir, build_dir, jobs=None):
    """Compile the design in ``hls_dir`` (one object per source, in parallel, reused while unchanged).

    Objects and the binary are written under temporary names, renamed when complete and stamped with their
    size and hash; an entry that does not match its stamp (truncated, say) is rebuilt.
    """
    hls_dir, build_dir = Path(hls_dir).resolve(), Path(build_dir).resolve()  # g++ runs in both
    build_dir.mkdir(parents=True, exist_ok=True)
    design = json.loads((hls_dir / "design.json").read_text())
    flags = _flags(design)
    common = sorted((hls_dir / "include").glob("*")) + sorted((hls_dir / "sim").glob("*.h"))
    common_digest = hashlib.sha256(" ".join(flags).encode())
    for path in common + [hls_dir / f"{design['top']}.hpp"]:
        common_digest.update(path.name.encode() + path.read_bytes())
    sources = list(design["sources"]) + ["sim/csim_main.cpp"]
    objects, todo = [], []
    for source in sources:
        digest = common_digest.copy()
        digest.update((hls_dir / source).read_bytes())
        obj = build_dir / f"{Path(source).stem}.{digest.hexdigest()[:16]}.o"
        objects.append(obj)
        if not _intact(obj):
            todo.append(([gxx(), *flags, "-c", source], obj))
    todo.sort(key=lambda job: (hls_dir / job[0][-1]).stat().st_size, reverse=True)  # the longest (largest) first
    with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
        list(pool.map(lambda job: _produce(*job, hls_dir), todo))
    exe = build_dir / "csim"
    linked = "".join(f"{o.name}\n" for o in objects)  # the binary is relinked when its objects change
    if todo or not _intact(exe, linked):
        _produce([gxx(), *[o.name for o in objects]], exe, build_dir, linked)
    keep = set(objects) | {_stamp(o) for o in objects} | {exe, _stamp(exe)}
    for stale in set(build_dir.glob("*.o")) | set(build_dir.glob("*.sha256")):
        if stale not in keep:
            stale.unlink(missing_ok=True)
    return exe


def run_csim(exe, work_dir, in_words, in_width, frames, taps=False):
    """Run the C simulation on ``in_words``; returns the output words (and writes taps when asked)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    digits = (in_width + 3) // 4
    (work_dir / "input.hex").write_text("".join(f"{w:0{digits}x}\n" for w in in_words))
    args = [str(exe), str(work_dir / "input.hex"), str(work_dir / "output.hex"), str(frames)]
    if taps:
        (work_dir / "taps").mkdir(exist_ok=True)
        for old in (work_dir / "taps").glob("*.txt"):
            old.unlink()
        args.append(str(work_dir / "taps"))
    try:
        done = subprocess.run(args, capture_output=True, text=True)
    except OSError as error:
        raise UserError(f"the C simulation failed: cannot run {exe} ({error.strerror or error}); "
                        f"delete {Path(exe).parent} to rebuild it") from None
    if done.returncode != 0:
        raise UserError(f"the C simulation failed: {done.stderr.strip()[-300:] or f'exit code {done.returncode}'}")
    return [int(line, 16) for line in (work_dir / "output.hex").read_text().split()]


def simulate(graph, hls_dir, x, build_dir, outputs=None):
    """C-simulate ``len(x)`` frames; returns the figures for report.json ``csim``; raises on any mismatch.

    ``outputs``: a list that receives the decoded accelerator outputs, ``[frames, elements]``.
    """
    hls_dir, build_dir = Path(hls_dir), Path(build_dir)
    design = json.loads((hls_dir / "design.json").read_text())
    start = time.perf_counter()
    exe = build_csim(hls_dir, build_dir / "obj")
    build_seconds = time.perf_counter() - start
    ctx = reference(graph, x)
    in_words = encode(ctx[design["input"]["tensor"]], design["input"])
    expected = encode(ctx[design["output"]["tensor"]], design["output"])
    start = time.perf_counter()
    words = run_csim(exe, build_dir / "run", in_words, design["input"]["width"], len(x))
    sim_seconds = time.perf_counter() - start
    beats = design["output"]["beats"]
    bad = [f for f in range(len(x)) if words[f * beats:(f + 1) * beats] != expected[f * beats:(f + 1) * beats]]
    if bad:
        first = bad[0]
        run_csim(exe, build_dir / "taps_run", encode(ctx[design["input"]["tensor"]][:first + 1], design["input"]),
                 design["input"]["width"], first + 1, taps=True)
        where = first_differing_link(design, build_dir / "taps_run", ctx, first + 1) or "the output stream"
        raise UserError(f"C simulation differs from the reference on {len(bad)} of {len(x)} frames "
                        f"(first: frame {first}); first difference at {where}")
    if outputs is not None:
        outputs.extend(decode(words, design["output"]).reshape(len(x), -1))
    return dict(frames=len(x), mismatches=0, sim_seconds=round(sim_seconds, 3),
                frames_per_second=round(len(x) / max(sim_seconds, 1e-9), 1), build_seconds=round(build_seconds, 3))
