"""Quantization-aware training of the zoo's binary networks: ``TrainConfig``, the loop and its pieces.

Adam, with the learning-rate schedule, loss, batch size and augmentation of a
recipe (``models.recipes``: ``default`` is a per-epoch cosine schedule with
cross-entropy, ``binarynet`` the published DeSign recipe), and the latent float
weights of every binary conv / linear layer clipped to [-1, 1] after each step
(beyond that range the straight-through gradient of the weight sign is zero, so
a weight could drift away and never flip back).

After every epoch the run folder gets ``checkpoint.pt`` (weights plus the
optimizer, random and statistics state needed by ``--resume``),
``config.json`` and ``curves.png``. Launched by ``torchrun`` (``WORLD_SIZE`` > 1)
the same code trains data-parallel (``models.processes``): CPU processes over gloo,
or with ``device="cuda"`` one GPU per process (``cuda:LOCAL_RANK``) over NCCL.
The inputs are checked first (``models.train_checks``); the command line is
``models.train_command`` (``signflow train``).
"""
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import brevitas.nn as qnn
import numpy as np
import torch
from brevitas.core.scaling import ParameterFromRuntimeStatsScaling

from signflow.errors import UserError
from signflow.files import atomic_path, check_writable, prepare_dir
from signflow.models import data
from signflow.models.activations import DynamicSign
from signflow.models.checkpoint import CHECKPOINT, check_recorded_config, read_checkpoint, read_config, save_run
from signflow.models.evaluate import EVAL_BATCH_SIZE
from signflow.models.processes import Processes
from signflow.models.recipes import RECIPES, augment
from signflow.models.train_checks import check_config, dataset_shape, model_differences
from signflow.models.zoo import ModelConfig, build_model

#: per-epoch series kept in the checkpoint and config.json, one float per finished epoch
HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")

CURVES = "curves.png"


@dataclass
class TrainConfig:
    """How to train; saved as the "train" section of the run's config.json."""
    #: dataset name (see ``models.data.DATASET_NAMES``); None = the zoo entry's default dataset
    dataset: str = None
    #: training recipe (see ``models.recipes.RECIPES``): schedule, loss, augmentation and the defaults below
    recipe: str = "default"
    #: total number of epochs (passes over the training set); a resumed run continues up to this count;
    #: None = the recipe's
    epochs: int = None
    #: training mini-batch size in samples, per process (under torchrun the effective batch is this x world
    #: size); None = the recipe's
    batch_size: int = None
    #: Adam learning rate of the first epoch, which the recipe's schedule decays; None = the recipe's
    lr: float = None
    #: Adam L2 weight decay coefficient (0 = none; binary latent weights are clipped instead)
    weight_decay: float = 0.0
    #: random seed (non-negative int) for weight init and data shuffling; same seed -> same weights
    seed: int = 0
    #: folder of downloaded datasets; None = the data module's default location
    data_dir: str = None
    #: download a missing dataset (False: fail with an error instead)
    download: bool = True
    #: run folder written after every epoch (checkpoint.pt, config.json, curves.png)
    out: str = "out/train"
    #: continue the run in ``out`` from its last finished epoch instead of starting over
    resume: bool = False
    #: evaluation batch size in samples (no gradients are kept, so it can be large)
    eval_batch_size: int = EVAL_BATCH_SIZE
    #: CPU threads torch uses per process; 0 = torch's default (there are no data-loader workers:
    #: datasets are in-memory arrays)
    threads: int = 0
    #: torch device to train on: "cpu", "cuda" (under torchrun: cuda:LOCAL_RANK), "cuda:N", ...
    device: str = "cpu"
    #: show a per-batch progress bar on stderr
    progress: bool = True


# ---------------------------------------------------------------- pieces of the loop


def binary_weights(model):
    """Latent weights of the binary conv / linear layers (not DySign's integer MLP layers)."""
    integer = {id(m) for block in model.modules() if isinstance(block, DynamicSign) for m in block.modules()}
    return [m.weight for m in model.modules()
            if isinstance(m, (qnn.QuantConv2d, qnn.QuantLinear)) and id(m) not in integer]


