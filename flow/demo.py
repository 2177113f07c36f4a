"""``signflow demo``: the main job on the bundled default.

Trains the digits CNN with DeSign, evaluates it, exports it to QONNX (checked
bit-exact against PyTorch) and prints the figures. Later stages of the flow
extend this job.
"""
from pathlib import Path

from models.files import prepare_dir


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="train, evaluate and export the digits DeSign CNN",
                              description="Main job on the bundled digits data: train -> evaluate -> export.")
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    p.add_argument("--epochs", type=int, default=15, help="training epochs (default: 15)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(func=run)


def run(args):
    from models.export import export_run
    from models.train import TrainConfig, train
    from models.zoo import ModelConfig

    out = prepare_dir(args.out)
    run_dir = out / "train"
    model_cfg = ModelConfig(model="digits", act="design", kernel="design2x2")
    metrics = train(model_cfg, TrainConfig(dataset="digits", epochs=args.epochs, seed=args.seed, out=str(run_dir)))
    onnx_path = export_run(run_dir, out / "model.onnx")
    print()
    print(f"digits CNN, DeSign 2x2: test accuracy {metrics['test_acc']:.4f}")
    print(f"QONNX model (bit-exact with PyTorch): {Path(onnx_path)}")
