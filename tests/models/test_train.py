"""Training, checkpoints, resume, evaluation and their error paths, on the bundled digits."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import signflow.cli
from signflow.errors import UserError
from signflow.models import train as train_module
from signflow.models.activations import DynamicSign
from signflow.models.train import TrainConfig, binary_weights, epoch_batches, train
from signflow.models.zoo import ModelConfig, build_model

ROOT = Path(__file__).resolve().parents[2]
ACTS = ("sign", "design", "dysign")
EPOCHS = 4  # enough for > 0.9 test accuracy on digits with every activation (0.94-0.98, seed 0)
# Tests train with one torch thread: tiny models gain nothing from more, and
# with pytest -n 2 on 2 cores spinning OpenMP threads would slow runs ~10x.


def run_cli(*argv):
    """``signflow ARGV`` in-process."""
    return signflow.cli.main([str(arg) for arg in argv])


def quick_train(out, act="sign", epochs=2, **options):
    cfg = TrainConfig(out=str(out), epochs=epochs, progress=False, threads=1, **options)
    return train(ModelConfig(act=act), cfg)


def load_payload(folder):
    return torch.load(Path(folder) / "checkpoint.pt", map_location="cpu", weights_only=True)


def config_of(folder):
    return json.loads((Path(folder) / "config.json").read_text())


def assert_same_tensors(first, second):
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One short CLI training run per activation kind: act -> run folder."""
    folders = {}
    for act in ACTS:
        folder = tmp_path_factory.mktemp("runs") / act
        assert run_cli("train", "--act", act, "--epochs", EPOCHS, "--out", folder, "--no-progress",
                       "--threads", 1) == 0
        folders[act] = folder
    return folders


@pytest.fixture
def sign_copy(runs, tmp_path):
    """A throw-away copy of the sign run, for tests that damage it."""
    return Path(shutil.copytree(runs["sign"], tmp_path / "copy"))


# ---------------------------------------------------------------- learning


@pytest.mark.parametrize("act", ACTS)
def test_short_run_learns_digits(runs, act):
    metrics = config_of(runs[act])["metrics"]
    assert metrics["epochs"] == EPOCHS
    assert metrics["test_acc"] > 0.8, metrics  # chance is 0.1
    assert metrics["train_acc"] > 0.8, metrics
    history = load_payload(runs[act])["history"]
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_same_seed_gives_identical_weights(tmp_path):
    quick_train(tmp_path / "a", seed=3)
    quick_train(tmp_path / "b", seed=3)
    quick_train(tmp_path / "c", seed=4)
    first, second, other = (load_payload(tmp_path / name) for name in "abc")
    assert_same_tensors(first["model"], second["model"])
    assert first["history"]["test_acc"] == second["history"]["test_acc"]
    assert not all(torch.equal(first["model"][k], other["model"][k]) for k in first["model"])


def test_binary_latent_weights_are_clipped(runs):
    model = build_model(ModelConfig(**config_of(runs["dysign"])["model"]))
    model.load_state_dict(load_payload(runs["dysign"])["model"])
    weights = binary_weights(model)
    integer = [m.weight for block in model.modules() if isinstance(block, DynamicSign)
               for m in (block.fc1, block.fc2)]
    assert len(weights) == 4 and integer  # 2 conv + 2 linear; DySign's MLP layers left out
    assert not any(w is i for w in weights for i in integer)
    assert all(float(w.abs().max()) <= 1.0 for w in weights)


def test_epoch_batches_shard_evenly():
    shards = [epoch_batches(101, 16, seed=0, epoch=2, rank=r, world=2) for r in range(2)]
    sizes = [[len(b) for b in shard] for shard in shards]
    assert sizes[0] == sizes[1] and sum(sizes[0]) == 51  # padded to 102, same steps per rank
    seen = np.concatenate([np.concatenate(shard) for shard in shards])
    assert set(seen.tolist()) == set(range(101))
    single = np.concatenate(epoch_batches(101, 16, seed=0, epoch=2))
    assert sorted(single.tolist()) == list(range(101))
    assert not np.array_equal(single, np.concatenate(epoch_batches(101, 16, seed=0, epoch=3)))


# ---------------------------------------------------------------- run folder


def test_checkpoint_loads_with_weights_only(runs):
    payload = load_payload(runs["dysign"])
    assert {"model", "optimizer", "epoch", "history", "rng", "stats"} <= set(payload)
    assert payload["epoch"] == EPOCHS
    assert all(len(values) == EPOCHS for values in payload["history"].values())
    assert all(isinstance(v, float) for v in payload["history"]["test_acc"])
    doc = config_of(runs["dysign"])
    assert doc["model"]["act"] == "dysign" and doc["model"]["in_shape"] == [1, 8, 8]
    assert doc["train"]["dataset"] == "digits" and doc["train"]["epochs"] == EPOCHS
    assert doc["metrics"]["test_acc"] == payload["history"]["test_acc"][-1]


