"""Wall time per build step of CNV-1W1A (DeSign, published order, 10k FPS), from each build's report.json.

Builds the same exported model with this checkout's ``signflow`` and, with ``--compare EXE``, with another
installation's ``signflow`` (e.g. an older checkout's ``.venv/bin/signflow``), one after the other in the
same run, and prints the steps side by side with their ratio, and each build's wall and CPU seconds (the CPU
seconds of the build and its tools: a fairer figure than the wall time on a loaded machine). Steps:
everything through the driver except the vendor steps and synth_estimate (Yosys; bench/folding.py measures
it); with ``--full``, the default build (every step; those of missing vendor tools are skipped).
Run: .venv/bin/python bench/build_time.py [--compare /path/to/old/.venv/bin/signflow] [--fps 10000] [--full]
[--signflow EXE (instead of this checkout's)]
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signflow.builder import STEP_NAMES  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from tests.helpers import random_model  # noqa: E402

#: pnr is the ECP5 route's (skipped on the Zynq board anyway, and unknown to older checkouts)
SKIPPED = ("synth_estimate", "pnr", "hls_synth", "bitstream", "package")
STEPS = [s for s in STEP_NAMES[:STEP_NAMES.index("driver") + 1] if s not in SKIPPED]
HERE = Path(sys.executable).parent / "signflow"


def build(signflow, onnx, out, fps, full=False):
    """``({step: seconds}, total wall seconds, CPU seconds)`` of one build through ``STEPS`` (every step when
    ``full``)."""
    steps = [] if full else ["--steps", ",".join(STEPS)]
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(signflow), "build", str(onnx), "--out", str(out), "--target-fps", str(fps),
                           *steps, "--quiet"], capture_output=True, text=True)
    total = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{signflow} failed: {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads((Path(out) / "report.json").read_text())
    seconds = {s["name"]: s["seconds"] for s in report["steps"] if s["status"] == "done"}
    return seconds, total, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", help="another signflow executable to time the same build with")
    parser.add_argument("--signflow", default=str(HERE), help="the signflow executable to time (default: this "
                        "checkout's)")
    parser.add_argument("--fps", type=float, default=10000)
    parser.add_argument("--full", action="store_true", help="the default build: every step")
    args = parser.parse_args()
    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        model = random_model("cnv", "design", seed=0)
        onnx = Path(tmp) / "cnv.onnx"
        export_model(model, model.in_shape, onnx)
        name = "this checkout" if args.signflow == str(HERE) else args.signflow
        runs = [(name, build(args.signflow, onnx, Path(tmp) / "here", args.fps, args.full))]
        if args.compare:
            runs.insert(0, (args.compare, build(args.compare, onnx, Path(tmp) / "other", args.fps, args.full)))
    names = [name for name, _ in runs]
    print(f"\nCNV-1W1A DeSign (published order) at {args.fps:g} FPS, {'default build' if args.full else 'no Yosys'}:"
          " seconds per step")
    for index, name in enumerate(names):
        print(f"  [{index}] {name}")
    header = f"{'step':>14}" + "".join(f" {f'[{i}] s':>9}" for i in range(len(runs)))
    print(header + (f" {'[1]/[0]':>8}" if len(runs) == 2 else ""))
    ran = [step for step in STEP_NAMES if any(step in steps for _, (steps, _, _) in runs)]
    rows = ran + ["(steps)", "(process)", "(cpu)"]
    for step in rows:
        values = []
        for _, (steps, total, cpu) in runs:
            values.append(sum(steps.values()) if step == "(steps)" else total if step == "(process)" else
                          cpu if step == "(cpu)" else steps.get(step))
        line = f"{step:>14}" + "".join(f" {v:>9.2f}" if v is not None else f" {'-':>9}" for v in values)
        if len(values) == 2 and values[0] and values[1] is not None:
            line += f" {values[1] / values[0]:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
