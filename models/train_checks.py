"""Checks of a training run's inputs, made before anything is built: names, numbers, the device, the dataset's
shape and a resumed run's model (the output folder: signflow.files.check_writable); apart from the loop so it
reads as training alone.
"""
import math

import numpy as np
import torch

from signflow.errors import UserError
from signflow.models import data
from signflow.models.activations import ACT_KINDS, STE_KINDS
from signflow.models.kernels import get_kernel
from signflow.models.recipes import get_recipe
from signflow.models.zoo import MODEL_NAMES, ZOO


def check_config(model_cfg, train_cfg):
    """Validate names and numbers before anything is created; return the dataset name.

    Fills the epochs, batch size and learning rate left None with the recipe's.
    """
    recipe = get_recipe(train_cfg.recipe)  # raises a UserError naming the known recipes
    for name in ("epochs", "batch_size", "lr"):
        if getattr(train_cfg, name) is None:
            setattr(train_cfg, name, getattr(recipe, name))
    if model_cfg.model not in ZOO:
        raise UserError(f"unknown model '{model_cfg.model}'; choose one of {', '.join(MODEL_NAMES)}")
    if model_cfg.act not in ACT_KINDS:
        raise UserError(f"unknown activation '{model_cfg.act}'; choose one of {', '.join(ACT_KINDS)}")
    if model_cfg.ste not in STE_KINDS:
        raise UserError(f"unknown straight-through estimator '{model_cfg.ste}'; choose one of {', '.join(STE_KINDS)}")
    if model_cfg.kernel_values is None:
        get_kernel(model_cfg.kernel)  # raises a UserError naming the valid kernels
    dataset = train_cfg.dataset or ZOO[model_cfg.model].dataset
    if dataset not in data.DATASET_NAMES:
        default = "" if train_cfg.dataset else f" (the default of model '{model_cfg.model}')"
        raise UserError(f"unknown dataset '{dataset}'{default}; choose one of {', '.join(data.DATASET_NAMES)}")
    for name, minimum in (("epochs", 1), ("batch_size", 2), ("eval_batch_size", 1), ("seed", 0), ("threads", 0)):
        value = getattr(train_cfg, name)
        if not isinstance(value, int) or value < minimum:
            raise UserError(f"{name.replace('_', '-')} must be an integer >= {minimum}, not {value!r}")
    if not train_cfg.lr > 0 or not math.isfinite(train_cfg.lr):
        raise UserError(f"learning rate must be a positive number, not {train_cfg.lr!r}")
    if not train_cfg.weight_decay >= 0:
        raise UserError(f"weight decay must be >= 0, not {train_cfg.weight_decay!r}")
    check_device(train_cfg.device)
    return dataset


def check_device(name):
    """The ``torch.device`` called ``name`` (cpu, cuda, cuda:N or mps), if this machine has it; else a UserError."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"unknown device '{name}'; choose cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"device '{name}' is not available: this torch ({torch.__version__}) sees no "
                            "CUDA GPU; install a CUDA build of torch or use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"device '{name}' does not exist: this machine has {torch.cuda.device_count()} "
                            "CUDA GPUs, numbered from 0")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"device '{name}' is not available on this machine; use --device cpu")
    return device


def dataset_shape(name, x, y):
    """``(in_shape, classes)`` of a dataset: from ``data.dataset_info`` when present, else from the arrays."""
    info_fn = getattr(data, "dataset_info", None)
    if info_fn is not None:
        info = info_fn(name)

        def get(*keys):
            for key in keys:
                value = info.get(key) if isinstance(info, dict) else getattr(info, key, None)
                if value is not None:
                    return value
            return None

        shape, classes = get("in_shape", "shape"), get("classes", "num_classes")
        if isinstance(classes, (list, tuple)):  # class names
            classes = len(classes)
        if shape is not None and classes is not None:
            return [int(v) for v in shape], int(classes)
    return [int(v) for v in x.shape[1:]], int(y.max()) + 1


def model_differences(saved, wanted):
    """Human-readable differences between a saved and a requested (built) model config."""
    diffs = []
    for name in ("model", "act", "ste", "order", "in_shape", "classes"):
        old, new = getattr(saved, name), getattr(wanted, name)
        if name == "in_shape":
            old, new = list(old or []), list(new or [])
        if old != new:
            diffs.append(f"{name} {old} in the run, {new} requested")
    if saved.act == wanted.act == "design":
        if saved.kernel_values is None:
            same = saved.kernel == wanted.kernel
        else:
            same = np.array_equal(np.asarray(saved.kernel_values, dtype=np.float32),
                                  np.asarray(wanted.kernel_values, dtype=np.float32))
        if not same:
            diffs.append(f"kernel values of '{saved.kernel}' in the run differ from '{wanted.kernel}'")
        for name in ("dither_scale", "dither_origin"):
            old, new = getattr(saved, name), getattr(wanted, name)
            if old != new:
                diffs.append(f"{name.replace('_', ' ')} {old} in the run, {new} requested")
    return diffs
