"""A training run folder: ``checkpoint.pt`` (tensors only) and ``config.json``."""
import json
from pathlib import Path

import torch

from signflow.errors import UserError
from signflow.files import atomic_path
from signflow.models.zoo import ModelConfig, build_model, check_field_types

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"


def save_run(folder, model, model_cfg, state=None, info=None):
    """Write the model's state dict (plus optional training ``state``) and the JSON config."""
    folder = Path(folder)
    payload = {"model": model.state_dict(), **(state or {})}
    with atomic_path(folder / CHECKPOINT) as tmp:
        torch.save(payload, tmp)
    doc = {"model": model_cfg.to_dict(), **(info or {})}
    with atomic_path(folder / CONFIG) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")


def read_config(folder):
    """The run's JSON config as a dict."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise UserError(f"{folder} is not a training output folder: {CONFIG} is missing (run 'signflow train' first)")
    try:
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict):
            raise TypeError(f"a JSON {type(doc).__name__}, not an object")
        check_field_types(ModelConfig.from_dict(doc["model"]))
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path} is corrupt or not a signflow config ({err}); re-run 'signflow train'")
    except UserError as err:
        raise UserError(f"{path}: {err}; correct it or re-run 'signflow train'")
    return doc


def read_checkpoint(folder):
    """The checkpoint payload, loaded safely (``weights_only=True``)."""
    path = Path(folder) / CHECKPOINT
    if not path.is_file():
        raise UserError(f"{path} is missing; run 'signflow train --out {folder}' first")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise UserError(f"{path} is corrupt or not a checkpoint ({type(err).__name__}); re-run training")
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise UserError(f"{path} is not a signflow checkpoint (its 'model' entry is no state dict); re-run training")
    return payload


def load_run(folder):
    """Rebuild the model of a run folder; return ``(model, model_cfg, payload, config_doc)``."""
    doc = read_config(folder)
    cfg = ModelConfig.from_dict(doc["model"])
    payload = read_checkpoint(folder)
    model = build_model(cfg)
    # the DeSign kernels are buffers: loading would silently replace the kernel config.json names
    for name, kernel in model.state_dict().items():
        stored = payload["model"].get(name)
        if name.endswith("kernel") and isinstance(stored, torch.Tensor) and not torch.equal(stored, kernel):
            raise UserError(f"checkpoint in {folder} does not match its config: the DeSign kernel '{name}' differs "
                            f"from config.json's kernel_values; re-run 'signflow train' or restore config.json")
    try:
        model.load_state_dict(payload["model"])
    except (RuntimeError, TypeError, ValueError, AttributeError) as err:  # missing keys, shapes, non-tensors
        first = str(err).strip().splitlines()[1].strip() if "\n" in str(err) else str(err)
        raise UserError(f"checkpoint in {folder} does not match its config ({cfg.model}, {cfg.act}): {first}")
    return model, cfg, payload, doc
