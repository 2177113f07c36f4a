"""Training recipes for ``signflow train --recipe NAME``: schedule, loss, batch size and augmentation.

``default`` is signflow's own recipe. ``binarynet`` is the recipe of the
published DeSign BinaryNet training (bemc22/DeSign, ``BNN/notebooks/demo_train.ipynb``):
Adam, a learning rate falling linearly per epoch from 1e-2 to 1e-4, the squared
hinge loss on -1/+1 targets, batches of 180 and data augmentation. Both use
Adam and clip the latent binary weights (``models.train``).
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from signflow.errors import UserError

# ---------------------------------------------------------------- learning-rate schedules


def cosine_lr(epoch, epochs, lr):
    """Learning rate of ``epoch`` (0-based): ``lr`` at epoch 0, a cosine decay towards 0 over ``epochs``."""
    return lr * 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs))


#: the binarynet schedule ends at this fraction of its first learning rate (1e-4 / 1e-2)
LINEAR_END = 0.01


def linear_lr(epoch, epochs, lr):
    """Learning rate of ``epoch`` (0-based): ``lr`` at epoch 0 falling linearly to ``lr * LINEAR_END``
    at the last epoch, ``epochs - 1``. A one-epoch run trains at ``lr``.

    Written as a weighted mean of the two ends, so both ends are exact floats.

    >>> [linear_lr(e, 3, 0.01) for e in range(3)]
    [0.01, 0.00505, 0.0001]
    """
    if epochs <= 1:
        return lr
    epoch = min(epoch, epochs - 1)
    return (lr * (epochs - 1 - epoch) + lr * LINEAR_END * epoch) / (epochs - 1)


# ---------------------------------------------------------------- losses


def cross_entropy(scores, labels, reduction="mean"):
    """Softmax cross-entropy of class ``scores`` (N x K) against integer ``labels`` (N)."""
    return F.cross_entropy(scores, labels, reduction=reduction)


def squared_hinge(scores, labels, reduction="mean"):
    """``max(0, 1 - t * y)^2`` with targets ``t = 2 * onehot(labels) - 1`` and ``y = scores``.

    ``reduction="mean"`` averages over samples and classes (Keras' ``squared_hinge``
    averages over classes, then over the batch: the same number); ``"sum"`` sums
    over samples of the per-sample class mean, so shards can be added before dividing
    by the sample count.
    """
    targets = 2.0 * F.one_hot(labels, scores.shape[1]).to(scores.dtype) - 1.0
    per_sample = torch.clamp(1.0 - targets * scores, min=0.0).square().mean(dim=1)
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.mean()


# ---------------------------------------------------------------- augmentation


#: datasets whose images may be mirrored left-right (a mirrored digit is another glyph)
FLIP_DATASETS = ("cifar10", "cifar100")


def augment(x, dataset, rng):
    """Random shifts (and left-right flips where ``dataset`` allows) of a batch ``x`` (N, C, H, W).

    Each image is padded by ``H // 8`` pixels of -1 (black, as images are scaled
    to [-1, 1]) on every side and cropped back to H x W at a random offset: 4 pixels on
    32 x 32 images, the ``RandomCrop(32, padding=4)`` of the published PyTorch (ReCU)
    CIFAR pipeline, 3 on MNIST, 1 on the 8 x 8 digits. Images of ``FLIP_DATASETS``
    are then mirrored with probability 1/2. ``rng`` is a numpy Generator.
    """
    n, c, h, w = x.shape
    pad_h, pad_w = h // 8, w // 8
    padded = np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)), constant_values=-1.0)
    rows = rng.integers(0, 2 * pad_h + 1, size=n)[:, None] + np.arange(h)  # N x H
    cols = rng.integers(0, 2 * pad_w + 1, size=n)[:, None] + np.arange(w)  # N x W
    if dataset in FLIP_DATASETS:
        flip = rng.random(n) < 0.5
        cols = np.where(flip[:, None], cols[:, ::-1], cols)
    index = (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
             rows[:, None, :, None], cols[:, None, None, :])
    return np.ascontiguousarray(padded[index])


# ---------------------------------------------------------------- the recipes


@dataclass(frozen=True)
class Recipe:
    """One way to train; the values an explicit ``--epochs`` / ``--batch-size`` / ``--lr`` override."""
    #: the name given to ``--recipe``, saved as ``recipe`` in the train section of config.json
    name: str
    #: one line for ``--help``
    summary: str
    #: total epochs
    epochs: int
    #: training mini-batch size in samples, per process
    batch_size: int
    #: learning rate of the first epoch
    lr: float
    #: ``(epoch, epochs, lr) -> learning rate of that epoch`` (0-based epoch)
    schedule: callable
    #: ``(scores, labels, reduction) -> loss``, "mean" or "sum" over samples
    loss: callable
    #: loss name for the curves
    loss_name: str
    #: augment training batches with ``augment`` (random shifts, flips on CIFAR)
    augment: bool


RECIPES = {
    "default": Recipe(
        "default", "Adam, cosine decay from --lr (default 0.01) towards 0, cross-entropy, batch 64, "
        "10 epochs, no augmentation",
        epochs=10, batch_size=64, lr=0.01, schedule=cosine_lr, loss=cross_entropy,
        loss_name="cross-entropy loss", augment=False),
    "binarynet": Recipe(
        "binarynet", "the published DeSign BinaryNet recipe: Adam, lr falling linearly per epoch from "
        "--lr (default 1e-2) to 1/100 of it (1e-4) at the last epoch, squared hinge loss on -1/+1 "
        "targets, batch 180, 10 epochs, random 1/8-size shifts (and left-right flips on CIFAR)",
        epochs=10, batch_size=180, lr=0.01, schedule=linear_lr, loss=squared_hinge,
        loss_name="squared hinge loss", augment=True),
}

RECIPE_NAMES = tuple(RECIPES)


def get_recipe(name):
    """The recipe called ``name``; a UserError naming the known ones otherwise."""
    if name not in RECIPES:
        raise UserError(f"unknown recipe '{name}'; choose one of {', '.join(RECIPE_NAMES)}")
    return RECIPES[name]
