"""``signflow export`` (and ``evaluate``, which reads a run the same way): damaged or edited run folders and bad
options are refused in one line, exit 2, no traceback, no output file."""
import json

import pytest
import torch


def _edit_config(**fields):
    def setup(scratch):
        run = scratch("run")
        doc = json.loads((run / "config.json").read_text())
        doc["model"].update(fields)
        (run / "config.json").write_text(json.dumps(doc))
    return setup


def _edit_checkpoint(change):
    def setup(scratch):
        run = scratch("run")
        payload = torch.load(run / "checkpoint.pt", weights_only=True)
        change(payload)
        torch.save(payload, run / "checkpoint.pt")
    return setup


def _copy_run(scratch):
    scratch("run")


def _truncate_checkpoint(scratch):
    path = scratch("run") / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:100])


def _no_config(scratch):
    (scratch("run") / "config.json").unlink()


def _config_a_list(scratch):
    (scratch("run") / "config.json").write_text("[1, 2]")


#: (id, setup, extra arguments, fragment of the error line)
CASES = [
    ("no such run", None, [], "training folder run does not exist"),
    ("no config", _no_config, [], "run is not a training output folder: config.json is missing"),
    ("truncated checkpoint", _truncate_checkpoint, [], "run/checkpoint.pt is corrupt or not a checkpoint"),
    ("model entry a list", _edit_checkpoint(lambda p: p.update(model=[1, 2])), [],
     "run/checkpoint.pt is not a signflow checkpoint (its 'model' entry is no state dict)"),
    ("state of numbers", _edit_checkpoint(lambda p: p.update(model={k: 3 for k in p["model"]})), [],
     "checkpoint in run does not match its config.json (digits, design)"),
    ("state of another model", _edit_checkpoint(lambda p: p["model"].pop(next(iter(p["model"])))), [],
     "checkpoint in run does not match its config.json (digits, design)"),
    ("in_shape a string", _edit_config(in_shape="abc"), [],
     "run/config.json: model config 'in_shape' must be [channels, height, width] of integers in 1..4096, or null, "
     "not 'abc'"),
    ("in_shape of two", _edit_config(in_shape=[1, 8]), [], "model config 'in_shape' must be [channels, height"),
    ("kernel_values a string", _edit_config(kernel_values="x"), [],
     "run/config.json: model config: 'kernel_values' must be a 2-D or 3-D list of numbers, not a str"),
    ("ragged kernel_values", _edit_config(kernel_values=[[1, 2], [3]]), [],
     "'kernel_values' must be a 2-D or 3-D list of numbers with rows of equal length"),
    ("classes negative", _edit_config(classes=-1), [], "model config 'classes' must be an integer in 1..100000"),
    ("act a number", _edit_config(act=5), [], "model config 'act' must be a name (a string), not 5"),
    ("unknown act", _edit_config(act="relu"), [], "unknown activation 'relu'"),
    ("unknown key", _edit_config(width=3), [], "run/config.json is corrupt or not a signflow config"),
    ("config a list", _config_a_list, [], "run/config.json is corrupt or not a signflow config (a JSON list, not an "
     "object)"),
    # the kernel is a checkpoint buffer: loading it would silently override the kernel config.json names
    ("kernel edited", _edit_config(kernel_values=[[1, 1], [3, 3]]), [],
     "checkpoint in run does not match its config.json: kernel_values differs (checkpoint: kernel_values=[[0.63"),
    # outside the state: the function would change without a word
    ("dither scale edited", _edit_config(dither_scale="raw"), [],
     "checkpoint in run does not match its config.json: dither_scale differs (checkpoint: dither_scale='gamma')"),
    ("negative --check", _copy_run, ["--check", "-5"], "--check must be an integer from 0 (no check) to 100000, not -5"),
    ("--out over the checkpoint", _copy_run, ["--out", "run/checkpoint.pt"],
     "output file run/checkpoint.pt is also an input of this command; it is never overwritten, not even with --force"),
]


@pytest.mark.parametrize("setup, extra, fragment", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_export_refuses(setup, extra, fragment, refused, scratch, tmp_path):
    if setup is not None:
        setup(scratch)
    out = [] if "--out" in extra else ["--out", "model.onnx"]
    refused(["export", "run"] + out + extra, fragment)
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("setup, fragment", [(case[1], case[3]) for case in CASES if not case[2]],
                         ids=[case[0] for case in CASES if not case[2]])
def test_evaluate_refuses_the_same_runs(setup, fragment, refused, scratch):
    if setup is not None:
        setup(scratch)
    missing = "run is not a training output folder: config.json is missing"
    refused(["evaluate", "run"], fragment.replace("training folder run does not exist", missing))


@pytest.mark.parametrize("extra, fragment", [
    (["--split", "val"], "unknown split 'val'; choose train or test"),
    (["--dataset", "nope"], "unknown dataset 'nope'; choose one of digits, mnist"),
    (["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
], ids=["split", "dataset", "batch size"])
def test_evaluate_refuses_bad_options(extra, fragment, refused, scratch):
    scratch("run")
    refused(["evaluate", "run"] + extra, fragment)


def test_existing_export_needs_force(refused, scratch, tmp_path):
    scratch("run")
    (tmp_path / "model.onnx").write_text("mine")
    refused(["export", "run", "--out", "model.onnx"], "output file model.onnx already exists; give --force to replace it")
    assert (tmp_path / "model.onnx").read_text() == "mine"
