"""Kernel data, tiling and kernel files."""
import json

import numpy as np
import pytest

from models.errors import UserError
from models.kernels import KERNEL_NAMES, LEVEL_VALUES, bayer_kernel, get_kernel, save_kernel_file


def test_preferred_kernel_is_published_levels():
    np.testing.assert_array_equal(get_kernel("design2x2"), np.float32([[0.6310, 0.6310], [0.9671, 0.9671]]))
    assert LEVEL_VALUES[9] == 2.3419


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_every_named_kernel_is_finite_2d_or_3d(name):
    kernel = get_kernel(name)
    assert kernel.ndim in (2, 3) and np.all(np.isfinite(kernel))


def test_bayer_ranks_are_a_permutation_centred_on_zero():
    kernel = bayer_kernel(4)
    assert sorted(np.argsort(kernel.ravel()).tolist()) == list(range(16))
    assert abs(kernel.mean()) < 1e-6 and kernel.max() < 1 and kernel.min() > -1


def test_kernel_file_round_trip(tmp_path):
    path = tmp_path / "k.json"
    save_kernel_file(path, [[0.1, 0.2], [0.3, 0.4]], levels=[[0, 1], [3, 5]])
    np.testing.assert_array_equal(get_kernel(str(path)), np.float32([[0.1, 0.2], [0.3, 0.4]]))
    np.save(tmp_path / "k.npy", np.ones((2, 3, 3), dtype=np.float32))
    assert get_kernel(str(tmp_path / "k.npy")).shape == (2, 3, 3)


@pytest.mark.parametrize("content, message", [
    ({"values": [1.0, 2.0]}, "is not \\[kh, kw\\]"),
    ({"values": [[1.0, float("nan")]]}, "non-finite"),
    ({"levels": [[2, 4]]}, "not in the level set"),
    ({"weights": [[1.0]]}, "expected .npy or JSON"),
])
def test_bad_kernel_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(UserError, match=message):
        get_kernel(str(path))


def test_unknown_kernel_names_choices():
    with pytest.raises(UserError, match="unknown kernel 'fancy'.*design2x2"):
        get_kernel("fancy")


def test_object_npy_is_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UserError, match="cannot read kernel file"):
        get_kernel(str(tmp_path / "obj.npy"))
