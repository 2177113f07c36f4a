"""Tests of the DeSign kernel search (``signflow design-kernel``): fast and offline."""
import itertools

import numpy as np
import pytest
import torch

import flow.cli
from models.errors import UserError
from models.kernel_design import (
    MAX_CANDIDATES,
    candidate_grids,
    find_grid,
    parse_levels,
    parse_shape,
    pearson,
    psnr,
    rank,
    score_kernels,
    total_variation,
)
from models.kernels import get_kernel, levels_to_values


@pytest.fixture
def cli():
    """``signflow`` in-process."""
    return flow.cli.main


def _orbits(shape, levels):
    """Classes of grids equal up to a cyclic shift, counted by brute force with sets."""
    seen = set()
    for cells in itertools.product(levels, repeat=int(np.prod(shape))):
        grid = np.array(cells).reshape(shape)
        seen.add(frozenset(np.roll(grid, shift, axis=tuple(range(len(shape)))).tobytes()
                           for shift in itertools.product(*(range(s) for s in shape))))
    return seen


@pytest.mark.parametrize("shape, levels", [((2, 2), [0, 1, 3]), ((2, 3), [1, 3]), ((3, 3), [1, 5]),
                                           ((2, 2, 2), [1, 3]), ((1, 4), [0, 1, 3, 5])])
def test_candidate_grids_one_per_cyclic_class(shape, levels):
    grids = candidate_grids(shape, levels)
    expected = _orbits(shape, levels)
    assert grids.shape == (len(expected), *shape)
    axes = tuple(range(len(shape)))
    found = {frozenset(np.roll(g, s, axis=axes).tobytes() for s in itertools.product(*(range(n) for n in shape)))
             for g in grids.astype(np.int64)}
    assert found == expected  # every class present, none twice
    assert set(np.unique(grids)) <= set(levels)


def test_candidate_grids_counts_and_representatives():
    # Burnside for Z2 x Z2 acting on 2x2 grids of 6 levels: (6^4 + 3 * 6^2) / 4
    grids = candidate_grids((2, 2), [0, 1, 3, 5, 7, 9])
    assert len(grids) == (6**4 + 3 * 6**2) // 4 == 351
    # the paper kernel represents itself and its row-swapped twin
    assert find_grid(grids, [[1, 1], [3, 3]]) == find_grid(grids, [[3, 3], [1, 1]]) is not None
    assert any((g == [[1, 1], [3, 3]]).all() for g in grids)
    assert len(candidate_grids((2, 2), [3])) == 1


def test_candidate_grids_refuses_huge_searches():
    with pytest.raises(UserError, match="smaller --shape or fewer --levels") as err:
        candidate_grids((3, 3), [0, 1, 3, 5, 7, 9])
    assert "\n" not in str(err.value)
    assert 6**9 > MAX_CANDIDATES


def test_parse_shape_and_levels():
    assert parse_shape("2x2") == (2, 2)
    assert parse_shape("3X3") == (3, 3)
    assert parse_shape("2x2x2") == (2, 2, 2)
    assert parse_levels("9, 1,3,1") == [1, 3, 9]
    for bad in ("2", "2x", "axb", "0x2", "2x2x2x2", "17x1"):
        with pytest.raises(UserError):
            parse_shape(bad)
    for bad in ("0,2", "a", "1,,3", ""):
        with pytest.raises(UserError):
            parse_levels(bad)


def test_total_variation_known_answers():
    assert total_variation(torch.ones(5, 7)).item() == 0.0
    assert total_variation(torch.zeros(2, 3, 4, 4)).shape == (2, 3)
    checker = (np.indices((4, 4)).sum(axis=0) % 2).astype(np.float32)
    assert total_variation(checker).item() == pytest.approx(1.0)
    split = np.zeros((4, 4), dtype=np.float32)
    split[:, 2:] = 1  # one vertical edge: 4 of the 24 adjacent pairs differ
    assert total_variation(split).item() == pytest.approx(4 / 24)


def test_psnr_and_pearson_known_answers():
    half = torch.full((3, 3), 0.5)
    assert psnr(torch.zeros(3, 3), half).item() == pytest.approx(10 * np.log10(4.0), rel=1e-5)
    assert psnr(half, half).item() == pytest.approx(100.0)
    ramp = torch.arange(10.0)
    assert pearson(ramp, 2 * ramp + 1).item() == pytest.approx(1.0)
    assert pearson(ramp, -ramp).item() == pytest.approx(-1.0)
    assert pearson(ramp, torch.ones(10)).item() == 0.0  # constant input: defined as 0


