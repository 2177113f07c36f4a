"""``signflow build``: a QONNX model through the ordered build steps (signflow.builder).

Graph steps save ``<out>/intermediate/NN_<step>.onnx`` and (with verification) are checked bit-exact
against the tidied input graph; artifact steps write code, simulations and reports. Figures go to
``<out>/report.json``; ``--from-step`` resumes from the graph saved before that step.

Run as ``signflow build``, ``python -m signflow.build`` or ``python flow/build.py``.
"""
import json
import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # `python flow/build.py`: flow/ is the signflow package; run it as signflow.build, not as loose modules
    import runpy

    sys.path.pop(0)
    try:
        runpy.run_module("signflow.build", run_name="__main__", alter_sys=True)
    except ModuleNotFoundError as err:
        sys.exit(f"error: {err.name} is not installed in {sys.executable}; run 'make demo' or 'pip install .' first")
    sys.exit(0)

from signflow.boards import BOARDS  # noqa: E402
from signflow.builder import STEP_NAMES, BuildConfig, run_build  # noqa: E402
from signflow.builder.config import value_from_cli  # noqa: E402
from signflow.errors import UserError  # noqa: E402


def add_parser(subparsers):
    p = subparsers.add_parser("build", help="build a QONNX model into a folded streaming HW graph",
                              description="Run the build steps (" + " -> ".join(STEP_NAMES) + ") on a QONNX model.")
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p):
    p.add_argument("model", help="QONNX model (from 'signflow export')")
    p.add_argument("--out", help="output folder (default: build)")
    p.add_argument("--config", help="build config file (JSON or YAML); flags override it")
    # values are checked by the build config (one line naming the key), not by argparse
    p.add_argument("--board", help=f"target board: {', '.join(sorted(BOARDS))} (default: pynq-z1)")
    p.add_argument("--clock-ns", help="clock period in ns (default: 10)")
    p.add_argument("--target-fps", help="frames per second the folding must reach")
    p.add_argument("--folding", dest="folding_file", help="folding file to apply (as written to folding.json)")
    p.add_argument("--steps", help="comma-separated steps to run (default: all)")
    p.add_argument("--from-step", help="resume from this step")
    p.add_argument("--no-verify", action="store_true", help="skip the bit-exact check after each step")
    p.add_argument("--label-select", action="store_true", help="output the class index instead of the scores")
    p.add_argument("--allow-timing-fail", action="store_true",
                   help="ECP5 boards: keep a routed design that misses the clock (reported as missed)")
    p.add_argument("--baud", dest="uart_baud", help="ECP5 boards: baud rate of the board harness's UART "
                                                    "(default: 115200)")
    p.add_argument("--quiet", action="store_true", help="no progress display")


def config_from_args(args):
    cfg = BuildConfig.from_file(args.config) if args.config else BuildConfig()
    for key, flag in (("board", "--board"), ("clock_ns", "--clock-ns"), ("target_fps", "--target-fps"),
                      ("folding_file", "--folding"), ("from_step", "--from-step"), ("uart_baud", "--baud")):
        if getattr(args, key) is not None:
            setattr(cfg, key, value_from_cli(key, getattr(args, key), flag))
    if args.out is not None:
        cfg.output_dir = value_from_cli("output_dir", args.out, "--out")
    if args.steps is not None:
        cfg.steps = value_from_cli("steps", [s.strip() for s in args.steps.split(",") if s.strip()], "--steps")
    if args.no_verify:
        cfg.verify = False
    if args.label_select:
        cfg.label_select = True
    if args.allow_timing_fail:
        cfg.allow_timing_fail = True
    if args.quiet:
        cfg.quiet = True
    return cfg


def pnr_summary(pnr):
    """One line of the routed design: Fmax against the target, FPS at both, utilization, critical path."""
    path = pnr.get("critical_path") or {}
    fps = (f"; {pnr['fps_at_fmax']:.0f} FPS at the routed clock ({pnr['fps_at_target']:.0f} at the target)"
           if "fps_at_fmax" in pnr else "")
    return (f"routed on {pnr['device']}: {pnr['fmax_mhz']} MHz, target {pnr['target_mhz']} MHz "
            f"({'met' if pnr['met'] else 'MISSED'}){fps}; {pnr['comb_cells']} LUT4, {pnr['ffs']} FF, "
            f"{pnr['ebr']} EBR, {pnr['dsps']} DSP; critical path {path.get('from')} -> {path.get('to')} "
            f"({path.get('ns')} ns)")


def run(args):
    cfg = config_from_args(args)
    cfg.check()
    run_build(args.model, cfg)
    estimate = Path(cfg.output_dir) / "estimate.txt"
    if estimate.is_file():
        print(estimate.read_text(), end="")
    pnr = json.loads((Path(cfg.output_dir) / "report.json").read_text()).get("pnr")
    if pnr:
        print(pnr_summary(pnr))
    print(f"build complete: {Path(cfg.output_dir) / 'report.json'}")


def main(argv=None):
    import argparse

    from signflow.cli import quiet_libraries

    quiet_libraries()
    parser = argparse.ArgumentParser(prog="python -m signflow.build", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args)
    except UserError as err:
        print(f"signflow build: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
