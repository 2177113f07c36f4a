"""Kernel data, the published kernels, tiling and kernel files."""
import json

import numpy as np
import pytest

from signflow.errors import UserError
from signflow.models.kernels import (
    DEMO_KERNEL,
    KERNEL_NAMES,
    LEVEL_VALUES,
    PREFERRED_KERNEL,
    PUBLISHED_FILE,
    PUBLISHED_KERNELS,
    RECU_3D_KERNEL,
    bayer_kernel,
    get_kernel,
    save_kernel_file,
    tile_kernel,
)

#: the published kernels as shipped: values and levels in the published layout ([h][w] or [h][w][f])
PUBLISHED = json.loads(PUBLISHED_FILE.read_text())["kernels"]


def test_preferred_kernel_is_published_levels():
    np.testing.assert_array_equal(get_kernel("design2x2"), np.float32([[0.6310, 0.6310], [0.9671, 0.9671]]))
    np.testing.assert_array_equal(get_kernel("design2x2"), get_kernel(PREFERRED_KERNEL))
    assert LEVEL_VALUES[9] == 2.3419


def test_the_fourteen_published_kernels_and_the_notable_ones():
    assert len(PUBLISHED) == 14 and set(PUBLISHED) == set(PUBLISHED_KERNELS)
    assert set(PUBLISHED) <= set(KERNEL_NAMES)
    assert PUBLISHED[PREFERRED_KERNEL]["levels"] == [[1, 1], [3, 3]]
    assert PUBLISHED[DEMO_KERNEL]["levels"] == [[1, 1], [0, 3]]
    assert PUBLISHED[RECU_3D_KERNEL]["shape"] == [2, 2, 4]
    assert "baseline2x2" in PUBLISHED and "levels" not in PUBLISHED["baseline2x2"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_kernel_loads_as_published(name):
    entry = PUBLISHED[name]
    kernel = get_kernel(name)
    values = np.asarray(entry["values"], dtype=np.float32)
    shape = entry["shape"]
    assert list(values.shape) == shape
    if len(shape) == 2:
        assert kernel.shape == tuple(shape)
        np.testing.assert_array_equal(kernel, values)
    else:  # published [h][w][f] -> signflow [F, kh, kw]
        assert kernel.shape == (shape[2], shape[0], shape[1])
        np.testing.assert_array_equal(kernel, values.transpose(2, 0, 1))
    if "levels" in entry:
        levels = np.asarray(entry["levels"])
        np.testing.assert_array_equal(np.vectorize(LEVEL_VALUES.get, otypes=[np.float32])(levels), values)
        assert PUBLISHED_KERNELS[name].levels.shape == kernel.shape
    else:
        assert PUBLISHED_KERNELS[name].levels is None


@pytest.mark.parametrize("name", sorted(PUBLISHED))
@pytest.mark.parametrize("channels, height, width", [(9, 7, 5), (4, 6, 6)])
def test_published_kernel_tiles_as_its_layout_says(name, channels, height, width):
    """``tile[c, h, w] == values[h % kh][w % kw]`` (2-D) or ``values[h % kh][w % kw][c % F]`` (3-D)."""
    values = PUBLISHED[name]["values"]
    kh, kw = len(values), len(values[0])
    tiled = tile_kernel(get_kernel(name), channels, height, width)
    assert tiled.shape == (channels, height, width)
    for c in range(channels):
        for h in range(height):
            for w in range(width):
                cell = values[h % kh][w % kw]
                expected = cell if not isinstance(cell, list) else cell[c % len(cell)]
                assert tiled[c, h, w] == np.float32(expected)


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_every_named_kernel_is_finite_2d_or_3d(name):
    kernel = get_kernel(name)
    assert kernel.ndim in (2, 3) and np.all(np.isfinite(kernel))


@pytest.mark.parametrize("name", ["design2x2-diag", "design2x2-low", "design3x3", "design3x3-ramp",
                                  "design2x2x2", "design2x2x4"])
def test_former_non_published_picks_are_gone(name):
    with pytest.raises(UserError, match="unknown kernel"):
        get_kernel(name)


def test_get_kernel_returns_a_copy():
    get_kernel(PREFERRED_KERNEL)[0, 0] = 99.0
    assert get_kernel(PREFERRED_KERNEL)[0, 0] == np.float32(0.631)


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
    with pytest.raises(UserError, match="unknown kernel 'fancy'.*threshold_2x2_v2") as err:
        get_kernel("fancy")
    assert "\n" not in str(err.value)


def test_object_npy_is_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UserError, match="cannot read kernel file"):
        get_kernel(str(tmp_path / "obj.npy"))