def epoch_batches(count, batch_size, seed, epoch, rank=0, world=1):
    """Index batches of one epoch for process ``rank`` of ``world``.

    The permutation depends only on ``(seed, epoch)``, so it needs no saved
    state. With several processes it is padded by wrapping around to a multiple
    of ``world`` and dealt out round-robin, so every process runs the same
    number of steps (as ``DistributedSampler`` does). A final batch of one
    sample is dropped: BatchNorm cannot normalize a single value.
    """
    order = np.random.default_rng([seed, epoch]).permutation(count)
    per_rank = -(-count // world)
    mine = np.resize(order, per_rank * world)[rank::world]
    batches = [mine[start:start + batch_size] for start in range(0, len(mine), batch_size)]
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()
    return batches


def stats_state(model):
    """State of Brevitas scales initialised from runtime statistics (DySign's integer quantizers).

    Their step counter, running buffer and raw parameter are not (faithfully)
    in the state dict, which would end statistics collection early on resume.
    """
    return {name: {"counter": int(m.counter), "buffer": m.buffer.detach().clone(),
                   "value": m.value.detach().clone()}
            for name, m in model.named_modules() if isinstance(m, ParameterFromRuntimeStatsScaling)}


def load_stats_state(model, state):
    modules = dict(model.named_modules())
    for name, item in state.items():
        module = modules.get(name)
        if isinstance(module, ParameterFromRuntimeStatsScaling):
            module.counter = int(item["counter"])
            with torch.no_grad():
                module.buffer.copy_(item["buffer"])
                module.value.copy_(item["value"])


def write_curves(path, history, loss_name="cross-entropy loss"):
    """Loss and accuracy per epoch, train and test, as a PNG (written atomically)."""
    from matplotlib.figure import Figure  # no pyplot: no global backend, Agg renders the PNG
    from matplotlib.ticker import MaxNLocator

    epochs = list(range(1, len(history["train_loss"]) + 1))
    fig = Figure(figsize=(9, 3.5), dpi=100)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, key, title in ((ax_loss, "loss", loss_name), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], marker="o", label="train")
        ax.plot(epochs, history[f"test_{key}"], marker="s", label="test")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.set_ylim(0.0, 1.0)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _metrics(history, dataset, world):
    best = int(np.argmax(history["test_acc"]))
    return {
        "epochs": len(history["test_acc"]),
        "train_loss": history["train_loss"][-1],
        "train_acc": history["train_acc"][-1],
        "test_loss": history["test_loss"][-1],
        "test_acc": history["test_acc"][-1],
        "best_test_acc": history["test_acc"][best],
        "best_epoch": best + 1,
        "dataset": dataset,
        "world_size": world,
        "seconds": float(sum(history["seconds"])),
    }


# ---------------------------------------------------------------- training


def train(model_cfg, train_cfg):
    """Train ``model_cfg`` as ``train_cfg`` says; return the final metrics (a dict).

    Fills in ``model_cfg.in_shape`` / ``classes`` from the dataset and
    ``train_cfg.dataset`` with the zoo default when it is None.
    """
    train_cfg.dataset = check_config(model_cfg, train_cfg)
    out = Path(train_cfg.out)
    check_writable(out)
    resume_doc = resume_payload = None
    if train_cfg.resume:
        resume_doc = read_config(out)
        resume_payload = read_checkpoint(out)
        check_recorded_config(out, resume_doc, resume_payload)
        missing = [k for k in ("optimizer", "epoch", "history") if k not in resume_payload]
        if missing:
            raise UserError(f"{out / CHECKPOINT} has no training state ({', '.join(missing)} missing); "
                            "it cannot be resumed, train into a new --out")
        saved = resume_doc.get("train") if isinstance(resume_doc.get("train"), dict) else {}
        saved_recipe = saved.get("recipe") or "default"  # runs from before recipes used the default one
        if saved_recipe != train_cfg.recipe:
            raise UserError(f"cannot resume {out}: it was trained with recipe '{saved_recipe}', not "
                            f"'{train_cfg.recipe}'; leave out --recipe or train into a new --out")

    old_flags = (torch.are_deterministic_algorithms_enabled(),
                 torch.is_deterministic_algorithms_warn_only_enabled())
    old_threads = torch.get_num_threads()
    procs = Processes(train_cfg.device)
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        if train_cfg.threads:
            torch.set_num_threads(train_cfg.threads)
        return _train(model_cfg, train_cfg, out, procs, resume_doc, resume_payload)
    finally:
        procs.stop()
        torch.use_deterministic_algorithms(old_flags[0], warn_only=old_flags[1])
        torch.set_num_threads(old_threads)


def _load_data(train_cfg, procs):
    def load(split):
        return data.load_dataset(train_cfg.dataset, split, data_dir=train_cfg.data_dir,
                                 download=train_cfg.download)

    if not procs.main:
        procs.barrier()  # rank 0 downloads first; the others then read its files
    arrays = load("train") + load("test")
    if procs.main:
        procs.barrier()
    return arrays


