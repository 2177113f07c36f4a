"""Datasets as numpy arrays: images float32 NCHW in [-1, 1], labels int64.

``digits`` (scikit-learn's bundled 8x8 digits) works offline and is the default.
The others are read from their standard distribution files in a data folder
(default ``~/.cache/signflow/data/<name>/``), downloaded there when missing.
Every format is parsed with numpy/scipy directly; nothing is ever unpickled.
"""
import functools
import gzip
import io
import re
import struct
import sys
import tarfile
import zlib
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.request import urlopen

import numpy as np

from signflow.errors import UserError
from signflow.files import atomic_path

DATA_HOME = Path.home() / ".cache" / "signflow" / "data"
DOWNLOAD_TIMEOUT = 60  # seconds without data before a download gives up

#: the error text for a file that is present but unreadable
_BROKEN = "{} is corrupt or truncated ({}); delete it and download it again"


def _one_line(text):
    """Error details squeezed onto one line (the CLI prints exactly one)."""
    return re.sub(r"\s+", " ", str(text)).strip()


# --- readers: one per file format, each returns (uint8 NCHW images, labels) ---


def _idx(path, data, magic, ndim):
    """An IDX array (MNIST): big-endian uint32 magic and sizes, then raw uint8."""
    head = 4 * (1 + ndim)
    if len(data) < head or struct.unpack(">I", data[:4])[0] != magic:
        raise UserError(_BROKEN.format(path, f"bad IDX magic, expected {magic}"))
    dims = struct.unpack(f">{ndim}I", data[4:head])
    if len(data) != head + int(np.prod(dims)):
        raise UserError(_BROKEN.format(path, f"{len(data)} bytes do not match IDX sizes {dims}"))
    return np.frombuffer(data, np.uint8, offset=head).reshape(dims)


def _mnist(files):
    """MNIST: an images IDX file (magic 2051, N x 28 x 28) and a labels one (2049, N)."""
    (images_path, images), (labels_path, labels) = files
    x = _idx(images_path, images, 2051, 3)[:, None]
    y = _idx(labels_path, labels, 2049, 1)
    if len(x) != len(y):
        raise UserError(_BROKEN.format(labels_path, f"{len(y)} labels for {len(x)} images"))
    return x, y


def _cifar_records(files, label_bytes):
    """CIFAR binary batches: records of label byte(s) then 3072 pixels (CHW);
    the last label byte is the one used (CIFAR-100 stores coarse, then fine)."""
    size = label_bytes + 3 * 32 * 32
    xs, ys = [], []
    for path, data in files:
        if not data or len(data) % size:
            why = f"{len(data)} bytes is not a whole number of {size}-byte records"
            raise UserError(_BROKEN.format(path, why))
        records = np.frombuffer(data, np.uint8).reshape(-1, size)
        xs.append(records[:, label_bytes:].reshape(-1, 3, 32, 32))
        ys.append(records[:, label_bytes - 1])
    return np.concatenate(xs), np.concatenate(ys)


def _cifar10(files):
    return _cifar_records(files, label_bytes=1)


def _cifar100(files):
    return _cifar_records(files, label_bytes=2)


def _svhn(files):
    """SVHN cropped digits: a MATLAB v5 file with X (H x W x C x N uint8) and y
    (N x 1, digits 1..10 where 10 stands for 0)."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    ((path, data),) = files
    try:
        mat = loadmat(io.BytesIO(data), variable_names=("X", "y"))
        x, y = mat["X"], mat["y"]
    except (MatReadError, ValueError, TypeError, KeyError, OSError, EOFError, NotImplementedError) as err:
        why = _one_line(err) or type(err).__name__
        raise UserError(_BROKEN.format(path, f"not a readable SVHN .mat file: {why}"))
    if x.ndim != 4 or x.dtype != np.uint8 or y.size != x.shape[3]:
        raise UserError(_BROKEN.format(path, f"unexpected X {x.dtype}{x.shape} / y {y.shape}"))
    y = y.reshape(-1).astype(np.int64)
    y[y == 10] = 0
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1)), y


@functools.lru_cache(maxsize=1)
def _all_digits():
    """Every scikit-learn digits image in [-1, 1] and its label, read once (a CSV parse per call otherwise)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[:, None]  # 0..16 -> [-1, 1]
    return x, data.target.astype(np.int64)


def _digits(split):
    """scikit-learn digits, a fixed 80/20 train/test split (seed 0); fresh arrays (fancy indexing copies)."""
    x, y = _all_digits()
    order = np.random.default_rng(0).permutation(len(y))
    cut = int(0.8 * len(y))
    idx = order[:cut] if split == "train" else order[cut:]
    return x[idx], y[idx]


# --- the table of datasets ---


@dataclass(frozen=True)
class _Dataset:
    in_shape: tuple
    classes: int
    #: split -> the files it needs; a ".gz" file is also accepted uncompressed
    files: dict = None
    #: archive (a tar) holding ``files``; it is what gets downloaded, if set
    archive: str = None
    #: where to download ``archive`` or else the ``files`` from
    url: str = None
    reader: callable = None


_CIFAR10_BATCHES = tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6))

