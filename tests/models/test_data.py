"""Dataset readers on tiny files in the real formats; never touches the network."""
import gzip
import io
import struct
import tarfile
import urllib.error

import numpy as np
import pytest
from scipy.io import savemat

from signflow.errors import UserError
from signflow.models import data
from signflow.models.data import DATASET_NAMES, dataset_info, load_dataset

N = {"train": 5, "test": 3}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a URL fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("test tried to use the network")

    monkeypatch.setattr(data, "urlopen", refuse)


def scaled(pixels):
    return pixels.astype(np.float32) / 127.5 - 1.0


def idx_bytes(magic, array):
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_mnist(folder, compress=True, seed=0):
    """Random MNIST-format files; returns split -> (images N x 28 x 28, labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = rng.integers(0, 256, (N[split], 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, N[split], dtype=np.uint8)
        for kind, magic, array in (("images-idx3", 2051, x), ("labels-idx1", 2049, y)):
            raw = idx_bytes(magic, array)
            name = f"{prefix}-{kind}-ubyte"
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        written[split] = (x, y)
    return written


def add_member(tar, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def cifar_records(rng, n, label_bytes, classes):
    x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, classes, (n, label_bytes), dtype=np.uint8)
    raw = np.concatenate([labels, x.reshape(n, -1)], axis=1).tobytes()
    return x, labels[:, -1], raw


def write_cifar10(folder, seed=0):
    """A cifar-10-binary.tar.gz with 5 train batches of one image and a 3-image test batch."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "w:gz") as tar:
        for i in range(1, 6):
            x, y, raw = cifar_records(rng, 1, 1, 10)
            add_member(tar, f"cifar-10-batches-bin/data_batch_{i}.bin", raw)
            xs.append(x)
            ys.append(y)
        xt, yt, raw = cifar_records(rng, N["test"], 1, 10)
        add_member(tar, "cifar-10-batches-bin/test_batch.bin", raw)
        add_member(tar, "cifar-10-batches-bin/batches.meta.txt", b"airplane\n")
    return {"train": (np.concatenate(xs), np.concatenate(ys)), "test": (xt, yt)}


