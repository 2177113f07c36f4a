"""CNV-1W1A with DeSign in the published order vs FINN's order, folded for 1k / 3k / 10k FPS at 100 MHz.

For each target, the FINN-order DeSign graph is folded for the target; the same folding.json is applied
to the published-order graph and to plain sign (FINN's CNV), so the rows differ only in where the pool
sits (and, for sign, in the phase thresholds). Figures: bottleneck cycles, LUT and BRAM18 from the
analytic estimate and, unless --no-yosys, from Yosys synth_xilinx of the generated RTL (minutes per build).
Run: .venv/bin/python bench/folding.py [--fps 1000 3000 10000] [--no-yosys] [--no-sign]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.errors import UserError  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from tests.helpers import random_model  # noqa: E402

VARIANTS = [("design", "finn"), ("design", "published"), ("sign", "finn")]


def build(onnx_path, out, yosys, **cfg):
    """``{"est": .., "synth": .., "seconds": ..}``, or the refusal's message."""
    steps = FRONT_END + (["rtl_codegen", "synth_estimate"] if yosys else [])
    start = time.perf_counter()
    try:
        run_build(onnx_path, BuildConfig(output_dir=str(out), quiet=True, steps=steps, enforce_budget=False, **cfg))
    except UserError as err:
        return str(err)
    seconds = time.perf_counter() - start
    report = json.loads((Path(out) / "report.json").read_text())
    return {"est": report["estimate"], "synth": report.get("synth"), "seconds": seconds}


def ratio(value, base):
    return f"{value / base:.3f}" if base else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, nargs="+", default=[1000, 3000, 10000], help="target FPS values")
    parser.add_argument("--no-yosys", action="store_true", help="analytic estimates only")
    parser.add_argument("--no-sign", action="store_true", help="leave out the plain-sign row (one build less per "
                                                                 "target: the Yosys runs take minutes each)")
    args = parser.parse_args()
    quiet_libraries()
    yosys = not args.no_yosys
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = {}
        for act, order in VARIANTS:
            model = random_model("cnv", act, seed=0, order=order, kernel="threshold_2x2_v2")
            paths[act, order] = tmp / f"cnv_{act}_{order}.onnx"
            export_model(model, model.in_shape, paths[act, order])
        for fps in args.fps:
            base = build(paths["design", "finn"], tmp / f"finn{fps:g}", yosys, target_fps=fps)
            if isinstance(base, str):
                rows.append((fps, "design", "finn", base))
                continue
            folding = str(tmp / f"finn{fps:g}" / "folding.json")
            rows.append((fps, "design", "finn", base))
            for act, order in VARIANTS[1:2] if args.no_sign else VARIANTS[1:]:
                rows.append((fps, act, order, build(paths[act, order], tmp / f"{act}_{order}{fps:g}", yosys,
                                                    folding_file=folding)))
    print("\nCNV-1W1A at 100 MHz, same folding per target (the FINN-order DeSign search); "
          "ratios against DeSign in FINN's order")
    print(f"{'target FPS':>10} {'act':>6} {'order':>9} {'cycles':>8} {'LUT':>7} {'BRAM18':>7} {'LUT x':>6} "
          f"{'BRAM x':>6} {'Yosys LUT':>9} {'BRAM18':>7} {'LUT x':>6} {'BRAM x':>6} {'build s':>7}")
    base = None
    for fps, act, order, got in rows:
        if isinstance(got, str):
            print(f"{fps:>10g} {act:>6} {order:>9}  refused: {got}")
            continue
        est, synth = got["est"], got["synth"]
        if (act, order) == ("design", "finn"):
            base = got
        line = (f"{fps:>10g} {act:>6} {order:>9} {est['bottleneck_cycles']:>8} {est['luts']:>7} {est['brams18']:>7} "
                f"{ratio(est['luts'], base['est']['luts']):>6} {ratio(est['brams18'], base['est']['brams18']):>6}")
        if synth:
            line += (f" {synth['luts']:>9} {synth['brams18']:>7} {ratio(synth['luts'], base['synth']['luts']):>6} "
                     f"{ratio(synth['brams18'], base['synth']['brams18']):>6}")
        else:
            line += f" {'-':>9} {'-':>7} {'-':>6} {'-':>6}"
        print(line + f" {got['seconds']:>7.0f}")


if __name__ == "__main__":
    main()
