"""``signflow demo``: the main job on the bundled default.

Trains the digits CNN with DeSign, evaluates it, exports it to QONNX (checked
bit-exact against PyTorch), builds it into a folded HW-layer graph with
estimates, and runs the digits test set through that graph: its accuracy must
equal the software model's. Later stages of the flow extend this job.
"""
from pathlib import Path

import numpy as np

from models.errors import UserError
from models.files import prepare_dir


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="train, export and build the digits DeSign CNN",
                              description="Main job on the bundled digits data: train -> export -> build -> run.")
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    p.add_argument("--epochs", type=int, default=15, help="training epochs (default: 15)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--target-fps", type=float, default=100000, help="folding target (default: 100000)")
    p.set_defaults(func=run)


def run(args):
    import torch

    from flow.build import FRONT_END, BuildConfig, run_build
    from flow.fastrun import FastGraph
    from models.checkpoint import load_run
    from models.data import load_dataset
    from models.export import export_run
    from models.train import TrainConfig, train
    from models.zoo import ModelConfig

    out = prepare_dir(args.out)
    run_dir = out / "train"
    model_cfg = ModelConfig(model="digits", act="design", kernel="design2x2")
    metrics = train(model_cfg, TrainConfig(dataset="digits", epochs=args.epochs, seed=args.seed, out=str(run_dir)))
    onnx_path = export_run(run_dir, out / "model.onnx")
    build_dir = out / "build"
    graph = run_build(onnx_path, BuildConfig(output_dir=str(build_dir), target_fps=args.target_fps, steps=FRONT_END))

    x, y = load_dataset("digits", "test")
    model = load_run(run_dir)[0].eval()
    with torch.no_grad():
        software = model(torch.from_numpy(x)).numpy()
    hardware = FastGraph(graph)(x)
    if not np.array_equal(software, hardware):
        raise UserError("the built graph's scores differ from the trained model's; please report this")
    print()
    print((build_dir / "estimate.txt").read_text(), end="")
    print(f"digits CNN, DeSign 2x2: test accuracy {metrics['test_acc']:.4f} (PyTorch), "
          f"{np.mean(hardware.argmax(1) == y):.4f} (HW-layer graph, {len(y)} images, scores bit-exact)")
    print(f"QONNX model: {Path(onnx_path)}   build: {build_dir}")
