"""The open ECP5 route, measured: the digits model (sign, DeSign, DySign) and LFC-1W1A placed and routed on a
board with yowasp Yosys + nextpnr-ecp5 and packed with ecppack, at the build's 100 MHz target.

Per design: LUT4 / FF / EBR / DSP, the routed Fmax against the target, synthesis and P&R seconds, bitstream
bytes; the ratio of each Fmax to the first row's. Random weights (timing and size do not depend on them).
The LFC row takes tens of minutes (yowasp elaborates its SIMD = 1024 layers slowly): --lfc adds it.
Run: .venv/bin/python bench/pnr.py [--board ulx3s] [--fps 100000] [--lfc]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.errors import UserError  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from tests.helpers import random_model  # noqa: E402

STEPS = FRONT_END + ["rtl_codegen", "pnr", "bitstream"]


def route(model, tmp, name, board, fps):
    """The report's ``pnr`` and ``bitstream`` figures of one design, or the refusal's message."""
    path = tmp / f"{name}.onnx"
    export_model(model, model.in_shape, path)
    try:
        run_build(path, BuildConfig(output_dir=str(tmp / name), board=board, target_fps=fps, steps=STEPS,
                                    allow_timing_fail=True, quiet=True, enforce_budget=False))
    except UserError as err:
        return str(err)
    report = json.loads((tmp / name / "report.json").read_text())
    return {**report["pnr"], "bit_bytes": report["bitstream"]["bytes"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="ulx3s", help="ECP5 board (default ulx3s)")
    parser.add_argument("--fps", type=float, default=100000, help="digits folding target (default 100000, the demo's)")
    parser.add_argument("--lfc", action="store_true", help="also LFC-1W1A at 100k FPS (tens of minutes)")
    args = parser.parse_args()
    quiet_libraries()
    designs = [(f"digits {act}", random_model("digits", act, seed=0), args.fps) for act in ("sign", "design", "dysign")]
    if args.lfc:
        designs.append(("lfc sign", random_model("lfc", "sign", seed=0), 100000))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, fps in designs:
            print(f"routing {name} ...", file=sys.stderr, flush=True)
            rows.append((name, route(model, Path(tmp), name.replace(" ", "_"), args.board, fps)))
    print(f"\nECP5 place and route on {args.board}, target 100 MHz")
    print(f"{'design':<14} {'LUT4':>7} {'FF':>7} {'EBR':>4} {'DSP':>4} {'Fmax MHz':>9} {'target':>6} {'met':>4} "
          f"{'Fmax x':>6} {'synth s':>7} {'P&R s':>6} {'bit bytes':>9}  critical path")
    base = None
    for name, got in rows:
        if isinstance(got, str):
            print(f"{name:<14} refused: {got}")
            continue
        base = base or got["fmax_mhz"]
        path = got["critical_path"] or {}
        print(f"{name:<14} {got['comb_cells']:>7} {got['ffs']:>7} {got['ebr']:>4} {got['dsps']:>4} "
              f"{got['fmax_mhz']:>9.2f} {got['target_mhz']:>6g} {'yes' if got['met'] else 'no':>4} "
              f"{got['fmax_mhz'] / base:>6.3f} {got['synth_seconds']:>7.0f} {got['pnr_seconds']:>6.0f} "
              f"{got['bit_bytes']:>9}  {path.get('from')} -> {path.get('to')} ({path.get('ns')} ns)")


if __name__ == "__main__":
    main()
