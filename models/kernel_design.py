"""Design DeSign threshold kernels by brute force: ``signflow design-kernel``.

A candidate is a grid of integer *levels* (the possible outputs of a 3x3 binary
conv after ReLU, see ``models.kernels.LEVEL_VALUES``) of shape ``(kh, kw)`` or
``(F, kh, kw)``. Every grid over the chosen levels is enumerated; grids equal
up to a cyclic shift are merged, because tiling makes them the same dither
pattern seen from another origin (for 3-D kernels, a cyclic shift of the ``F``
slices is merged too: it only relabels channels). Each orbit is represented by
its lexicographically smallest member, so ``[[1, 1], [3, 3]]`` stands for
itself and for ``[[3, 3], [1, 1]]``.

How a candidate is scored (``score_kernels``):

* images are grayscale in [0, 1]; they enter the conv as ``x = 2 * image - 1``
  in [-1, 1], the range the models see, so ``z = ReLU(conv3x3(x, w))`` with
  random weights ``w`` in {-1, +1} (no padding) lies in [0, 9], the scale the
  levels are counted in;
* ``z`` is standardized per filter over all images and pixels (a BatchNorm with
  gamma = 1, beta = 0 on the scored batch), and binarized exactly like the
  DeSign forward: ``b = (zn >= T[c mod F, h mod kh, w mod kw])``, as {0, 1},
  where ``T`` holds the threshold *values* of the candidate's levels;
* the reference tone is ``r = (z - min) / (max - min)`` per filter, in [0, 1].

Metrics, each averaged over images and filters:

* ``tv``: total variation of ``b``, the fraction of horizontally or vertically
  adjacent pixel pairs that differ (0 for a constant map, 1 for a
  checkerboard); lower is smoother (a blank output has TV 0, so TV alone is a
  poor criterion);
* ``psnr``: ``10 log10(1 / MSE)`` between ``b`` and ``r``, both first blurred by
  the same 3x3 box filter (borders average over in-bounds pixels only), so that
  a dither pattern is compared by the tone it is perceived to have; higher is
  better;
* ``corr``: Pearson correlation between ``b`` and ``r`` (unblurred), per
  filter, 0 when ``b`` is constant; higher is better.

Ranking: ``--rank-by psnr`` (default) sorts by PSNR, ties by correlation then
TV; ``corr`` sorts by correlation, ties by PSNR then TV; ``tv`` sorts by TV,
ties by PSNR then correlation. The best candidate is written as a kernel file
that ``--kernel FILE.json`` accepts.
"""
import itertools
import re
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.errors import UserError
from models.files import atomic_path, prepare_file
from models.kernels import (
    KERNEL_ALIASES,
    LEVEL_VALUES,
    PUBLISHED_KERNELS,
    levels_to_values,
    save_kernel_file,
    tile_kernel,
    validate_kernel,
)

#: named kernels whose ranks the search reports: the aliases and the published kernels given as levels
KERNEL_LEVELS = {
    **{alias: PUBLISHED_KERNELS[name].levels for alias, name in KERNEL_ALIASES.items()},
    **{name: kernel.levels for name, kernel in PUBLISHED_KERNELS.items() if kernel.levels is not None},
}

#: refuse searches with more raw grids than this (before merging shifts)
MAX_CANDIDATES = 200_000
#: image file types read from ``--images``
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pgm")
RANK_KEYS = ("psnr", "corr", "tv")
DEFAULT_LEVELS = "0,1,3,5,7,9"
#: elements of the [candidates, images, filters, H, W] block scored at once
_CHUNK_ELEMENTS = 8_000_000
_BLUR = 3


def _one_line(err):
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# ---------------------------------------------------------------- parsing


def parse_shape(text):
    """``"2x2"`` -> ``(2, 2)``, ``"2x2x2"`` -> ``(2, 2, 2)`` (``F x kh x kw``)."""
    text = str(text).strip().lower()
    if not re.fullmatch(r"\d+(x\d+){1,2}", text):
        raise UserError(f"bad --shape '{text}'; give KHxKW or FxKHxKW, e.g. 2x2, 3x3 or 2x2x2")
    shape = tuple(int(part) for part in text.split("x"))
    if min(shape) < 1 or max(shape) > 16:
        raise UserError(f"bad --shape '{text}'; every size must be between 1 and 16")
    return shape


