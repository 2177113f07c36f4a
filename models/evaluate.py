"""Accuracy of a model on a dataset split, and ``signflow evaluate DIR``."""
import torch
import torch.nn.functional as F

from signflow.errors import UserError

#: default evaluation batch size (samples); evaluation holds no gradients, so it can be large
EVAL_BATCH_SIZE = 512


def evaluate_counts(model, x, y, batch_size=EVAL_BATCH_SIZE):
    """``(correct, loss_sum, count)`` of ``model`` on images ``x`` and labels ``y``.

    Runs in eval mode without gradients and restores the model's mode afterwards.
    ``x`` and ``y`` are numpy arrays or tensors; ``loss_sum`` is the summed
    cross-entropy, so shards of a dataset can be added up before dividing.
    """
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    was_training = model.training
    model.eval()
    correct, loss_sum = 0, 0.0
    try:
        with torch.no_grad():
            for start in range(0, len(y), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                out = model(xb)
                loss_sum += float(F.cross_entropy(out, yb, reduction="sum"))
                correct += int((out.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    return correct, loss_sum, int(len(y))


def evaluate(model, x, y, batch_size=EVAL_BATCH_SIZE):
    """Top-1 accuracy (a fraction in [0, 1]) of ``model`` on ``x``, ``y``."""
    if len(y) == 0:
        raise UserError("nothing to evaluate: the dataset split is empty")
    correct, _, count = evaluate_counts(model, x, y, batch_size)
    return correct / count


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy of a trained run on a dataset split",
        description="Load a 'signflow train' output folder and print its accuracy.",
    )
    parser.add_argument("run_dir", metavar="DIR", help="output folder of 'signflow train'")
    parser.add_argument("--dataset", default=None,
                        help="dataset name (default: the one the run was trained on)")
    parser.add_argument("--split", default="test", help="train or test (default test)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of downloaded datasets (default: the one recorded by training)")
    parser.add_argument("--batch-size", type=int, default=EVAL_BATCH_SIZE,
                        help=f"evaluation batch size (default {EVAL_BATCH_SIZE})")
    parser.set_defaults(func=run)
    return parser


def run(args):
    from signflow.models.checkpoint import load_run
    from signflow.models.data import DATASET_NAMES, load_dataset
    from signflow.models.zoo import ZOO

    if args.split not in ("train", "test"):
        raise UserError(f"unknown split '{args.split}'; choose train or test")
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {args.batch_size}")
    model, cfg, _, doc = load_run(args.run_dir)
    recorded = doc.get("train") if isinstance(doc.get("train"), dict) else {}
    dataset = args.dataset or recorded.get("dataset") or ZOO[cfg.model].dataset
    if dataset not in DATASET_NAMES:
        raise UserError(f"unknown dataset '{dataset}'; choose one of {', '.join(DATASET_NAMES)}")
    x, y = load_dataset(dataset, args.split, data_dir=args.data_dir or recorded.get("data_dir"))
    if list(x.shape[1:]) != list(cfg.in_shape):
        raise UserError(f"dataset '{dataset}' has images of shape {list(x.shape[1:])} but the model "
                        f"in {args.run_dir} expects {list(cfg.in_shape)}")
    if len(y) and int(y.max()) >= cfg.classes:
        raise UserError(f"dataset '{dataset}' has label {int(y.max())} but the model in {args.run_dir} "
                        f"has only {cfg.classes} classes")
    if len(y) == 0:
        raise UserError(f"the {args.split} split of dataset '{dataset}' is empty")
    correct, _, count = evaluate_counts(model, x, y, args.batch_size)
    print(f"{dataset} {args.split} accuracy: {correct / count:.4f} ({correct}/{count})")
