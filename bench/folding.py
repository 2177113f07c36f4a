"""CNV-1W1A (sign and DeSign) folded for 1k / 3k / 10k / 30k FPS at 100 MHz: cycles, LUT, BRAM, build time.

DeSign's extra resources are measured at the *same* folding as sign (the sign
build's folding.json is applied to the DeSign graph), so they show the cost of
the phase thresholds alone.
Run: .venv/bin/python bench/folding.py [--fps 1000 3000 10000 30000]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flow.build import FRONT_END, BuildConfig, run_build  # noqa: E402
from flow.cli import quiet_libraries  # noqa: E402
from models.errors import UserError  # noqa: E402
from models.export import export_model  # noqa: E402
from tests.helpers import random_model  # noqa: E402



def build(onnx_path, out, **cfg):
    """``(estimate, seconds)``, or ``(error message, seconds)`` when the build refuses the target."""
    start = time.perf_counter()
    try:
        run_build(onnx_path, BuildConfig(output_dir=str(out), quiet=True, steps=FRONT_END, **cfg))
    except UserError as err:
        return str(err), time.perf_counter() - start
    seconds = time.perf_counter() - start
    return json.loads((Path(out) / "report.json").read_text())["estimate"], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, nargs="+", default=[1000, 3000, 10000, 30000], help="target FPS values")
    args = parser.parse_args()
    quiet_libraries()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = {}
        for act in ("sign", "design"):
            model = random_model("cnv", act, seed=0)
            paths[act] = tmp / f"cnv_{act}.onnx"
            export_model(model, model.in_shape, paths[act])
        for fps in args.fps:
            sign, t_sign = build(paths["sign"], tmp / f"sign{fps}", target_fps=fps)
            design, t_design = build(paths["design"], tmp / f"design{fps}", target_fps=fps)
            folding = tmp / f"sign{fps}" / "folding.json"
            same = build(paths["design"], tmp / f"same{fps}", folding_file=str(folding))[0] if folding.is_file() else None
            rows.append((fps, sign, t_sign, design, t_design, same))
    print("\nCNV-1W1A at 100 MHz on pynq-z1 (xc7z020: 53,200 LUT, 280 BRAM18); analytic estimates")
    print(f"{'target FPS':>10} {'act':>7} {'bottleneck':>10} {'est. FPS':>9} {'LUT':>7} {'BRAM18':>7} {'build s':>8}")
    for fps, sign, t_sign, design, t_design, _ in rows:
        for act, est, secs in (("sign", sign, t_sign), ("design", design, t_design)):
            if isinstance(est, str):
                print(f"{fps:>10g} {act:>7}  refused: {est}")
                continue
            print(f"{fps:>10g} {act:>7} {est['bottleneck_cycles']:>10} {est['fps']:>9.0f} {est['luts']:>7} "
                  f"{est['brams18']:>7} {secs:>8.1f}")
    print("\nDeSign over sign at the same folding (sign's folding.json applied to the DeSign graph)")
    print(f"{'target FPS':>10} {'LUT sign':>9} {'LUT DeSign':>10} {'extra %':>8} {'BRAM sign':>10} {'BRAM DeSign':>11}")
    for fps, sign, _, _, _, same in rows:
        if not isinstance(same, dict):
            continue
        extra = 100 * (same["luts"] - sign["luts"]) / sign["luts"]
        print(f"{fps:>10g} {sign['luts']:>9} {same['luts']:>10} {extra:>8.1f} {sign['brams18']:>10} {same['brams18']:>11}")


if __name__ == "__main__":
    main()
