"""``signflow design-kernel``: the kernel list, the published search's output files and printout, bad input."""
import contextlib
import io
import json

import numpy as np
import pytest

import signflow.cli
from signflow.models.kernel_design import parse_levels, parse_shape
from signflow.models.kernel_search import METRICS, is_constant
from signflow.models.kernels import PUBLISHED_KERNELS, get_kernel

CANDIDATE_KEYS = {"levels", "rank", "psnr", "mse", "corr", "tv", "wpsnr"}


@pytest.fixture
def cli():
    """``signflow`` in-process."""
    return signflow.cli.main


def test_list_names_every_kernel_without_out(cli, capsys):
    assert cli(["design-kernel", "--list"]) == 0
    out = capsys.readouterr().out
    for name in PUBLISHED_KERNELS:
        assert name in out
    lines = out.splitlines()
    row = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in PUBLISHED_KERNELS}
    assert "preferred" in row["threshold_2x2_v2"] and "[[1,1],[3,3]]" in row["threshold_2x2_v2"]
    assert "Threshold2D" in row["threshold_2x2_v1"] and "[[1,1],[0,3]]" in row["threshold_2x2_v1"]
    assert "Threshold3D" in row["threshold_2x2x4_shifting_n1_right_v1"]
    assert row["threshold_2x2x4_shifting_n1_right_v1"].split()[1] == "2x2x4"
    assert "design2x2 = threshold_2x2_v2" in out and "bayer" in out and "zero" in out


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """One small published search (20 digits, 4 filters): its printout, ranking and kernel file.

    Module-scoped, so it captures its output itself (``capsys`` is per test).
    """
    folder = tmp_path_factory.mktemp("search")
    out, ranking = folder / "k.json", folder / "ranking.json"
    argv = ["design-kernel", "--num-images", "20", "--filters", "4", "--seed", "3", "--top", "5",
            "--out", str(out), "--ranking", str(ranking)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert signflow.cli.main(argv) == 0
    return printed.getvalue(), json.loads(ranking.read_text()), out


def test_ranking_json_schema(search):
    _, doc, _ = search
    assert set(doc) == {"settings", "best", "published", "candidates"}
    settings = doc["settings"]
    assert settings["shape"] == [2, 2] and settings["levels"] == [0, 1, 3, 5, 7, 9]
    assert settings["filters"] == 4 and settings["seed"] == 3 and settings["rank_by"] == "psnr"
    assert settings["merge_shifts"] is False and settings["count"] == 1296
    candidates = doc["candidates"]
    assert len(candidates) == 1296
    assert all(set(candidate) == CANDIDATE_KEYS for candidate in candidates)
    assert [candidate["rank"] for candidate in candidates] == list(range(1, 1297))
    assert len({json.dumps(candidate["levels"]) for candidate in candidates}) == 1296  # every grid, once
    psnr = [candidate["psnr"] for candidate in candidates]
    assert psnr == sorted(psnr, reverse=True)
    assert all(isinstance(candidate[key], float) for candidate in candidates for key in METRICS)
    assert doc["published"].keys() == {"threshold_2x2_v1", "threshold_2x2_v2"}
    for name, place in doc["published"].items():
        assert candidates[place - 1]["levels"] == PUBLISHED_KERNELS[name].levels.tolist()


def test_best_kernel_is_the_first_non_constant_one(search):
    _, doc, out = search
    candidates = doc["candidates"]
    best = doc["best"]
    assert not is_constant(np.array([best["levels"]]))[0]
    assert all(is_constant(np.array([c["levels"] for c in candidates[:best["rank"] - 1]])))
    assert candidates[best["rank"] - 1]["levels"] == best["levels"]
    written = json.loads(out.read_text())
    assert written["levels"] == best["levels"]
    kernel = get_kernel(str(out))
    assert kernel.shape == (2, 2) and len(np.unique(kernel)) > 1


def test_printout_ranks_both_published_2x2_kernels(search):
    printed, doc, out = search
    lines = printed.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "levels"])
    assert [line.split()[0] for line in lines[head + 1:head + 6]] == ["1", "2", "3", "4", "5"]
    for name, levels in (("threshold_2x2_v2", "[[1,1],[3,3]]"), ("threshold_2x2_v1", "[[1,1],[0,3]]")):
        place = doc["published"][name]
        assert f"published {name} {levels}: rank {place} of 1296" in printed
    assert f"best kernel: rank {doc['best']['rank']}" in printed
    assert str(out) in printed


def test_merge_shifts_and_rank_by_mse(cli, tmp_path, capsys):
    ranking = tmp_path / "r.json"
    argv = ["design-kernel", "--merge-shifts", "--rank-by", "mse", "--num-images", "8", "--filters", "2",
            "--ranking", str(ranking)]
    assert cli(argv) == 0
    doc = json.loads(ranking.read_text())
    # the orbits of 2x2 grids of 6 levels under cyclic shifts (Burnside): (6^4 + 3 * 6^2) / 4
    assert doc["settings"]["count"] == len(doc["candidates"]) == 351
    mse = [candidate["mse"] for candidate in doc["candidates"]]
    assert mse == sorted(mse)  # lower first
    assert "cyclic shifts merged, 1296 before" in capsys.readouterr().out


def test_folder_images(cli, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    yy, xx = np.mgrid[0:20, 0:24]
    Image.fromarray((xx * 10).astype(np.uint8)).save(folder / "a.png")
    Image.fromarray(np.stack([xx * 10, yy * 12, xx * 5], -1).astype(np.uint8)).save(folder / "b.jpg")
    Image.fromarray((yy * 12).astype(np.uint8)).save(folder / "c.pgm")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "k.json"
    argv = ["design-kernel", "--images", str(folder), "--image-size", "12", "--levels", "1,3,5",
            "--filters", "4", "--out", str(out)]
    assert cli(argv) == 0
    assert get_kernel(str(out)).shape == (2, 2)
    printed = capsys.readouterr().out
    assert "first 3 of 3 images" in printed and "1 non-image file(s) ignored" in printed
    assert "threshold_2x2_v1" not in printed  # level 0 is not searched: v1 is no candidate


def test_3d_search(cli, tmp_path):
    out = tmp_path / "k3.json"
    argv = ["design-kernel", "--shape", "2x1x2", "--levels", "1,3", "--num-images", "6", "--filters", "4",
            "--out", str(out)]
    assert cli(argv) == 0
    assert get_kernel(str(out)).shape == (2, 1, 2)


def test_every_filter(cli, tmp_path, capsys):
    ranking = tmp_path / "r.json"
    argv = ["design-kernel", "--filters", "all", "--num-images", "2", "--levels", "1,3", "--seed", "5",
            "--ranking", str(ranking)]
    assert cli(argv) == 0
    settings = json.loads(ranking.read_text())["settings"]
    assert settings["filters"] == "all" and settings["seed"] is None  # no seed: no draw
    assert "x all 512 binary 3x3 filters (the exact mean, no seed)" in capsys.readouterr().out


def test_help_says_why_16_filters(cli, capsys):
    with pytest.raises(SystemExit) as done:
        cli(["design-kernel", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--rank-by", "--ranking", "--merge-shifts", "--filters", "--seed", "--images", "--list"):
        assert option in text
    assert "default: 16" in text and "too noisy" in text and "'all'" in text


def test_parse_shape_and_levels():
    assert parse_shape("2x2") == (2, 2)
    assert parse_shape("3X3") == (3, 3)
    assert parse_shape("4x2x2") == (4, 2, 2)
    assert parse_levels("9, 1,3,1") == [1, 3, 9]