def parse_levels(text):
    """``"0,1,3"`` -> ``[0, 1, 3]`` (sorted, duplicates merged), each in ``LEVEL_VALUES``."""
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(not part for part in parts):
        raise UserError(f"bad --levels '{text}'; give comma-separated levels from {_level_list()}")
    try:
        levels = sorted({int(part) for part in parts})
    except ValueError:
        raise UserError(f"bad --levels '{text}'; give comma-separated integers from {_level_list()}")
    unknown = [level for level in levels if level not in LEVEL_VALUES]
    if unknown:
        raise UserError(f"unknown level(s) {unknown} in --levels; choose from {_level_list()}")
    return levels


def _level_list():
    return ",".join(str(level) for level in sorted(LEVEL_VALUES))


def _shape_text(shape):
    return "x".join(str(size) for size in shape)


# ---------------------------------------------------------------- candidates


def _check_shape(shape):
    shape = tuple(int(size) for size in shape)
    if len(shape) not in (2, 3) or min(shape) < 1 or max(shape) > 16:
        raise UserError(f"kernel shape {list(shape)} is not (kh, kw) or (F, kh, kw) with sizes 1..16")
    return shape


def _shifts(shape):
    """Every cyclic shift of a grid of ``shape``, as ``np.roll`` amounts over its axes."""
    return itertools.product(*(range(size) for size in shape))


def candidate_grids(shape, levels):
    """Every level grid of ``shape``, one per class of grids equal up to a cyclic shift.

    Returns an int64 array ``[M, *shape]`` of levels in lexicographic order; each
    row is the lexicographically smallest member of its class.
    """
    shape = _check_shape(shape)
    levels = sorted({int(level) for level in levels})
    if not levels:
        raise UserError("no levels to search; give at least one level")
    unknown = [level for level in levels if level not in LEVEL_VALUES]
    if unknown:
        raise UserError(f"unknown level(s) {unknown}; choose from {_level_list()}")
    n_cells = int(np.prod(shape))
    base = len(levels)
    total = base**n_cells
    if total > MAX_CANDIDATES:
        raise UserError(
            f"a {_shape_text(shape)} search over {base} levels has {base}^{n_cells} = {total:,} candidates, "
            f"above the limit of {MAX_CANDIDATES:,}; use a smaller --shape or fewer --levels"
        )
    if base == 1:
        return np.full((1, *shape), levels[0], dtype=np.int64)
    # indices into ``levels``; row order is lexicographic (first cell most significant)
    index = np.indices((base,) * n_cells).reshape(n_cells, -1).T
    weights = base ** np.arange(n_cells - 1, -1, -1, dtype=np.int64)
    own = index @ weights
    grids = index.reshape(-1, *shape)
    axes = tuple(range(1, len(shape) + 1))
    smallest = own.copy()
    for shift in _shifts(shape):
        if any(shift):
            rolled = np.roll(grids, shift, axis=axes).reshape(total, n_cells)
            np.minimum(smallest, rolled @ weights, out=smallest)
    keep = own == smallest
    return np.asarray(levels, dtype=np.int64)[grids[keep]]


def find_grid(grids, grid):
    """Index in ``grids`` of the grid equal to ``grid`` up to a cyclic shift, or ``None``."""
    grid = np.asarray(grid)
    if grid.shape != grids.shape[1:]:
        return None
    axes = tuple(range(grid.ndim))
    for shift in _shifts(grid.shape):
        hits = np.flatnonzero(np.all(grids == np.roll(grid, shift, axis=axes), axis=tuple(a + 1 for a in axes)))
        if hits.size:
            return int(hits[0])
    return None


# ---------------------------------------------------------------- metrics


def total_variation(maps):
    """Mean absolute difference of adjacent pixels (rows and columns) of ``[..., H, W]`` maps.

    For binary maps: the fraction of adjacent pairs that differ. Returns ``[...]``.
    """
    maps = torch.as_tensor(maps, dtype=torch.float32)
    height, width = maps.shape[-2:]
    pairs = (height - 1) * width + height * (width - 1)
    if pairs == 0:
        return torch.zeros(maps.shape[:-2])
    rows = (maps[..., 1:, :] - maps[..., :-1, :]).abs().sum(dim=(-2, -1))
    cols = (maps[..., :, 1:] - maps[..., :, :-1]).abs().sum(dim=(-2, -1))
    return (rows + cols) / pairs


