"""Simulation speed of CNV-1W1A (DeSign) and LFC-1W1A: Python reference vs Verilator RTL vs g++ C simulation.

Every simulator runs the same N random frames of the built graph; compile times are cold (a fresh build dir;
g++ compiles the per-layer objects in parallel). The C simulation is compared with both others as a ratio.
Run: .venv/bin/python bench/hls.py [--fps 10000] [--frames 16]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import best_seconds  # noqa: E402
from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.builder.runner import BuildContext  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.cli.run import built_graph  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from signflow.sim.fast import FastGraph  # noqa: E402
from tests.helpers import random_model  # noqa: E402

STEPS = FRONT_END + ["rtl_codegen", "rtlsim", "hls_codegen", "csim"]


def build(model, out, frames, fps):
    """Build ``model`` through both simulators; returns report.json and the Python reference's frames/s."""
    path = Path(out).parent / f"{Path(out).name}.onnx"
    export_model(model, model.in_shape, path)
    cfg = BuildConfig(output_dir=str(out), quiet=True, verify=False, target_fps=fps, rtlsim_frames=frames,
                      csim_frames=frames, steps=STEPS)
    run_build(path, cfg)
    graph = built_graph(out)
    x = BuildContext(cfg, Path(out), {}).random_inputs(graph, frames)  # the frames both simulators streamed
    fast = FastGraph(graph, fuse=True)
    fast(x)  # warm-up
    best = best_seconds(lambda: fast(x))
    return json.loads((Path(out) / "report.json").read_text()), frames / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=10000)
    parser.add_argument("--frames", type=int, default=16, help="CNV frames (LFC streams 16x as many)")
    args = parser.parse_args()
    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [("CNV-1W1A DeSign", *build(random_model("cnv", "design"), tmp / "cnv", args.frames, args.fps)),
                ("LFC-1W1A", *build(random_model("lfc", "sign"), tmp / "lfc", args.frames * 16, args.fps))]
    print(f"\nSimulation throughput, folded for {args.fps:g} FPS at 100 MHz; cold compile times")
    print(f"{'model':<16} {'frames':>6} {'Python f/s':>11} {'Verilator f/s':>14} {'C-sim f/s':>10} "
          f"{'Verilator build s':>18} {'g++ build s':>12} {'C-sim/Verilator':>16} {'C-sim/Python':>13}")
    for name, report, py_fps in runs:
        rtl, csim = report["rtlsim"], report["csim"]
        assert rtl["frames"] == csim["frames"]
        rtl_fps = rtl["frames"] / rtl["sim_seconds"]
        c_fps = csim["frames"] / csim["sim_seconds"]
        print(f"{name:<16} {csim['frames']:>6} {py_fps:>11.1f} {rtl_fps:>14.1f} {c_fps:>10.1f} "
              f"{rtl['build_seconds']:>18.1f} {csim['build_seconds']:>12.1f} {c_fps / rtl_fps:>15.1f}x "
              f"{c_fps / py_fps:>12.2f}x")


if __name__ == "__main__":
    main()