def _images(n=40, size=8, seed=3):
    return np.random.default_rng(seed).random((n, size, size)).astype(np.float32)


def test_zero_and_designed_kernels_score_differently():
    kernels = [np.zeros((1, 1), np.float32), levels_to_values([[1, 1], [3, 3]]),
               levels_to_values([[[1, 1], [3, 3]], [[3, 3], [1, 1]]])]
    scores = score_kernels(_images(), kernels, seed=0, n_filters=4)
    for key in ("tv", "psnr", "corr"):
        assert scores[key].shape == (3,)
        assert np.all(np.isfinite(scores[key]))
        assert scores[key][0] != scores[key][1]
    assert np.all((scores["tv"] >= 0) & (scores["tv"] <= 1))
    assert np.all(np.abs(scores["corr"]) <= 1)


def test_scores_deterministic_for_a_seed():
    kernels = levels_to_values(candidate_grids((2, 2), [1, 3, 5]))
    first = score_kernels(_images(), kernels, seed=7, n_filters=6)
    again = score_kernels(_images(), kernels, seed=7, n_filters=6)
    other = score_kernels(_images(), kernels, seed=8, n_filters=6)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert any(not np.array_equal(first[key], other[key]) for key in first)


def test_threshold_above_everything_gives_blank_smooth_output():
    scores = score_kernels(_images(), [np.full((2, 2), 1e6, np.float32)], seed=0, n_filters=3)
    assert scores["tv"][0] == 0.0 and scores["corr"][0] == 0.0


def test_rank_orders_and_breaks_ties():
    scores = {"tv": np.array([0.3, 0.1, 0.2]), "psnr": np.array([10.0, 12.0, 12.0]),
              "corr": np.array([0.9, 0.5, 0.6])}
    assert rank(scores, "psnr").tolist() == [2, 1, 0]
    assert rank(scores, "corr").tolist() == [0, 2, 1]
    assert rank(scores, "tv").tolist() == [1, 2, 0]


def test_cli_writes_a_loadable_kernel(cli, tmp_path, capsys):
    out = tmp_path / "k.json"
    assert cli(["design-kernel", "--shape", "2x2", "--num-images", "50", "--top", "5", "--out", str(out)]) == 0
    kernel = get_kernel(str(out))
    assert kernel.shape == (2, 2) and np.all(np.isfinite(kernel))
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "levels"])
    assert [line.split()[0] for line in lines[head + 1:head + 6]] == ["1", "2", "3", "4", "5"]
    assert "design2x2 [[1,1],[3,3]]: rank" in captured.out
    assert str(out) in lines[-1]


def test_cli_folder_images(cli, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    yy, xx = np.mgrid[0:20, 0:24]
    Image.fromarray((xx * 10).astype(np.uint8)).save(folder / "a.png")
    Image.fromarray(np.stack([xx * 10, yy * 12, xx * 5], -1).astype(np.uint8)).save(folder / "b.jpg")
    Image.fromarray((yy * 12).astype(np.uint8)).save(folder / "c.pgm")
    out = tmp_path / "k.json"
    argv = ["design-kernel", "--images", str(folder), "--image-size", "12", "--levels", "1,3,5",
            "--filters", "4", "--out", str(out)]
    assert cli(argv) == 0
    assert get_kernel(str(out)).shape == (2, 2)
    assert "first 3 of 3 images" in capsys.readouterr().out


def test_cli_help(cli, capsys):
    with pytest.raises(SystemExit) as done:
        cli(["design-kernel", "--help"])
    assert done.value.code == 0
    assert "--rank-by" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--shape", "2by2"], "bad --shape"),
    (["--levels", "0,1,2"], "unknown level"),
    (["--shape", "2x2x2"], "fewer --levels"),
    ("EMPTY", "no PNG"),
    ("CORRUPT", "cannot read image"),
])
def test_cli_user_errors(cli, tmp_path, capsys, extra, message):
    if extra == "EMPTY":
        (tmp_path / "empty").mkdir()
        extra = ["--images", str(tmp_path / "empty")]
    elif extra == "CORRUPT":
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "x.png").write_bytes(b"not a png")
        extra = ["--images", str(tmp_path / "bad")]
    out = tmp_path / "k.json"
    assert cli(["design-kernel", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not out.exists()
    assert not list(tmp_path.glob(".k.json*"))