def _train(model_cfg, cfg, out, procs, resume_doc, payload):
    recipe = RECIPES[cfg.recipe]
    x_train, y_train, x_test, y_test = _load_data(cfg, procs)
    model_cfg.in_shape, model_cfg.classes = dataset_shape(cfg.dataset, x_train, y_train)
    if list(x_train.shape[1:]) != model_cfg.in_shape or int(y_train.max()) >= model_cfg.classes:
        raise UserError(f"dataset '{cfg.dataset}' holds images {list(x_train.shape[1:])} and labels up to "
                        f"{int(y_train.max())}, not the {model_cfg.in_shape} / {model_cfg.classes} classes it declares")
    torch.manual_seed(cfg.seed)
    model = build_model(model_cfg).to(procs.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history, start = {key: [] for key in HISTORY_KEYS}, 0
    if payload is not None:
        start, history = _restore(out, model, model_cfg, optimizer, cfg, resume_doc, payload)
    if procs.main:
        prepare_dir(out)
        if payload is None and (out / CHECKPOINT).exists():
            print(f"note: replacing the run in {out} (use --resume to continue it)", file=sys.stderr)
    net = procs.wrap(model)
    clipped = binary_weights(model)
    test_x, test_y = x_test[procs.rank::procs.world], y_test[procs.rank::procs.world]

    if start >= cfg.epochs and procs.main:
        print(f"{out} already has {start} epochs; nothing to do (raise --epochs to train longer)")
    for epoch in range(start, cfg.epochs):
        began = time.perf_counter()
        # the schedule is a function of the epoch alone, so a resumed run needs no scheduler state
        lr = recipe.schedule(epoch, cfg.epochs, cfg.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batches = epoch_batches(len(y_train), cfg.batch_size, cfg.seed, epoch, procs.rank, procs.world)
        shifts = np.random.default_rng([cfg.seed, epoch, procs.rank, 1])  # augmentation, same on resume
        net.train()
        loss_sum = correct = seen = 0.0
        bar = _progress(batches, f"epoch {epoch + 1}/{cfg.epochs}", cfg.progress and procs.main)
        for idx in bar:
            images = augment(x_train[idx], cfg.dataset, shifts) if recipe.augment else x_train[idx]
            xb = torch.from_numpy(images).to(procs.device)
            yb = torch.from_numpy(y_train[idx]).to(procs.device)
            scores = net(xb)
            loss = recipe.loss(scores, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for weight in clipped:
                    weight.clamp_(-1.0, 1.0)
            batch_loss = loss.item()
            loss_sum += batch_loss * len(idx)
            correct += int((scores.argmax(dim=1) == yb).sum())
            seen += len(idx)
            bar.set_postfix(loss=f"{batch_loss:.3f}", refresh=False)
        bar.close()
        # Train figures are running averages over the epoch (train mode, weights changing).
        loss_sum, correct, seen = procs.sum([loss_sum, correct, seen])
        procs.share_buffers(model)
        test_correct, test_loss, test_seen = procs.sum(
            split_counts(model, test_x, test_y, recipe.loss, cfg.eval_batch_size, procs.device))
        for key, value in (("train_loss", loss_sum / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss / test_seen), ("test_acc", test_correct / test_seen),
                           ("lr", lr), ("seconds", time.perf_counter() - began)):
            history[key].append(float(value))
        if procs.main:
            print(f"epoch {epoch + 1}/{cfg.epochs}  loss {history['train_loss'][-1]:.4f}  "
                  f"train acc {history['train_acc'][-1]:.4f}  test acc {history['test_acc'][-1]:.4f}", flush=True)
            state = {
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "history": {key: list(values) for key, values in history.items()},
                "rng": {"torch": torch.get_rng_state()},
                "stats": stats_state(model),
            }
            info = {"train": asdict(cfg), "metrics": _metrics(history, cfg.dataset, procs.world)}
            save_run(out, model, model_cfg, state=state, info=info)
            write_curves(out / CURVES, history, recipe.loss_name)
    if not history["test_acc"]:
        return {}
    return _metrics(history, cfg.dataset, procs.world)


def split_counts(model, x, y, loss, batch_size, device):
    """``(correct, loss_sum, count)`` of ``model`` on numpy ``x``, ``y`` with the recipe's ``loss``, on ``device``.

    Like ``models.evaluate.evaluate_counts`` (eval mode, no gradients, mode restored),
    but with any loss and on any device.
    """
    was_training = model.training
    model.eval()
    correct, loss_sum = 0, 0.0
    try:
        with torch.no_grad():
            for begin in range(0, len(y), batch_size):
                xb = torch.from_numpy(x[begin:begin + batch_size]).to(device)
                yb = torch.from_numpy(y[begin:begin + batch_size]).to(device)
                scores = model(xb)
                loss_sum += float(loss(scores, yb, reduction="sum"))
                correct += int((scores.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    return correct, loss_sum, len(y)


def _progress(batches, desc, enabled):
    from tqdm import tqdm

    return tqdm(batches, desc=desc, unit="batch", file=sys.stderr, leave=False, disable=not enabled,
                dynamic_ncols=True)


def _restore(out, model, model_cfg, optimizer, cfg, doc, payload):
    """Load a run's training state into fresh objects; return ``(epochs done, history)``."""
    saved_cfg = ModelConfig.from_dict(doc["model"])
    diffs = model_differences(saved_cfg, model_cfg)
    if diffs:
        raise UserError(f"cannot resume {out}: it holds a different model ({'; '.join(diffs)}); "
                        "use the run's settings or a new --out")
    try:
        model.load_state_dict(payload["model"])
        load_stats_state(model, payload.get("stats", {}))
        optimizer.load_state_dict(payload["optimizer"])
        start = int(payload["epoch"])
        history = {key: [float(v) for v in payload["history"].get(key, [])][:start] for key in HISTORY_KEYS}
        if "rng" in payload:
            torch.set_rng_state(payload["rng"]["torch"])
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"cannot resume {out}: its checkpoint does not fit the model ({first})")
    # The current --lr / --epochs define the schedule from here on (a longer run
    # re-stretches it); unchanged settings continue it exactly.
    for group in optimizer.param_groups:
        group["weight_decay"] = cfg.weight_decay
    return start, history
