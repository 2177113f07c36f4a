"""RTL figures: CNV-1W1A (DeSign) folded for 10,000 FPS at 100 MHz, measured in Verilator and Yosys,
and the speed of the Verilator harness for CNV and LFC.

Run: .venv/bin/python bench/rtl.py [--fps 10000] [--frames 16]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signflow.boards import get_board  # noqa: E402
from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from tests.helpers import random_model  # noqa: E402


def build(model, out, **cfg):
    path = Path(out).parent / f"{Path(out).name}.onnx"
    export_model(model, model.in_shape, path)
    start = time.perf_counter()
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, **cfg))
    return json.loads((Path(out) / "report.json").read_text()), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=10000)
    parser.add_argument("--frames", type=int, default=16)
    args = parser.parse_args()
    quiet_libraries()
    board = get_board("pynq-z1")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sign, _ = build(random_model("cnv", "sign"), tmp / "cnv_sign", target_fps=args.fps,
                        steps=FRONT_END + ["rtl_codegen", "synth_estimate"])
        # DeSign at the sign build's folding: the difference is the phase thresholds alone
        design, t_design = build(random_model("cnv", "design"), tmp / "cnv_design", rtlsim_frames=args.frames,
                                 folding_file=str(tmp / "cnv_sign" / "folding.json"),
                                 steps=FRONT_END + ["rtl_codegen", "rtlsim", "synth_estimate"])
        lfc, _ = build(random_model("lfc", "sign"), tmp / "lfc", target_fps=args.fps, rtlsim_frames=args.frames * 4,
                       steps=FRONT_END + ["rtl_codegen", "rtlsim"])
    est, sim, syn = design["estimate"], design["rtlsim"], design["synth"]
    print(f"\nCNV-1W1A DeSign folded for {args.fps:g} FPS at 100 MHz (build {t_design:.0f} s incl. Verilator and Yosys)")
    print(f"{'cycles/frame: measured':<34} {sim['cycles_per_frame']:>9}  estimate {est['bottleneck_cycles']}  "
          f"ratio {sim['cycles_per_frame'] / est['bottleneck_cycles']:.3f}")
    print(f"{'latency cycles: measured':<34} {sim['latency_cycles']:>9}  estimate (upper bound) {est['latency_cycles']}")
    print(f"\n{'resources':<12} {'Yosys':>9} {'analytic':>9} {'xc7z020':>9}")
    for key, cap in (("luts", board.luts), ("ffs", board.ffs), ("brams18", board.brams18), ("dsps", board.dsps)):
        print(f"{key:<12} {syn[key]:>9} {est.get(key, 0):>9} {cap:>9}")
    overhead = 100 * (syn["luts"] - sign["synth"]["luts"]) / sign["synth"]["luts"]
    print(f"\nDeSign LUTs over sign (Yosys, same folding): {syn['luts']} vs "
          f"{sign['synth']['luts']} ({overhead:+.1f}%)")
    print(f"\n{'harness':<8} {'build s':>8} {'frames':>7} {'frames/s':>10} {'cycles/s':>12}")
    for name, report in (("CNV", design), ("LFC", lfc)):
        r = report["rtlsim"]
        cycles = r["cycles_per_frame"] * r["frames"]
        print(f"{name:<8} {r['build_seconds']:>8.1f} {r['frames']:>7} {r['frames'] / r['sim_seconds']:>10.1f} "
              f"{cycles / r['sim_seconds']:>12.0f}")


if __name__ == "__main__":
    main()