def box_blur(maps, size=_BLUR):
    """``size`` x ``size`` box blur of ``[..., H, W]`` maps; borders average in-bounds pixels only."""
    maps = torch.as_tensor(maps, dtype=torch.float32)
    lead, (height, width) = maps.shape[:-2], maps.shape[-2:]
    flat = maps.reshape(-1, 1, height, width)
    blurred = F.avg_pool2d(flat, size, stride=1, padding=size // 2, count_include_pad=False)
    return blurred[..., :height, :width].reshape(*lead, height, width)


def psnr(a, b, dims=None, peak=1.0):
    """``10 log10(peak^2 / MSE)`` over ``dims`` (all by default); capped at 100 dB for equal inputs."""
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    diff = (a - b) ** 2
    mse = diff.mean() if dims is None else diff.mean(dim=dims)
    return 10.0 * torch.log10(peak**2 / mse.clamp(min=1e-10))


def pearson(a, b, dims=None):
    """Pearson correlation over ``dims`` (all by default); 0 where either input is constant."""
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    a, b = torch.broadcast_tensors(a, b)
    dims = tuple(range(a.ndim)) if dims is None else dims
    da = a - a.mean(dim=dims, keepdim=True)
    db = b - b.mean(dim=dims, keepdim=True)
    cov = (da * db).mean(dim=dims)
    var = da.pow(2).mean(dim=dims) * db.pow(2).mean(dim=dims)
    ok = var > 1e-12
    return torch.where(ok, cov / var.clamp(min=1e-12).sqrt(), torch.zeros_like(cov))


# ---------------------------------------------------------------- scoring


def random_binary_filters(n_filters, seed):
    """``n_filters`` 3x3 filters with weights in {-1, +1}, the same for the same seed."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 2, size=(n_filters, 1, 3, 3)) * 2 - 1
    return torch.as_tensor(weights, dtype=torch.float32)


def _as_gray_batch(images):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] < 1 or min(images.shape[1:]) < 3:
        raise UserError(f"images must be [N, H, W] or [N, 1, H, W] with H, W >= 3, not {list(images.shape)}")
    if not np.all(np.isfinite(images)):
        raise UserError("images contain non-finite values")
    return torch.from_numpy(np.ascontiguousarray(images))


def score_kernels(images, kernels, seed=0, n_filters=16, progress=False):
    """Score threshold kernels (values, not levels) on grayscale ``images`` in [0, 1].

    ``kernels`` is a sequence of kernels (a list, or an array whose first axis
    indexes kernels), each ``[kh, kw]`` or ``[F, kh, kw]``; shapes may differ.
    Returns ``{"tv", "psnr", "corr"}``, each a float64 array with one score per
    kernel (see the module docstring for the definitions).
    """
    from tqdm import tqdm

    kernels = [validate_kernel(kernel, source=f"kernel {i}") for i, kernel in enumerate(kernels)]
    if n_filters < 1:
        raise UserError("the number of filters must be at least 1")
    x = _as_gray_batch(images)[:, None] * 2.0 - 1.0
    with torch.no_grad():
        z = torch.relu(F.conv2d(x, random_binary_filters(n_filters, seed)))  # [N, nf, H, W] in [0, 9]
        dims = (0, 2, 3)
        mean = z.mean(dim=dims, keepdim=True)
        std = z.std(dim=dims, keepdim=True, unbiased=False).clamp(min=1e-6)
        zn = (z - mean) / std
        low, high = z.amin(dim=dims, keepdim=True), z.amax(dim=dims, keepdim=True)
        ref = (z - low) / (high - low).clamp(min=1e-6)
        ref_blur = box_blur(ref)
        n_images, _, height, width = z.shape
        per_kernel = zn.numel()
        chunk = max(1, _CHUNK_ELEMENTS // per_kernel)
        scores = {key: np.zeros(len(kernels)) for key in ("tv", "psnr", "corr")}
        bar = tqdm(total=len(kernels), desc="scoring kernels", unit="kernel", file=sys.stderr,
                   disable=not progress, leave=False)
        for start in range(0, len(kernels), chunk):
            part = kernels[start:start + chunk]
            tiled = np.stack([tile_kernel(kernel, n_filters, height, width) for kernel in part])
            binary = (zn[None] >= torch.from_numpy(tiled)[:, None]).float()  # [c, N, nf, H, W]
            stop = start + len(part)
            scores["tv"][start:stop] = total_variation(binary).mean(dim=(1, 2)).numpy()
            scores["psnr"][start:stop] = psnr(box_blur(binary), ref_blur[None], dims=(1, 2, 3, 4)).numpy()
            scores["corr"][start:stop] = pearson(binary, ref[None], dims=(1, 3, 4)).mean(dim=1).numpy()
            bar.update(len(part))
        bar.close()
    return scores


def rank(scores, rank_by="psnr"):
    """Candidate indices, best first, by ``rank_by`` with the tie-breaks of the module docstring."""
    if rank_by not in RANK_KEYS:
        raise UserError(f"unknown --rank-by '{rank_by}'; choose one of {', '.join(RANK_KEYS)}")
    # rounded so float noise does not decide between equal scores
    tv = np.round(scores["tv"], 9)
    quality = np.round(scores["psnr"], 9)
    corr = np.round(scores["corr"], 9)
    order_index = np.arange(len(tv))
    keys = {
        "psnr": (order_index, tv, -corr, -quality),
        "corr": (order_index, tv, -quality, -corr),
        "tv": (order_index, -corr, -quality, tv),
    }[rank_by]
    return np.lexsort(keys)  # the last key is the primary one


# ---------------------------------------------------------------- images


def digits_images(num_images):
    """The first ``num_images`` bundled digits (train split), grayscale [N, 8, 8] in [0, 1]."""
    from models.data import load_dataset

    images, _ = load_dataset("digits", "train")
    return (images[:num_images, 0] + 1.0) / 2.0


def _gray01(image):
    """A PIL image as a float32 grayscale array in [0, 1]."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        if image.mode == "F":
            scale = 1.0 if array.max(initial=0.0) <= 1.0 else array.max()
        else:
            scale = 255.0 if array.max(initial=0.0) <= 255 and image.mode == "I" else 65535.0
        return np.clip(array / scale, 0.0, 1.0).astype(np.float32)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _square(array, size):
    """Centre-crop ``array`` to a square and resize it to ``size`` x ``size`` (bilinear)."""
    from PIL import Image

    height, width = array.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = Image.fromarray(np.ascontiguousarray(array[top:top + side, left:left + side]), mode="F")
    return np.asarray(crop.resize((size, size), Image.BILINEAR), dtype=np.float32)


def folder_images(folder, num_images, size):
    """The first ``num_images`` PNG/JPEG/PGM files of ``folder`` (sorted by name).

    Each is converted to grayscale [0, 1], centre-cropped to a square and resized
    to ``size`` x ``size``. Returns ``(images [N, size, size], note)``.
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist or is not a folder")
    files = sorted(path for path in folder.iterdir() if path.is_file())
    found = [path for path in files if path.suffix.lower() in IMAGE_SUFFIXES]
    if not found:
        raise UserError(f"image folder {folder} has no {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} files")
    chosen = found[:num_images]
    images = []
    for path in chosen:
        try:
            with Image.open(path) as image:
                image.load()
                array = _gray01(image)
        except (OSError, ValueError, UnidentifiedImageError) as err:
            raise UserError(f"cannot read image {path}: {_one_line(err)}")
        if min(array.shape) < 1:
            raise UserError(f"image {path} is empty")
        images.append(_square(array, size))
    note = f"first {len(chosen)} of {len(found)} images in {folder}"
    if len(files) > len(found):
        note += f" ({len(files) - len(found)} non-image file(s) ignored)"
    return np.stack(images), note


# ---------------------------------------------------------------- CLI


def _grid_text(grid):
    return np.array2string(np.asarray(grid), separator=",").replace("\n", "").replace(" ", "")


def format_ranking(grids, scores, order, top):
    """The ``top`` best candidates as an aligned text table."""
    rows = [(str(place + 1), _grid_text(grids[i]), f"{scores['tv'][i]:.4f}", f"{scores['psnr'][i]:.3f}",
             f"{scores['corr'][i]:.4f}") for place, i in enumerate(order[:top])]
    head = ("rank", "levels", "TV", "PSNR dB", "corr")
    widths = [max(len(row[col]) for row in rows + [head]) for col in range(len(head))]
    lines = []
    for row in [head] + rows:
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1])] + [row[c].rjust(widths[c]) for c in (2, 3, 4)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _positive(value, option):
    if value < 1:
        raise UserError(f"{option} must be at least 1, not {value}")
    return value


def run(args):
    shape = parse_shape(args.shape)
    levels = parse_levels(args.levels)
    for value, option in ((args.num_images, "--num-images"), (args.filters, "--filters"), (args.top, "--top"),
                          (args.image_size, "--image-size")):
        _positive(value, option)
    if args.image_size < 3:
        raise UserError("--image-size must be at least 3 (the conv is 3x3)")
    out = Path(args.out)
    if out.suffix.lower() != ".json":
        raise UserError(f"--out {out} must end in .json so that --kernel can load it")
    prepare_file(out)

    grids = candidate_grids(shape, levels)
    if args.images:
        images, source = folder_images(args.images, args.num_images, args.image_size)
    else:
        images = digits_images(args.num_images)
        source = f"{len(images)} digits images"
        if len(images) < args.num_images:
            source += f" (all there are; {args.num_images} requested)"
    n_cells = int(np.prod(shape))
    print(f"design-kernel: {len(grids)} candidate {_shape_text(shape)} grids over levels "
          f"{','.join(map(str, levels))} ({len(levels) ** n_cells} before merging cyclic shifts)")
    print(f"scored on {source} x {args.filters} random binary 3x3 filters (seed {args.seed}), "
          f"ranked by {args.rank_by}")

    scores = score_kernels(images, levels_to_values(grids), seed=args.seed, n_filters=args.filters, progress=True)
    order = rank(scores, args.rank_by)
    print(format_ranking(grids, scores, order, args.top))

    places = {int(i): place + 1 for place, i in enumerate(order)}
    for name, named in KERNEL_LEVELS.items():
        index = find_grid(grids, named) if set(np.ravel(named)) <= set(levels) else None
        if index is not None:
            print(f"named kernel {name} {_grid_text(named)}: rank {places[index]} of {len(grids)} "
                  f"(TV {scores['tv'][index]:.4f}, PSNR {scores['psnr'][index]:.3f} dB, "
                  f"corr {scores['corr'][index]:.4f})")

    best = int(order[0])
    values = np.round(levels_to_values(grids[best]).astype(np.float64), 6)
    best_scores = {key: float(scores[key][best]) for key in ("tv", "psnr", "corr")}
    design = {"shape": list(shape), "levels": levels, "images": source, "filters": args.filters,
              "seed": args.seed, "rank_by": args.rank_by, "candidates": int(len(grids))}
    with atomic_path(out) as tmp:
        save_kernel_file(tmp, values, levels=grids[best].tolist(), scores=best_scores, design=design)
    print(f"wrote {out}: levels {_grid_text(grids[best])}, values {_grid_text(values)}; "
          f"train with --kernel {out}")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "design-kernel",
        help="search DeSign threshold kernels by brute force and write the best as a kernel file",
        description=(
            "Enumerate every threshold kernel of a shape over a set of levels (merging cyclic shifts), "
            "score each by dithering images through random binary 3x3 convs + ReLU, print the ranking "
            "and write the best kernel as JSON for --kernel."
        ),
    )
    parser.add_argument("--shape", default="2x2", help="kernel shape KHxKW or FxKHxKW (default: 2x2; e.g. 3x3, 2x2x2)")
    parser.add_argument("--levels", default=DEFAULT_LEVELS,
                        help=f"comma-separated levels to search (default: {DEFAULT_LEVELS})")
    parser.add_argument("--images", metavar="FOLDER",
                        help="score on PNG/JPEG/PGM images in FOLDER instead of the bundled digits")
    parser.add_argument("--num-images", type=int, default=300, metavar="N", help="images to score on (default: 300)")
    parser.add_argument("--image-size", type=int, default=32, metavar="S",
                        help="FOLDER images are centre-cropped and resized to SxS (default: 32)")
    parser.add_argument("--filters", type=int, default=16, metavar="N",
                        help="random binary 3x3 filters (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random filters (default: 0)")
    parser.add_argument("--top", type=int, default=10, metavar="K", help="rows of the ranking to print (default: 10)")
    parser.add_argument("--rank-by", choices=RANK_KEYS, default="psnr",
                        help="psnr (ties by corr), corr (ties by psnr) or tv (lowest first) (default: psnr)")
    parser.add_argument("--out", required=True, metavar="FILE.json", help="where to write the best kernel")
    parser.set_defaults(func=run)
    return parser
