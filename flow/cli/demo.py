"""``signflow demo``: the main job on the bundled default.

Trains the digits CNN with DeSign, exports it to QONNX (checked bit-exact
against PyTorch), builds it into a folded streaming accelerator, generates its
RTL and its HLS C++, and simulates the whole digits test set through both:
the RTL cycle-accurately in Verilator, the C++ compiled with g++. The
hardware's predictions must equal the software model's. It also writes the
Vivado project and the board driver (the bitstream needs Vivado).
"""
from pathlib import Path

import numpy as np

from signflow.errors import UserError
from signflow.files import prepare_dir, refuse_foreign_folder


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="train, export, build and simulate the digits DeSign CNN",
                              description="Main job on the bundled digits data: train -> export -> build -> "
                                          "RTL and HLS C++ -> simulation of the test set (Verilator, g++).")
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo); an earlier demo's is "
                                                     "replaced, a folder of other files refused")
    p.add_argument("--epochs", type=int, default=15, help="training epochs (default: 15)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--target-fps", type=float, default=100000, help="folding target (default: 100000)")
    p.set_defaults(func=run)


def check_folding(model_cfg, target_fps):
    """Fold the untrained model for ``target_fps`` (folding and the resource budget follow from the shapes
    alone), so an infeasible target is refused before minutes of training, not after."""
    import tempfile

    from signflow.builder import FRONT_END, BuildConfig, run_build
    from signflow.models.export import export_model
    from signflow.models.zoo import build_model

    model = build_model(model_cfg)
    with tempfile.TemporaryDirectory() as tmp:
        export_model(model.eval(), model.in_shape, Path(tmp) / "untrained.onnx")
        run_build(Path(tmp) / "untrained.onnx", BuildConfig(output_dir=str(Path(tmp) / "build"), quiet=True,
                                                            verify=False, target_fps=target_fps, steps=FRONT_END))


def run(args):
    import torch

    from signflow.builder import FRONT_END, BuildConfig, run_build
    from signflow.models.checkpoint import load_run
    from signflow.models.data import load_dataset
    from signflow.models.export import export_run
    from signflow.models.train import TrainConfig, train
    from signflow.models.zoo import ModelConfig
    from signflow.sim import csim, rtlsim

    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    BuildConfig(target_fps=args.target_fps).check()  # before minutes of training
    model_cfg = ModelConfig(model="digits", act="design", kernel="design2x2")
    refuse_foreign_folder(args.out, "model.onnx", "--out")
    check_folding(model_cfg, args.target_fps)
    out = prepare_dir(args.out)
    run_dir = out / "train"
    metrics = train(model_cfg, TrainConfig(dataset="digits", epochs=args.epochs, seed=args.seed, out=str(run_dir)))
    onnx_path = export_run(run_dir, out / "model.onnx")
    build_dir = out / "build"
    # synthesis and the bitstream: 'signflow build' (Yosys, Vitis HLS, Vivado)
    steps = FRONT_END + ["rtl_codegen", "rtlsim", "hls_codegen", "csim", "vivado_project", "driver"]
    graph = run_build(onnx_path, BuildConfig(output_dir=str(build_dir), target_fps=args.target_fps, steps=steps))

    x, y = load_dataset("digits", "test")
    model = load_run(run_dir)[0].eval()
    with torch.no_grad():
        software = model(torch.from_numpy(x)).numpy().argmax(1)
    rtl_scores, c_scores = [], []
    figures = rtlsim.simulate(graph, build_dir / "rtl", x, build_dir / "sim", outputs=rtl_scores)
    csim.simulate(graph, build_dir / "hls", x, build_dir / "csim", outputs=c_scores)
    hardware, c_hardware = np.asarray(rtl_scores).argmax(1), np.asarray(c_scores).argmax(1)
    if not (np.array_equal(software, hardware) and np.array_equal(software, c_hardware)):
        raise UserError("the simulated hardware's predictions differ from the trained model's; please report this")
    clock_mhz = 1000 / BuildConfig().clock_ns
    print()
    print((build_dir / "estimate.txt").read_text(), end="")
    print(f"digits CNN, DeSign 2x2, {len(y)} test images: accuracy {np.mean(software == y):.4f} (PyTorch), "
          f"{np.mean(hardware == y):.4f} (RTL in Verilator, bit-exact), "
          f"{np.mean(c_hardware == y):.4f} (HLS C++ in g++, bit-exact)")
    print(f"hardware: {figures['cycles_per_frame']} cycles/frame -> "
          f"{clock_mhz * 1e6 / figures['cycles_per_frame']:.0f} FPS at {clock_mhz:g} MHz, "
          f"latency {figures['latency_cycles']} cycles; RTL in {build_dir / 'rtl'}, HLS in {build_dir / 'hls'}")
    print(f"QONNX model: {Path(onnx_path)}   (training reported test accuracy {metrics['test_acc']:.4f})")
    print(f"for the board: Vivado project in {build_dir / 'vivado'} (make_project.tcl), driver in "
          f"{build_dir / 'deploy'}; 'signflow build {Path(onnx_path)} --out {build_dir} --from-step bitstream' "
          "with Vivado makes the bitstream and deploy.zip")
