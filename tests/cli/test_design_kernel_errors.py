"""``signflow design-kernel``: bad options and image folders refused in one line, exit 2, no traceback, no file
written."""
import pytest


def _folder(name, files=()):
    def setup(tmp_path):
        (tmp_path / name).mkdir()
        for file_name, data in files:
            (tmp_path / name / file_name).write_bytes(data)
    return setup


#: (id, setup or None, arguments replacing or added to the base, fragment of the error line)
CASES = [
    ("unknown metric", None, ["--rank-by", "ssim"], "unknown --rank-by 'ssim'; choose one of psnr, mse, corr"),
    ("shape not KxK", None, ["--shape", "2by2"], "bad --shape '2by2'; give KHxKW or FxKHxKW"),
    ("shape of four", None, ["--shape", "2x2x2x2"], "bad --shape '2x2x2x2'"),
    ("too many candidates", None, ["--shape", "3x3"], "use a smaller --shape or fewer --levels"),
    ("unknown level", None, ["--levels", "0,1,2"], "unknown level(s) [2] in --levels"),
    ("one level", None, ["--levels", "3"], "every candidate would be constant"),
    ("1x1 kernel", None, ["--shape", "1x1"], "every candidate would be constant"),
    ("no filters", None, ["--filters", "0"], "--filters must be between 1 and 4,096, not 0"),
    # far beyond the limits the score tables would exhaust memory instead of saying so
    ("a million filters", None, ["--filters", "1000000"], "--filters must be between 1 and 4,096, not 1000000"),
    ("filters not a number", None, ["--filters", "many"], "--filters must be a number or 'all', not 'many'"),
    ("no images", None, ["--num-images", "0"], "--num-images must be between 1 and 100,000, not 0"),
    ("negative seed", None, ["--seed", "-1"], "--seed must be between 0 and 2^32 - 1, not -1"),
    ("fewer filters than slices", None, ["--shape", "4x1x2", "--levels", "1,3", "--filters", "2"],
     "give --filters 4 or more"),
    ("tiny images", None, ["--images", "missing", "--image-size", "3"], "--image-size must be at least 4"),
    ("huge images", None, ["--images", "missing", "--image-size", "100000"],
     "--image-size must be between 1 and 512, not 100000"),
    ("--image-size without --images", None, ["--image-size", "64"],
     "--image-size resizes the images of --images FOLDER; the bundled digits are scored at 8x8, as they are"),
    ("--out not JSON", None, ["--out", "best.txt"], "--out best.txt must end in .json"),
    ("--ranking over --out", None, ["--ranking", "best.json"], "--out and --ranking must be different files"),
    ("no output", None, "NO-OUT", "give --out FILE.json"),
    ("missing image folder", None, ["--images", "missing"], "does not exist"),
    ("empty image folder", _folder("empty"), ["--images", "empty"], "no PNG"),
    ("corrupt image", _folder("corrupt", [("x.png", b"not a png")]), ["--images", "corrupt"], "cannot read image"),
]


@pytest.mark.parametrize("setup, extra, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_design_kernel_refuses(setup, extra, fragment, refused, tmp_path):
    if setup is not None:
        setup(tmp_path)
    base = ["design-kernel", "--num-images", "4", "--filters", "2"]
    refused(base if extra == "NO-OUT" else base + ["--out", "best.json"] + extra, fragment)


def test_existing_kernel_file_needs_force(refused, tmp_path):
    (tmp_path / "best.json").write_text("mine")
    refused(["design-kernel", "--num-images", "4", "--filters", "2", "--out", "best.json"],
            "--out file best.json already exists; give --force to replace it")
