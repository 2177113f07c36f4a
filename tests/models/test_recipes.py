"""Training recipes (``signflow train --recipe``): schedules, losses, augmentation, and runs on digits."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from signflow.models import train as train_module
from signflow.models.recipes import RECIPES, augment, linear_lr, squared_hinge
from tests.models.test_train import config_of, load_payload, one_line, quick_train, run_cli

LEARN_EPOCHS = 10  # DeSign on digits passes 0.8 test accuracy in 10 binarynet epochs (seed 0)


@pytest.fixture(scope="module")
def binarynet_run(tmp_path_factory):
    """A short CLI training run on digits with the published recipe."""
    folder = tmp_path_factory.mktemp("recipes") / "binarynet"
    assert run_cli("train", "--recipe", "binarynet", "--act", "design", "--epochs", LEARN_EPOCHS,
                   "--out", folder, "--no-progress", "--threads", 1) == 0
    return folder


# ---------------------------------------------------------------- pieces


def test_squared_hinge_by_hand():
    scores = torch.tensor([[2.0, -0.5, 0.3], [0.0, 1.5, -2.0]])
    labels = torch.tensor([0, 2])
    # targets [1, -1, -1] and [-1, -1, 1]; max(0, 1 - t*y)^2 per class:
    # sample 0: [0, 0.5^2, 1.3^2] = [0, 0.25, 1.69]; sample 1: [1^2, 2.5^2, 3^2] = [1, 6.25, 9]
    per_sample = [(0 + 0.25 + 1.69) / 3, (1 + 6.25 + 9) / 3]
    assert float(squared_hinge(scores, labels)) == pytest.approx(sum(per_sample) / 2, rel=1e-6)
    assert float(squared_hinge(scores, labels, reduction="sum")) == pytest.approx(sum(per_sample), rel=1e-6)
    assert float(squared_hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([0]))) == 0.0  # margins met


def test_linear_schedule_values():
    assert [linear_lr(e, 3, 0.01) for e in range(3)] == [0.01, 0.00505, 0.0001]
    assert linear_lr(0, 1, 0.01) == 0.01  # one epoch: the first epoch's rate
    assert [linear_lr(e, 2, 0.02) for e in range(2)] == [0.02, 0.0002]


def test_augment_shifts_and_flips():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 3, 32, 32)).astype(np.float32)

    def placements(image, source, pad, flips):
        padded = np.pad(source, ((0, 0), (pad, pad), (pad, pad)), constant_values=-1.0)
        size = source.shape[-1]
        found = []
        for dy in range(2 * pad + 1):
            for dx in range(2 * pad + 1):
                crop = padded[:, dy:dy + size, dx:dx + size]
                for flip in flips:
                    if np.array_equal(image, crop[..., ::-1] if flip else crop):
                        found.append((dy, dx, flip))
        return found

    out = augment(x, "cifar10", np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    seen = [placements(out[i], x[i], 4, (False, True)) for i in range(len(x))]
    assert all(len(p) == 1 for p in seen)  # every image is one shifted (maybe mirrored) crop
    assert {p[0][2] for p in seen} == {False, True}
    assert len({p[0][:2] for p in seen}) > 10
    digits = rng.uniform(-1, 1, (32, 1, 8, 8)).astype(np.float32)
    moved = augment(digits, "digits", np.random.default_rng(1))
    assert all(placements(moved[i], digits[i], 1, (False,)) for i in range(len(digits)))  # no flips
    assert np.array_equal(moved, augment(digits, "digits", np.random.default_rng(1)))


# ---------------------------------------------------------------- runs


def test_binarynet_run_learns_digits(binarynet_run):
    doc = config_of(binarynet_run)
    assert doc["train"]["recipe"] == "binarynet" and doc["train"]["batch_size"] == 180
    assert doc["metrics"]["test_acc"] > 0.5, doc["metrics"]  # chance is 0.1
    history = load_payload(binarynet_run)["history"]
    assert history["lr"] == [linear_lr(e, LEARN_EPOCHS, 0.01) for e in range(LEARN_EPOCHS)]
    assert history["lr"][0] == 0.01 and history["lr"][-1] == 0.0001
    assert history["train_loss"][-1] < history["train_loss"][0]


@pytest.mark.parametrize("epochs, lrs", [(3, [0.01, 0.00505, 0.0001]), (1, [0.01])])
def test_binarynet_lr_per_epoch(tmp_path, epochs, lrs):
    quick_train(tmp_path, epochs=epochs, recipe="binarynet")
    assert load_payload(tmp_path)["history"]["lr"] == lrs
    assert config_of(tmp_path)["train"]["lr"] == 0.01


@pytest.mark.parametrize("options, batch_size, lrs", [
    ((), 180, [0.01, 0.0001]),
    (("--batch-size", 50), 50, [0.01, 0.0001]),
    (("--lr", 0.02, "--batch-size", 64), 64, [0.02, 0.0002]),
])
def test_explicit_options_override_the_recipe(cli, tmp_path, monkeypatch, options, batch_size, lrs):
    real, used = train_module.epoch_batches, []

    def spy(count, size, *args, **kwargs):
        used.append(size)
        return real(count, size, *args, **kwargs)

    monkeypatch.setattr(train_module, "epoch_batches", spy)
    code, _, _ = cli("train", "--recipe", "binarynet", "--epochs", 2, *options, "--out", tmp_path,
                     "--no-progress", "--threads", 1)
    assert code == 0 and used == [batch_size, batch_size]
    assert config_of(tmp_path)["train"]["batch_size"] == batch_size
    assert load_payload(tmp_path)["history"]["lr"] == lrs


def test_default_recipe_is_recorded(cli, tmp_path):
    code, _, _ = cli("train", "--epochs", 1, "--out", tmp_path, "--no-progress", "--threads", 1)
    train = config_of(tmp_path)["train"]
    assert code == 0 and train["recipe"] == "default"
    assert (train["batch_size"], train["lr"]) == (RECIPES["default"].batch_size, RECIPES["default"].lr)


def test_resume_keeps_the_recipe(cli, binarynet_run, tmp_path):
    run = Path(shutil.copytree(binarynet_run, tmp_path / "run"))
    code, out, _ = cli("train", "--out", run, "--resume", "--epochs", LEARN_EPOCHS + 2, "--no-progress",
                       "--threads", 1)
    assert code == 0 and f"epoch {LEARN_EPOCHS + 1}/" in out
    doc = config_of(run)
    assert doc["train"]["recipe"] == "binarynet" and doc["train"]["batch_size"] == 180
    lrs = load_payload(run)["history"]["lr"]
    assert len(lrs) == LEARN_EPOCHS + 2 and lrs[-1] == 0.0001  # the schedule re-stretched to 12 epochs


@pytest.mark.parametrize("saved, asked", [("binarynet", "default"), ("default", "binarynet")])
def test_resume_with_another_recipe_is_refused(cli, binarynet_run, tmp_path, saved, asked):
    if saved == "binarynet":
        run = Path(shutil.copytree(binarynet_run, tmp_path / "run"))
    else:
        run = tmp_path / "run"
        quick_train(run, epochs=1)
    before = (run / "checkpoint.pt").read_bytes(), (run / "config.json").read_text()
    code, _, err = cli("train", "--out", run, "--resume", "--recipe", asked, "--epochs", 20)
    line = one_line(err)
    assert code == 2 and f"recipe '{saved}'" in line and f"'{asked}'" in line
    assert ((run / "checkpoint.pt").read_bytes(), (run / "config.json").read_text()) == before


def test_unknown_recipe_names_the_known_ones(cli, tmp_path):
    code, _, err = cli("train", "--recipe", "published", "--out", tmp_path / "run")
    line = one_line(err)
    assert code == 2 and "'published'" in line and all(name in line for name in RECIPES)
    assert not (tmp_path / "run").exists()


def test_cuda_without_a_gpu_is_one_line(cli, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    code, _, err = cli("train", "--device", "cuda", "--out", tmp_path / "run")
    assert code == 2 and "CUDA" in one_line(err) and "--device cpu" in one_line(err)
    assert not (tmp_path / "run").exists()


def test_help_text_names_recipes(capsys):
    with pytest.raises(SystemExit) as done:
        run_cli("train", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0
    assert "'default': Adam, cosine" in text and "'binarynet':" in text and "squared hinge" in text
    assert "override the recipe's values" in text and "--device" in text