def test_curves_png_written(runs):
    data = (runs["sign"] / "curves.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert not list(runs["sign"].glob(".*.part"))


@pytest.mark.parametrize("act", ACTS)
def test_evaluate_prints_recorded_accuracy(cli, runs, act):
    code, out, _ = cli("evaluate", runs[act])
    assert code == 0
    correct, total = map(int, re.search(r"\((\d+)/(\d+)\)", out).groups())
    assert total == 360
    assert correct / total == config_of(runs[act])["metrics"]["test_acc"]


# ---------------------------------------------------------------- resume


def test_resume_continues_from_last_epoch(cli, tmp_path):
    quick_train(tmp_path / "run", epochs=2)
    before = load_payload(tmp_path / "run")["history"]
    code, out, _ = cli("train", "--out", tmp_path / "run", "--resume", "--epochs", 3, "--no-progress",
                       "--threads", 1)
    assert code == 0
    assert "epoch 3/3" in out and "epoch 1/3" not in out and "epoch 2/3" not in out
    payload = load_payload(tmp_path / "run")
    assert payload["epoch"] == 3
    assert all(len(values) == 3 for values in payload["history"].values())
    assert payload["history"]["test_acc"][:2] == before["test_acc"]
    assert config_of(tmp_path / "run")["metrics"]["epochs"] == 3


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("act, recipe", [("sign", "default"), ("dysign", "default"), ("sign", "binarynet")])
def test_interrupted_run_resumes_exactly(tmp_path, monkeypatch, act, recipe):
    quick_train(tmp_path / "whole", act=act, epochs=3, recipe=recipe)

    real_save, saves = train_module.save_run, []

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 2:
            raise Interrupted

    monkeypatch.setattr(train_module, "save_run", save_then_stop)
    with pytest.raises(Interrupted):
        quick_train(tmp_path / "split", act=act, epochs=3, recipe=recipe)
    monkeypatch.setattr(train_module, "save_run", real_save)
    assert load_payload(tmp_path / "split")["epoch"] == 2
    quick_train(tmp_path / "split", act=act, epochs=3, resume=True, recipe=recipe)

    whole, split = load_payload(tmp_path / "whole"), load_payload(tmp_path / "split")
    assert_same_tensors(whole["model"], split["model"])
    for key in ("train_loss", "train_acc", "test_acc", "lr"):
        assert whole["history"][key] == split["history"][key], key


def test_resume_without_checkpoint_is_refused(cli, tmp_path, runs):
    (tmp_path / "empty").mkdir()
    code, _, err = cli("train", "--out", tmp_path / "empty", "--resume")
    assert code == 2 and "config.json" in one_line(err)
    (tmp_path / "half").mkdir()
    shutil.copy(runs["sign"] / "config.json", tmp_path / "half")
    code, _, err = cli("train", "--out", tmp_path / "half", "--resume")
    assert code == 2 and "checkpoint.pt" in one_line(err)


@pytest.mark.parametrize("option", [("--act", "design"), ("--model", "tfc"), ("--ste", "approx")])
def test_resume_with_different_model_is_refused(cli, sign_copy, option):
    before = (sign_copy / "checkpoint.pt").read_bytes()
    code, _, err = cli("train", "--out", sign_copy, "--resume", *option)
    assert code == 2
    assert "different model" in one_line(err)
    assert (sign_copy / "checkpoint.pt").read_bytes() == before


@pytest.mark.parametrize("drop_order", [False, True])
def test_resume_keeps_the_layer_order(cli, tmp_path, drop_order):
    model_cfg = ModelConfig(act="design", order="finn", dither_scale="raw")
    train(model_cfg, TrainConfig(out=str(tmp_path), epochs=1, progress=False, threads=1))
    if drop_order:  # a run saved before ``order`` existed was trained in FINN's order
        doc = config_of(tmp_path)
        del doc["model"]["order"]
        (tmp_path / "config.json").write_text(json.dumps(doc))
    code, _, err = cli("train", "--out", tmp_path, "--resume", "--epochs", 2, "--no-progress", "--threads", 1)
    assert code == 0, err
    saved = config_of(tmp_path)["model"]
    assert (saved["order"], saved["dither_scale"]) == ("finn", "raw")


def test_order_and_dither_options_reach_the_run(cli, tmp_path):
    code, _, err = cli("train", "--act", "design", "--order", "finn", "--dither-scale", "raw", "--dither-origin",
                       "centre", "--epochs", 1, "--out", tmp_path, "--no-progress", "--threads", 1)
    assert code == 0, err
    saved = config_of(tmp_path)["model"]
    assert (saved["order"], saved["dither_scale"], saved["dither_origin"]) == ("finn", "raw", "centre")
    model = build_model(ModelConfig.from_dict(saved))
    assert [type(m).__name__ for m in model.features][-2:] == ["DitherSign", "MaxPool2d"]  # FINN: pool last


@pytest.mark.parametrize("change, named", [({"order": "finn"}, "order"), ({"dither_origin": "centre"}, "dither origin"),
                                           ({"dither_scale": "raw"}, "dither scale")])
def test_resume_with_other_layer_order_is_refused(tmp_path, change, named):
    quick_train(tmp_path, act="design", epochs=1)  # DeSign's default: the published order, gamma, corner
    before = load_payload(tmp_path)["epoch"]
    with pytest.raises(UserError, match="different model") as err:
        train(ModelConfig(act="design", **change),
              TrainConfig(out=str(tmp_path), epochs=2, resume=True, progress=False, threads=1))
    assert named in str(err.value) and load_payload(tmp_path)["epoch"] == before


# ---------------------------------------------------------------- user errors


@pytest.mark.parametrize("option, value, valid", [
    ("--model", "resnet", "digits"),
    ("--act", "relu", "dysign"),
    ("--dataset", "imagenet", "digits"),
    ("--kernel", "nokernel", "design2x2"),
    ("--ste", "tanh", "hardtanh"),
    ("--recipe", "adamw", "binarynet"),
    ("--device", "gpu", "cuda"),
    ("--order", "pooled-last", "published"),
    ("--dither-scale", "beta", "gamma"),
    ("--dither-origin", "middle", "centre"),
])
def test_unknown_name_fails_cleanly(cli, tmp_path, option, value, valid):
    out = tmp_path / "new" / "run"
    code, _, err = cli("train", option, value, "--out", out)
    assert code == 2
    line = one_line(err)
    assert value in line and valid in line
    assert not (tmp_path / "new").exists()


def test_too_small_input_fails_cleanly(cli, tmp_path):
    code, _, err = cli("train", "--model", "cnv", "--dataset", "digits", "--out", tmp_path / "run")
    assert code == 2 and "too small" in one_line(err)
    assert not (tmp_path / "run").exists()


def test_unwritable_output_path(cli, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = cli("train", "--out", tmp_path / "file" / "run", "--epochs", 1)
    assert code == 2
    assert "not a folder" in one_line(err)
    assert (tmp_path / "file").read_text() == "not a folder"


def test_corrupt_checkpoint(cli, sign_copy):
    (sign_copy / "checkpoint.pt").write_bytes(os.urandom(64) + b"garbage")
    code, _, err = cli("evaluate", sign_copy)
    assert code == 2 and "corrupt" in one_line(err)


@pytest.mark.parametrize("change", [{"act": "design"}, {"act": "dysign"}, {"model": "tfc"}, {"classes": 12}])
def test_checkpoint_not_matching_config(cli, sign_copy, change):
    doc = config_of(sign_copy)
    doc["model"].update(change)
    (sign_copy / "config.json").write_text(json.dumps(doc))
    code, _, err = cli("evaluate", sign_copy)
    assert code == 2 and "does not match" in one_line(err)


def test_evaluate_missing_run(cli, tmp_path):
    code, _, err = cli("evaluate", tmp_path / "nothing")
    assert code == 2 and "config.json" in one_line(err)


# ---------------------------------------------------------------- torchrun


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # two processes training (about 30 s)
def test_distributed_training_with_torchrun(tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_port", str(free_port()), "-m", "signflow.cli", "train", "--model", "digits",
               "--epochs", "1", "--out", str(out), "--no-progress"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("epoch 1/1") == 1  # only rank 0 prints
    assert (out / "checkpoint.pt").is_file() and (out / "curves.png").is_file()
    metrics = config_of(out)["metrics"]
    assert metrics["world_size"] == 2 and metrics["epochs"] == 1
    assert 0.3 < metrics["test_acc"] <= 1.0
    payload = load_payload(out)
    assert payload["epoch"] == 1 and not any(key.startswith("module.") for key in payload["model"])
    # rank 0's model is what was saved and what every rank evaluated
    code = run_cli("evaluate", out)
    assert code == 0
