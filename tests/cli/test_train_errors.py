"""``signflow train``: every refusal is one line, exit 2, no traceback, and no run folder left behind."""
import struct

import numpy as np
import pytest

TRAIN = ["train", "--model", "digits", "--epochs", "1", "--no-progress"]


def _write(name, text):
    def setup(tmp_path, scratch):
        (tmp_path / name).write_text(text)
    return setup


def _npz_as_npy(tmp_path, scratch):
    np.savez(tmp_path / "kernel.npz", values=np.zeros((2, 2)))
    (tmp_path / "kernel.npz").rename(tmp_path / "kernel.npy")


def _empty_mnist(tmp_path, scratch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for prefix in ("train", "t10k"):
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 0, 28, 28))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 0))


def _existing_run(tmp_path, scratch):
    scratch("run", "out")


#: (id, setup or None, extra arguments, fragment of the error line)
CASES = [
    ("unknown model", None, ["--model", "resnet"], "unknown model 'resnet'; choose one of cnv, digits"),
    ("unknown act", None, ["--act", "relu"], "unknown activation 'relu'; choose one of sign, design, dysign"),
    ("unknown dataset", None, ["--dataset", "imagenet"], "unknown dataset 'imagenet'; choose one of"),
    ("unknown recipe", None, ["--recipe", "sgd"], "unknown recipe 'sgd'"),
    ("unknown order", None, ["--act", "design", "--order", "middle"], "unknown layer order 'middle'"),
    ("unknown scale", None, ["--act", "design", "--dither-scale", "beta"], "unknown dither scale 'beta'"),
    ("unknown origin", None, ["--act", "design", "--dither-origin", "left"], "unknown dither origin 'left'"),
    ("unknown kernel", None, ["--act", "design", "--kernel", "bayer99"], "unknown kernel 'bayer99'; choose one of"),
    ("missing kernel file", None, ["--act", "design", "--kernel", "none.json"], "kernel file none.json does not exist"),
    ("kernel file of a string", _write("k.json", '"abc"'), ["--act", "design", "--kernel", "k.json"],
     "kernel file k.json holds no 'values' or 'levels' entry"),
    ("kernel file of a list", _write("k.json", "[[1, 2], [3]]"), ["--act", "design", "--kernel", "k.json"],
     "kernel file k.json holds no 'values' or 'levels' entry"),
    ("kernel file of another dict", _write("k.json", '{"a": 1}'), ["--act", "design", "--kernel", "k.json"],
     "kernel file k.json holds no 'values' or 'levels' entry"),
    ("ragged kernel values", _write("k.json", '{"values": [[0.1, 0.2], [0.3]]}'),
     ["--act", "design", "--kernel", "k.json"], "k.json: 'values' must be a 2-D or 3-D list of numbers with rows"),
    ("kernel levels of strings", _write("k.json", '{"levels": [[1, "a"], [3, 3]]}'),
     ["--act", "design", "--kernel", "k.json"], "k.json: 'levels' must be a 2-D or 3-D list of numbers"),
    ("kernel levels off the level set", _write("k.json", '{"levels": [[1, 2], [3, 3]]}'),
     ["--act", "design", "--kernel", "k.json"], "kernel levels [2] are not in the level set"),
    ("kernel values NaN", _write("k.json", '{"values": [[NaN, 0.2], [0.3, 0.1]]}'),
     ["--act", "design", "--kernel", "k.json"], "kernel has non-finite values"),
    ("kernel not JSON", _write("k.json", "{values"), ["--act", "design", "--kernel", "k.json"],
     "cannot read kernel file k.json"),
    ("kernel .npz renamed .npy", _npz_as_npy, ["--act", "design", "--kernel", "kernel.npy"],
     "kernel file kernel.npy is an .npz archive"),
    ("zero epochs", None, ["--epochs", "0"], "epochs must be an integer >= 1, not 0"),
    ("batch of one", None, ["--batch-size", "1"], "batch-size must be an integer >= 2, not 1"),
    ("NaN learning rate", None, ["--lr", "nan"], "learning rate must be a positive number, not nan"),
    ("negative weight decay", None, ["--weight-decay", "-1"], "weight decay must be >= 0, not -1.0"),
    ("no GPU", None, ["--device", "cuda"], "device 'cuda' is not available"),
    ("unknown device", None, ["--device", "tpu"], "unknown device 'tpu'"),
    ("MNIST files without images", _empty_mnist, ["--model", "lfc", "--dataset", "mnist", "--data-dir", "mnist"],
     "dataset 'mnist' in mnist holds no train images"),
    ("existing run without --resume", _existing_run, [], "a run in out already exists; give --force to replace it"),
]


@pytest.mark.parametrize("setup, extra, fragment", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_train_refuses(setup, extra, fragment, refused, scratch, tmp_path):
    if setup is not None:
        setup(tmp_path, scratch)
    out = ["--out", "out"]
    refused(TRAIN + extra + out, fragment)  # argparse: the case's --model, given later, wins
    if setup is not _existing_run:
        assert not (tmp_path / "out").exists()


def test_resume_of_a_folder_without_a_run(refused, tmp_path):
    (tmp_path / "out").mkdir()
    refused(TRAIN + ["--out", "out", "--resume"], "out is not a training output folder: config.json is missing")
    assert list((tmp_path / "out").iterdir()) == []


def test_resume_of_a_run_whose_config_was_edited(refused, scratch, tmp_path):
    import json

    run = scratch("run", "out")
    doc = json.loads((run / "config.json").read_text())
    doc["model"]["dither_origin"] = "centre"
    (run / "config.json").write_text(json.dumps(doc))
    refused(TRAIN + ["--act", "design", "--dither-origin", "centre", "--out", "out", "--resume"],
            "checkpoint in out does not match its config.json: dither_origin differs (checkpoint: "
            "dither_origin='corner')")
