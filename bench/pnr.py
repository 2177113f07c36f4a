"""The open ECP5 route, measured: the digits model (sign, DeSign, DySign) and LFC-1W1A as whole board designs
(UART harness, PLL, pins) placed and routed with yowasp Yosys + nextpnr-ecp5 and packed with ecppack, at the
build's 100 MHz target.

Per design: LUT4 / FF / EBR / DSP, the routed Fmax against the target, synthesis and P&R seconds, bitstream
bytes. With ``--before REV`` each design is also routed with the accelerator's RTL modules of an earlier
commit (the same generated top and memories, its rtl/*.sv from REV's hw_templates/rtl: the timing work keeps
every interface; the board's harness stays this checkout's), side by side in the same run, with the ratio of
the Fmax. Random weights (timing and size do not depend on them). The
LFC row (10k FPS: at 100k its SIMD = 1024 layers did not finish routing in an hour) takes about 6 minutes:
--lfc adds it.
Run: .venv/bin/python bench/pnr.py [--board ulx3s] [--fps 100000] [--smallest] [--before 2ac4ff7] [--lfc]
(2ac4ff7: the last commit before the timing work.)
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.errors import UserError  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from signflow.vendor.ecp5 import pack_bitstream, place_and_route  # noqa: E402
from tests.helpers import random_model  # noqa: E402


def old_modules(rtl_dir, rev):
    """Replace the RTL modules in ``rtl_dir`` with commit ``rev``'s (generated files stay)."""
    for path in rtl_dir.glob("*.sv"):
        done = subprocess.run(["git", "show", f"{rev}:hw_templates/rtl/{path.name}"], cwd=ROOT, capture_output=True)
        if done.returncode == 0:
            path.write_bytes(done.stdout)


def route(onnx, build, board, fps, rev=None):
    """The ``pnr`` figures and bitstream bytes of one design (its RTL modules from ``rev`` when given), or the
    refusal's message."""
    try:
        run_build(onnx, BuildConfig(output_dir=str(build), board=board, target_fps=fps, quiet=True, verify=False,
                                    enforce_budget=False, steps=FRONT_END + ["rtl_codegen"]))
        if rev:
            old_modules(build / "rtl", rev)
        figures = place_and_route(build, board, 100.0, allow_timing_fail=True)
        return {**figures, "bit_bytes": pack_bitstream(build / "pnr", build / "deploy" / "board.bit")}
    except UserError as err:
        return str(err)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="ulx3s", help="ECP5 board (default ulx3s)")
    parser.add_argument("--fps", type=float, default=100000, help="digits folding target (default 100000, the demo's)")
    parser.add_argument("--smallest", action="store_true", help="also the digits designs at the smallest folding")
    parser.add_argument("--before", metavar="REV", help="also route with the RTL modules of commit REV")
    parser.add_argument("--lfc", action="store_true", help="also LFC-1W1A at 10k FPS (minutes)")
    args = parser.parse_args()
    quiet_libraries()
    designs = [(f"digits {act} {label}", ("digits", act), fps) for act in ("sign", "design", "dysign")
               for label, fps in [(f"{args.fps:g}", args.fps)] + ([("PE=SIMD=1", None)] if args.smallest else [])]
    if args.lfc:
        designs.append(("lfc sign 10000", ("lfc", "sign"), 10000))
    versions = ([(args.before, args.before)] if args.before else []) + [("this checkout", None)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, (net, act), fps) in enumerate(designs):
            model = random_model(net, act, seed=0)
            onnx = Path(tmp) / f"{index}.onnx"
            export_model(model, model.in_shape, onnx)
            for label, rev in versions:
                print(f"routing {name} ({label}) ...", file=sys.stderr, flush=True)
                rows.append((name, label, route(onnx, Path(tmp) / f"{index}_{rev or 'here'}", args.board, fps, rev)))
    print(f"\nECP5 place and route of the board design on {args.board}, target 100 MHz")
    print(f"{'design':<26} {'RTL':<13} {'LUT4':>7} {'FF':>7} {'EBR':>4} {'DSP':>4} {'Fmax MHz':>9} {'met':>4} "
          f"{'Fmax x':>6} {'synth s':>7} {'P&R s':>6} {'bit bytes':>9}  critical path")
    base = {}
    for name, label, got in rows:
        if isinstance(got, str):
            print(f"{name:<26} {label:<13} refused: {got}")
            continue
        base.setdefault(name, got["fmax_mhz"])  # the first version routed of this design
        path = got["critical_path"] or {}
        print(f"{name:<26} {label:<13} {got['comb_cells']:>7} {got['ffs']:>7} {got['ebr']:>4} {got['dsps']:>4} "
              f"{got['fmax_mhz']:>9.2f} {'yes' if got['met'] else 'no':>4} {got['fmax_mhz'] / base[name]:>6.3f} "
              f"{got['synth_seconds']:>7.0f} {got['pnr_seconds']:>6.0f} {got['bit_bytes']:>9}  "
              f"{path.get('from')} -> {path.get('to')} ({path.get('ns')} ns)")


if __name__ == "__main__":
    main()
