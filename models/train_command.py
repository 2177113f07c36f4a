"""``signflow train``: its options and the configs they make (with ``--resume``, options not given come from the
run); apart from ``models.train``, which the demo, notebooks and benches call with configs instead.
"""
from pathlib import Path

from signflow.files import refuse_overwrite
from signflow.models import data
from signflow.models.activations import ACT_KINDS, DITHER_SCALES, STE_KINDS
from signflow.models.checkpoint import CHECKPOINT, CONFIG, read_config
from signflow.models.kernels import ORIGINS
from signflow.models.recipes import RECIPE_NAMES, RECIPES
from signflow.models.train import CURVES, TrainConfig, train
from signflow.models.zoo import MODEL_NAMES, ORDERS, ModelConfig


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a zoo model (quantization-aware, binary weights and activations)",
        description="Train a binary network from the zoo; writes checkpoint.pt, config.json and curves.png "
                    "to --out after every epoch. Under torchrun it trains data-parallel. Recipes (--recipe): "
                    + "; ".join(f"'{r.name}': {r.summary}" for r in RECIPES.values())
                    + ". --epochs, --batch-size and --lr, when given, override the recipe's values.",
    )
    parser.add_argument("--model", default=None, help=f"zoo model: {', '.join(MODEL_NAMES)} (default digits)")
    parser.add_argument("--act", default=None, help=f"conv activation: {', '.join(ACT_KINDS)} (default sign)")
    parser.add_argument("--dataset", default=None,
                        help=f"dataset: {', '.join(data.DATASET_NAMES)} (default: the model's own)")
    parser.add_argument("--recipe", default=None,
                        help=f"training recipe: {', '.join(RECIPE_NAMES)} (default 'default'; see above)")
    parser.add_argument("--epochs", type=int, default=None, help="total epochs (default: the recipe's, 10)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder to write; one that already holds a run is refused unless --resume "
                             "(continue it) or --force (replace it); the run's own files are rewritten every epoch")
    parser.add_argument("--order", default=None, help=f"layer order around pools: {', '.join(ORDERS)} "
                        "(conv -> pool -> BN -> sign, as DeSign's published code, or conv -> BN -> sign -> pool, "
                        "as FINN's CNV; default: published for design and dysign, finn for sign)")
    parser.add_argument("--dither-scale", default=None, help=f"DeSign offset: {', '.join(DITHER_SCALES)} "
                        "(gamma_c * T as the published PyTorch code, or T as its TensorFlow code; default gamma)")
    parser.add_argument("--dither-origin", default=None, help=f"DeSign tiling origin: {', '.join(ORIGINS)} "
                        "(top-left as the published PyTorch code, or centred as its TensorFlow code; default corner)")
    parser.add_argument("--kernel", default=None, metavar="NAME_OR_FILE",
                        help="DeSign kernel name or .json/.npy file (default design2x2)")
    parser.add_argument("--ste", default=None, help=f"straight-through estimator: {', '.join(STE_KINDS)} "
                        "(default hardtanh)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size per process (default: the recipe's, 64 or 180 for binarynet)")
    parser.add_argument("--lr", type=float, default=None,
                        help="Adam learning rate of the first epoch, decayed by the recipe's schedule "
                             "(default: the recipe's, 0.01)")
    parser.add_argument("--weight-decay", type=float, default=None, help="Adam weight decay (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out; options not given are taken from the run")
    parser.add_argument("--force", action="store_true",
                        help="replace the run already in --out (without --resume it is otherwise refused)")
    parser.add_argument("--data-dir", default=None, help="folder of downloaded datasets")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads per process (default: torch's)")
    parser.add_argument("--device", default=None,
                        help="torch device: cpu (default), cuda (under torchrun: one GPU per process), cuda:N or "
                             "mps; cuda needs a CUDA build of torch; not taken from the run on --resume")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def configs_from_args(args):
    """``(ModelConfig, TrainConfig)`` from parsed options; with ``--resume`` unset options come from the run."""
    saved_model, saved_train = {}, {}
    if args.resume:
        doc = read_config(args.out)
        saved_model = ModelConfig.from_dict(doc["model"]).to_dict()  # runs from before `order`: FINN's order
        saved_train = doc.get("train") if isinstance(doc.get("train"), dict) else {}

    def pick(value, saved, key, default):
        if value is not None:
            return value
        return saved.get(key, default) if saved.get(key) is not None else default

    model_defaults, train_defaults = ModelConfig(), TrainConfig()
    # epochs, batch_size and lr default to None: check_config fills in the recipe's
    model_cfg = ModelConfig(**{key: pick(getattr(args, key), saved_model, key, getattr(model_defaults, key))
                               for key in ("model", "act", "kernel", "ste", "order", "dither_scale", "dither_origin")})
    if args.resume and args.kernel is None and saved_model.get("act") == model_cfg.act:
        # the run's kernel values, so a kernel file that moved or changed is not needed
        model_cfg.kernel_values = saved_model.get("kernel_values")
    train_cfg = TrainConfig(out=args.out, resume=args.resume, progress=not args.no_progress,
                            device=args.device or train_defaults.device,  # a property of this machine
                            **{key: pick(getattr(args, key), saved_train, key, getattr(train_defaults, key))
                               for key in ("dataset", "recipe", "epochs", "batch_size", "lr", "weight_decay",
                                           "seed", "data_dir", "threads")})
    return model_cfg, train_cfg


def check_out(args):
    """Refuse an --out that would lose data: a run there (unless --resume or --force), or a --kernel file
    that training would write over (always)."""
    out = Path(args.out)
    kernel = [args.kernel] if args.kernel is not None and Path(args.kernel).is_file() else []
    for name in (CHECKPOINT, CONFIG, CURVES):
        refuse_overwrite(out / name, kernel, force=True)
    if not args.resume:
        held = any((out / name).exists() for name in (CHECKPOINT, CONFIG))
        refuse_overwrite(out, force=args.force, what="a run in", exists=held,
                         hint="--resume to continue it, or choose another --out")


def run(args):
    check_out(args)
    model_cfg, train_cfg = configs_from_args(args)
    train(model_cfg, train_cfg)