def write_cifar100(folder, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    with tarfile.open(folder / "cifar-100-binary.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            x, y, raw = cifar_records(rng, N[split], 2, 100)
            add_member(tar, f"cifar-100-binary/{split}.bin", raw)
            written[split] = (x, y)
    return written


def write_svhn(folder, seed=0):
    """SVHN .mat files; labels include 10 (digit 0). Returns split -> (NCHW, labels 0..9)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split in ("train", "test"):
        x = rng.integers(0, 256, (N[split], 3, 32, 32), dtype=np.uint8)
        digits = np.array([10, 1, 9, 10, 5][: N[split]])
        savemat(folder / f"{split}_32x32.mat",
                {"X": x.transpose(2, 3, 1, 0), "y": digits.reshape(-1, 1).astype(np.float64)})
        written[split] = (x, np.where(digits == 10, 0, digits))
    return written


WRITERS = {"mnist": write_mnist, "cifar10": write_cifar10, "cifar100": write_cifar100, "svhn": write_svhn}


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("split", ["train", "test"])
def test_reader_bit_exact(name, split, tmp_path):
    x_raw, y_raw = WRITERS[name](tmp_path)[split]
    x, y = load_dataset(name, split, data_dir=tmp_path, download=False)
    info = dataset_info(name)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.shape == (N[split], *info["in_shape"]) and y.shape == (N[split],)
    np.testing.assert_array_equal(x, scaled(x_raw.reshape(x.shape)))
    np.testing.assert_array_equal(y, y_raw.astype(np.int64))
    assert x.min() >= -1.0 and x.max() <= 1.0


def test_mnist_uncompressed(tmp_path):
    x_raw, y_raw = write_mnist(tmp_path, compress=False)["test"]
    x, y = load_dataset("mnist", "test", data_dir=tmp_path, download=False)
    np.testing.assert_array_equal(x, scaled(x_raw[:, None]))
    np.testing.assert_array_equal(y, y_raw)


def test_scaling_endpoints(tmp_path):
    """0 -> -1 and 255 -> +1 exactly."""
    x = np.zeros((2, 28, 28), np.uint8)
    x[1] = 255
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(2051, x))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(2049, np.array([0, 9])))
    images, _ = load_dataset("mnist", "test", data_dir=tmp_path, download=False)
    assert (images[0] == -1.0).all() and (images[1] == 1.0).all()


def test_cifar10_extracted_folder(tmp_path):
    written = write_cifar10(tmp_path / "src")
    with tarfile.open(tmp_path / "src" / "cifar-10-binary.tar.gz") as tar:
        for member in tar.getmembers():
            target = tmp_path / "data" / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())
    x, y = load_dataset("cifar10", "test", data_dir=tmp_path / "data", download=False)
    np.testing.assert_array_equal(x, scaled(written["test"][0]))
    np.testing.assert_array_equal(y, written["test"][1])


def test_svhn_maps_10_to_0(tmp_path):
    write_svhn(tmp_path)
    _, y = load_dataset("svhn", "train", data_dir=tmp_path, download=False)
    assert y.tolist() == [0, 1, 9, 0, 5]


def test_default_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_HOME", tmp_path)
    written = write_mnist(tmp_path / "mnist")
    _, y = load_dataset("mnist", "train", download=False)
    np.testing.assert_array_equal(y, written["train"][1])


def test_digits():
    x_train, y_train = load_dataset("digits", "train")
    x_test, y_test = load_dataset("digits", "test")
    assert len(x_train) + len(x_test) == 1797 and len(x_train) == int(0.8 * 1797)
    assert x_train.shape[1:] == dataset_info("digits")["in_shape"] == (1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    for x in (x_train, x_test):
        assert x.min() >= -1.0 and x.max() <= 1.0
    again, _ = load_dataset("digits", "train")
    np.testing.assert_array_equal(again, x_train)  # deterministic split
    assert set(y_train.tolist()) | set(y_test.tolist()) == set(range(10))


def test_dataset_info_all():
    assert set(DATASET_NAMES) == {"digits", "mnist", "cifar10", "cifar100", "svhn"}
    assert dataset_info("mnist") == dict(in_shape=(1, 28, 28), classes=10)
    assert dataset_info("cifar10") == dict(in_shape=(3, 32, 32), classes=10)
    assert dataset_info("cifar100") == dict(in_shape=(3, 32, 32), classes=100)
    assert dataset_info("svhn") == dict(in_shape=(3, 32, 32), classes=10)


def one_line_error(*args, **kwargs):
    with pytest.raises(UserError) as err:
        load_dataset(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", list(WRITERS))
def test_missing_offline(name, tmp_path):
    message = one_line_error(name, "train", data_dir=tmp_path, download=False)
    assert f"'{name}'" in message and str(tmp_path) in message and "--data-dir" in message


def test_unknown_name():
    message = one_line_error("imagenet", "train")
    assert "imagenet" in message and all(name in message for name in DATASET_NAMES)
    with pytest.raises(UserError, match="cifar100"):
        dataset_info("imagenet")


def test_bad_idx_magic(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[3] = 0x01
    path.write_bytes(gzip.compress(bytes(raw)))
    message = one_line_error("mnist", "train", data_dir=tmp_path, download=False)
    assert "train-images-idx3-ubyte.gz" in message and "magic" in message


def test_truncated_idx(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-10]))
    assert "t10k-images-idx3-ubyte.gz" in one_line_error("mnist", "test", data_dir=tmp_path, download=False)


def test_truncated_gzip(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-8])
    assert "t10k-labels-idx1-ubyte.gz" in one_line_error("mnist", "test", data_dir=tmp_path, download=False)


def test_truncated_cifar_batch(tmp_path):
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-10-batches-bin/test_batch.bin", bytes(3073 * 2 - 100))
    message = one_line_error("cifar10", "test", data_dir=tmp_path, download=False)
    assert "test_batch.bin" in message and "cifar-10-binary.tar.gz" in message


def test_truncated_cifar_archive(tmp_path):
    write_cifar100(tmp_path)
    path = tmp_path / "cifar-100-binary.tar.gz"
    path.write_bytes(path.read_bytes()[:200])
    assert "cifar-100-binary.tar.gz" in one_line_error("cifar100", "train", data_dir=tmp_path, download=False)


def test_archive_without_member(tmp_path):
    with tarfile.open(tmp_path / "cifar-100-binary.tar.gz", "w:gz") as tar:
        add_member(tar, "cifar-100-binary/test.bin", bytes(3074))
    message = one_line_error("cifar100", "train", data_dir=tmp_path, download=False)
    assert "cifar-100-binary/train.bin" in message


def test_corrupt_svhn(tmp_path):
    (tmp_path / "test_32x32.mat").write_bytes(b"not a mat file" * 20)
    assert "test_32x32.mat" in one_line_error("svhn", "test", data_dir=tmp_path, download=False)


def test_download_refused_offline(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure\nin name resolution")

    monkeypatch.setattr(data, "urlopen", offline)
    message = one_line_error("cifar10", "train", data_dir=tmp_path / "new")
    assert "download failed" in message and "Temporary failure in name resolution" in message
    assert "cifar-10-binary.tar.gz" in message and "https://www.cs.toronto.edu/~kriz/" in message
    assert not list(tmp_path.rglob("*.part"))


class Dropping:
    """A response that sends some bytes, then fails (as when the connection drops)."""

    headers = {"Content-Length": "1000"}

    def __init__(self):
        self.chunks = [b"x" * 100]

    def read(self, size):
        if self.chunks:
            return self.chunks.pop()
        raise OSError("connection reset")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_failed_download_leaves_no_part(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "urlopen", lambda url, timeout: Dropping())
    message = one_line_error("svhn", "test", data_dir=tmp_path)
    assert "connection reset" in message
    assert list(tmp_path.iterdir()) == []


def test_short_download_leaves_no_part(tmp_path, monkeypatch):
    """The server closes early (fewer bytes than Content-Length): nothing is kept."""
    response = Dropping()
    response.read = lambda size, chunks=[b"x" * 100]: chunks.pop() if chunks else b""
    monkeypatch.setattr(data, "urlopen", lambda url, timeout: response)
    assert "100 of 1000" in one_line_error("svhn", "test", data_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_then_read(tmp_path, monkeypatch):
    """Missing files are fetched from the table's URL, then read like local ones."""
    written = write_mnist(tmp_path / "server")
    urls = []

    class Serve(Dropping):
        def __init__(self, url):
            payload = (tmp_path / "server" / url.rsplit("/", 1)[1]).read_bytes()
            self.headers = {"Content-Length": str(len(payload))}
            self.chunks = [payload]

        def read(self, size):
            return self.chunks.pop() if self.chunks else b""

    def serve(url, timeout):
        urls.append(url)
        return Serve(url)

    monkeypatch.setattr(data, "urlopen", serve)
    x, y = load_dataset("mnist", "test", data_dir=tmp_path / "data")
    np.testing.assert_array_equal(y, written["test"][1])
    np.testing.assert_array_equal(x, scaled(written["test"][0][:, None]))
    assert urls == ["https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                    "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