_DATASETS = {
    "digits": _Dataset((1, 8, 8), 10),
    "mnist": _Dataset(
        (1, 28, 28), 10,
        files={"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
               "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")},
        url="https://ossci-datasets.s3.amazonaws.com/mnist/",
        reader=_mnist,
    ),
    "cifar10": _Dataset(
        (3, 32, 32), 10,
        files={"train": _CIFAR10_BATCHES, "test": ("cifar-10-batches-bin/test_batch.bin",)},
        archive="cifar-10-binary.tar.gz",
        url="https://www.cs.toronto.edu/~kriz/",
        reader=_cifar10,
    ),
    "cifar100": _Dataset(
        (3, 32, 32), 100,
        files={"train": ("cifar-100-binary/train.bin",), "test": ("cifar-100-binary/test.bin",)},
        archive="cifar-100-binary.tar.gz",
        url="https://www.cs.toronto.edu/~kriz/",
        reader=_cifar100,
    ),
    "svhn": _Dataset(
        (3, 32, 32), 10,
        files={"train": ("train_32x32.mat",), "test": ("test_32x32.mat",)},
        url="http://ufldl.stanford.edu/housenumbers/",
        reader=_svhn,
    ),
}

DATASET_NAMES = tuple(_DATASETS)


def _dataset(name):
    if name not in _DATASETS:
        raise UserError(f"unknown dataset '{name}'; choose one of {', '.join(DATASET_NAMES)}")
    return _DATASETS[name]


def dataset_info(name):
    """Input shape (C, H, W) and class count of ``name``, without loading it."""
    spec = _dataset(name)
    return dict(in_shape=spec.in_shape, classes=spec.classes)


# --- finding, reading and downloading the files ---


def _loose(folder, name):
    """``folder/name`` if present, else its uncompressed twin (no ``.gz``), else None."""
    for candidate in (name, name.removesuffix(".gz")):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _missing(spec, folder, split):
    """Files to download for ``split``: the archive, or the absent loose files.
    An already extracted archive (its files lying in ``folder``) counts as present."""
    absent = [name for name in spec.files[split] if _loose(folder, name) is None]
    if spec.archive and absent:
        return [] if (folder / spec.archive).is_file() else [spec.archive]
    return absent


def _read_loose(path):
    """Bytes of a file, gunzipped when its name ends in ``.gz``."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(_BROKEN.format(path, _one_line(err) or type(err).__name__))


def _read_members(archive, names):
    """Bytes of the regular files ``names`` in a tar, read in memory: nothing is
    extracted, so member paths can never write anywhere."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            out = []
            for name in names:
                member = tar.getmember(name)
                if not member.isfile():
                    raise KeyError(name)
                out.append(tar.extractfile(member).read())
            return out
    except KeyError as err:
        raise UserError(_BROKEN.format(archive, f"no file {err.args[0]} inside"))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise UserError(_BROKEN.format(archive, _one_line(err) or type(err).__name__))


def _read_split(spec, folder, split):
    """(path, bytes) of every file of ``split``: loose files first, else the archive."""
    names = spec.files[split]
    paths = [_loose(folder, name) for name in names]
    if all(paths):
        return [(path, _read_loose(path)) for path in paths]
    archive = folder / spec.archive
    members = _read_members(archive, names)
    return [(f"{archive} (member {name})", data) for name, data in zip(names, members)]


def _download(url, path):
    """Fetch ``url`` into ``path`` through a ``.part`` file beside it, renamed only
    once complete, so a failure never leaves a half-written file behind."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, open(tmp, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=path.name, file=sys.stderr) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
        if total and out.tell() != total:
            raise OSError(f"connection closed after {out.tell()} of {total} bytes")


def _fetch(name, spec, folder, missing, download):
    """Download the ``missing`` files, or say in one line how to get them by hand."""
    why = "(downloads are off)"
    if download:
        try:
            for file in missing:
                _download(spec.url + file, folder / file)
            return
        except (OSError, HTTPException, ValueError) as err:
            why = f"and download failed ({_one_line(err) or type(err).__name__})"
    raise UserError(
        f"dataset '{name}' not found in {folder} {why}; "
        f"download {', '.join(missing)} from {spec.url} into {folder} or pass --data-dir"
    )


def load_dataset(name, split, data_dir=None, download=True):
    """Images and labels of ``split`` ("train" or "test") of dataset ``name``.

    ``data_dir`` is the folder holding the dataset's files (default
    ``~/.cache/signflow/data/<name>``); missing files are downloaded into it
    when ``download`` is true.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    spec = _dataset(name)
    if name == "digits":
        return _digits(split)
    folder = Path(data_dir).expanduser() if data_dir is not None else DATA_HOME / name
    missing = _missing(spec, folder, split)
    if missing:
        _fetch(name, spec, folder, missing, download)
    x, y = spec.reader(_read_split(spec, folder, split))
    if len(x) == 0:
        raise UserError(f"dataset '{name}' in {folder} holds no {split} images; replace its files (delete them to "
                        "download them again)")
    if x.shape[1:] != spec.in_shape:
        raise UserError(f"dataset '{name}' in {folder} has images of shape {x.shape[1:]}, "
                        f"expected {spec.in_shape}; check the files are the right dataset")
    if len(y) and (y.min() < 0 or y.max() >= spec.classes):
        raise UserError(f"dataset '{name}' in {folder} has labels outside 0..{spec.classes - 1}; "
                        f"check the files are the right dataset")
    return x.astype(np.float32) / 127.5 - 1.0, y.astype(np.int64)
