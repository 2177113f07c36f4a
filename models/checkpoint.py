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
    # the config rides along, so an edited or swapped config.json is noticed (see load_run)
    payload = {"model": model.state_dict(), "config": model_cfg.to_dict(), **(state or {})}
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


def check_recorded_config(folder, doc, payload):
    """Refuse a checkpoint whose recorded config differs from config.json's ``doc``: loading the state would
    silently replace the kernel buffers config.json names, and the fields outside the state (dither scale,
    origin, ...) would change the function. Checkpoints written before the record are not checked."""
    recorded = payload.get("config")
    if isinstance(recorded, dict):
        try:
            recorded = ModelConfig.from_dict(recorded).to_dict()  # read as config.json's is
        except TypeError:
            raise UserError(f"{Path(folder) / CHECKPOINT} records a config signflow cannot read; re-run training")
        differ = sorted(key for key, value in ModelConfig.from_dict(doc["model"]).to_dict().items()
                        if recorded.get(key) != value)
        if differ:
            verb = "differs" if len(differ) == 1 else "differ"
            raise UserError(f"checkpoint in {folder} does not match its config.json: {', '.join(differ)} {verb} "
                            f"(checkpoint: {', '.join(f'{k}={recorded.get(k)!r}' for k in differ)}); restore "
                            "config.json or re-run 'signflow train'")


def load_run(folder):
    """Rebuild the model of a run folder; return ``(model, model_cfg, payload, config_doc)``."""
    doc = read_config(folder)
    cfg = ModelConfig.from_dict(doc["model"])
    payload = read_checkpoint(folder)
    model = build_model(cfg)  # refuses an invalid config.json first
    check_recorded_config(folder, doc, payload)
    try:
        model.load_state_dict(payload["model"])
    except (RuntimeError, TypeError, ValueError, AttributeError) as err:  # missing keys, shapes, non-tensors
        first = str(err).strip().splitlines()[1].strip() if "\n" in str(err) else str(err)
        raise UserError(f"checkpoint in {folder} does not match its config.json ({cfg.model}, {cfg.act}): {first}; "
                        "restore config.json or re-run 'signflow train'")
    return model, cfg, payload, doc
