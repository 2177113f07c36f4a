"""Wall time per build step of CNV-1W1A (DeSign, published order, 10k FPS), from each build's report.json.

Builds the same exported model with this checkout's ``signflow`` and, with ``--compare EXE``, with another
installation's ``signflow`` (e.g. an older checkout's ``.venv/bin/signflow``), one after the other in the
same run, and prints the steps side by side with their ratio. Steps: everything through the driver except
the vendor steps and synth_estimate (Yosys; bench/folding.py measures it).
Run: .venv/bin/python bench/build_time.py [--compare /path/to/old/.venv/bin/signflow] [--fps 10000]
"""
import argparse
import json
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

SKIPPED = ("synth_estimate", "hls_synth", "bitstream", "package")
STEPS = [s for s in STEP_NAMES[:STEP_NAMES.index("driver") + 1] if s not in SKIPPED]
HERE = Path(sys.executable).parent / "signflow"


def build(signflow, onnx, out, fps):
    """``({step: seconds}, total seconds)`` of one build through ``STEPS``."""
    start = time.perf_counter()
    done = subprocess.run([str(signflow), "build", str(onnx), "--out", str(out), "--target-fps", str(fps),
                           "--steps", ",".join(STEPS), "--quiet"], capture_output=True, text=True)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{signflow} failed: {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads((Path(out) / "report.json").read_text())
    return {s["name"]: s["seconds"] for s in report["steps"]}, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", help="another signflow executable to time the same build with")
    parser.add_argument("--fps", type=float, default=10000)
    args = parser.parse_args()
    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        model = random_model("cnv", "design", seed=0)
        onnx = Path(tmp) / "cnv.onnx"
        export_model(model, model.in_shape, onnx)
        runs = [("this checkout", build(HERE, onnx, Path(tmp) / "here", args.fps))]
        if args.compare:
            runs.insert(0, (args.compare, build(args.compare, onnx, Path(tmp) / "other", args.fps)))
    names = [name for name, _ in runs]
    print(f"\nCNV-1W1A DeSign (published order) at {args.fps:g} FPS: seconds per step")
    for index, name in enumerate(names):
        print(f"  [{index}] {name}")
    header = f"{'step':>14}" + "".join(f" {f'[{i}] s':>9}" for i in range(len(runs)))
    print(header + (f" {'[1]/[0]':>8}" if len(runs) == 2 else ""))
    rows = STEPS + ["(steps)", "(process)"]
    for step in rows:
        values = []
        for _, (steps, total) in runs:
            values.append(sum(steps.values()) if step == "(steps)" else total if step == "(process)" else
                          steps.get(step))
        line = f"{step:>14}" + "".join(f" {v:>9.2f}" if v is not None else f" {'-':>9}" for v in values)
        if len(values) == 2 and values[0] and values[1] is not None:
            line += f" {values[1] / values[0]:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
