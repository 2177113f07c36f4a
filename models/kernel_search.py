"""The published DeSign kernel search (bemc22/DeSign ``Custom_Dither/main_brayan.m``), vectorized.

A candidate is a grid ``T`` of integer levels (``models.kernels.LEVEL_VALUES``)
of shape ``(kh, kw)`` or ``(F, kh, kw)``. For every candidate, image and random
binary 3x3 filter:

    x   = +1 where image > 0.5, else -1          (grayscale image in [0, 1])
    z   = ReLU(conv2(x, filter, 'valid'))        integers 0, 1, 3, 5, 7, 9
    b   = 1 where z - tile(T) >= 0, else 0       (the integer levels, not their values)
    out = (b * tile(T) / 9) * 0.99 + 0.01
    ref = z / 9

and the metrics of ``out`` against ``ref`` (``models.kernel_metrics``: PSNR,
MSE, correlation, total variation, CSF-weighted PSNR) are computed per map,
then averaged over images and filters. ``tile`` is ``models.kernels.tile_kernel``
from the corner (the published code tiles with ``repmat``); filter ``k`` plays
channel ``k``, so a 3-D candidate's slice ``k mod F`` dithers it.

Scoring map by map costs candidates x images x filters x pixels. Instead, the
pixels of a map are split by *phase* ``p = (h mod kh) * kw + (w mod kw)``: a
pixel's output depends only on its own ``z`` and on the one level ``T[p]``, so
every per-map sum the metrics need (of ``out``, ``out^2``, ``out * ref``) is a
sum over phases of a per-(phase, level) sum, tabulated once for every level
(``_Tables``); a candidate's score then costs one table look-up per phase. The
CSF filter of the weighted PSNR mixes phases, so its squared error is a
quadratic form in the filtered per-(phase, level) maps (a Gram table, P^2
look-ups); the total variation at a pixel depends on the levels at it, at its
right and at its lower neighbour (a table over level triples).
``reconstruct`` builds ``out`` and ``ref`` directly, for pictures and for the
tests that check the tables against it.
"""
import itertools
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from signflow.errors import UserError
from signflow.models.kernel_metrics import correlation, csf_weight, psnr_from_mse
from signflow.models.kernels import LEVEL_VALUES, tile_kernel

#: the metrics of a candidate, in the order the ranking lists them
METRICS = ("psnr", "mse", "corr", "tv", "wpsnr")
#: metrics where a lower value ranks first
LOWER_IS_BETTER = ("mse", "tv")
#: refuse searches with more candidates than this
MAX_CANDIDATES = 200_000
#: MATLAB's ``rng(0)`` seeds its Mersenne Twister with 5489 (any other seed ``s`` with ``s``)
MATLAB_SEED_ZERO = 5489
#: table and look-up blocks hold at most this many float64 numbers at once (about 100 MB)
_BLOCK = 12_000_000
#: filters scored together; the tables grow with images x filters, so many filters go in blocks of this many
_FILTER_BLOCK = 32
#: ``--filters all``: every binary 3x3 filter once
ALL_FILTERS = "all"


# ---------------------------------------------------------------- candidates


def _check_shape(shape):
    shape = tuple(int(size) for size in shape)
    if len(shape) not in (2, 3) or min(shape) < 1 or max(shape) > 16:
        raise UserError(f"kernel shape {list(shape)} is not (kh, kw) or (F, kh, kw) with sizes 1..16")
    return shape


def _check_levels(levels):
    levels = sorted({int(level) for level in levels})
    if not levels:
        raise UserError("no levels to search; give at least one level")
    unknown = [level for level in levels if level not in LEVEL_VALUES]
    if unknown:
        raise UserError(f"unknown level(s) {unknown}; choose from {','.join(map(str, sorted(LEVEL_VALUES)))}")
    return levels


def _shifts(shape):
    """Every cyclic shift of a grid of ``shape``, as ``np.roll`` amounts over its axes."""
    return itertools.product(*(range(size) for size in shape))


def count_candidates(shape, levels):
    """How many grids of ``shape`` over ``levels`` there are (before merging shifts)."""
    return len(levels) ** int(np.prod(shape))


def candidate_grids(shape, levels, merge_shifts=False):
    """Every level grid of ``shape``, in lexicographic order (first cell most significant).

    With ``merge_shifts``, grids equal up to a cyclic shift (and, for 3-D grids, a cyclic
    shift of the ``F`` slices, which only relabels channels) are one candidate, its
    lexicographically smallest member: tiling makes them one pattern seen from another
    origin. The published search does not merge them. Returns int64 ``[M, *shape]``.
    """
    shape = _check_shape(shape)
    levels = _check_levels(levels)
    n_cells = int(np.prod(shape))
    base = len(levels)
    total = count_candidates(shape, levels)
    if total > MAX_CANDIDATES:
        raise UserError(
            f"a {'x'.join(map(str, shape))} search over {base} levels has {base}^{n_cells} = {total:,} candidates, "
            f"above the limit of {MAX_CANDIDATES:,}; use a smaller --shape or fewer --levels"
        )
    index = np.indices((base,) * n_cells).reshape(n_cells, -1).T
    grids = index.reshape(-1, *shape)
    if merge_shifts and base > 1:
        weights = base ** np.arange(n_cells - 1, -1, -1, dtype=np.int64)
        own = index @ weights
        smallest = own.copy()
        axes = tuple(range(1, len(shape) + 1))
        for shift in _shifts(shape):
            if any(shift):
                rolled = np.roll(grids, shift, axis=axes).reshape(total, n_cells)
                np.minimum(smallest, rolled @ weights, out=smallest)
        grids = grids[own == smallest]
    return np.asarray(levels, dtype=np.int64)[grids]


def find_grid(grids, grid, up_to_shift=False):
    """Index in ``grids`` of ``grid`` (or of a cyclic shift of it), or ``None``."""
    grid = np.asarray(grid)
    if grid.shape != grids.shape[1:]:
        return None
    axes = tuple(range(grid.ndim))
    shifts = _shifts(grid.shape) if up_to_shift else [(0,) * grid.ndim]
    for shift in shifts:
        hits = np.flatnonzero(np.all(grids == np.roll(grid, shift, axis=axes), axis=tuple(a + 1 for a in axes)))
        if hits.size:
            return int(hits[0])
    return None


def is_constant(grids):
    """Per grid of ``[M, ...]``: are all its levels equal (no dither)?"""
    flat = np.asarray(grids).reshape(len(grids), -1)
    return np.all(flat == flat[:, :1], axis=1)


# ---------------------------------------------------------------- the simulated binary conv


def random_filters(count, seed):
    """``count`` 3x3 filters of -1/+1: MATLAB's ``2*round(rand(3,3)) - 1``, one call per filter, after ``rng(seed)``.

    numpy's legacy ``RandomState`` is MATLAB's default generator (Mersenne Twister,
    53-bit doubles) and MATLAB fills matrices column by column, so filter 0 of seed 6
    is the filter of the published search (``rng(6)``). Returns float64 ``[count, 3, 3]``
    as MATLAB holds it (``conv2`` flips it; see ``binary_conv``).
    """
    if count < 1:
        raise UserError(f"the number of random filters must be at least 1, not {count}")
    if not 0 <= seed < 2**32:
        raise UserError(f"--seed must be between 0 and 2^32 - 1, not {seed}")
    draws = np.random.RandomState(MATLAB_SEED_ZERO if seed == 0 else seed).random_sample((count, 3, 3))
    return np.where(draws >= 0.5, 1.0, -1.0).transpose(0, 2, 1)  # [k, column, row] -> [k, row, column]


def every_filter():
    """All 512 3x3 filters of -1/+1, each once, in a fixed order: float64 ``[512, 3, 3]``.

    The mean over them is the exact expectation that ``random_filters`` estimates (each of its
    draws is one of these, uniformly), so a search over every filter has no seed and no noise.
    """
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=9)))
    return signs.reshape(512, 3, 3)


def binary_conv(images, filters):
    """``ReLU(conv2(x, filter, 'valid'))`` of every image binarized at 0.5 and every filter.

    ``images`` ``[N, H, W]`` in [0, 1]; ``filters`` ``[K, 3, 3]``. Returns float64
    ``[N, K, H-2, W-2]``, integers 0..9. ``conv2`` convolves (flips the filter);
    torch correlates, so the filter is flipped here.
    """
    x = (torch.as_tensor(images, dtype=torch.float64) > 0.5).double()[:, None] * 2 - 1
    weight = torch.as_tensor(np.ascontiguousarray(np.asarray(filters)[:, None, ::-1, ::-1]), dtype=torch.float64)
    return torch.relu(F.conv2d(x, weight))


def reconstruct(z, grid):
    """``(out, ref)`` of the published search for conv maps ``z`` ``[N, K, h, w]`` and a level grid.

    Filter ``k`` is channel ``k``: a 3-D grid's slice ``k mod F`` dithers it.
    """
    z = torch.as_tensor(z, dtype=torch.float64)
    tiled = torch.from_numpy(tile_kernel(np.asarray(grid, dtype=np.float64), *z.shape[1:]))
    binary = (z - tiled >= 0).double()
    return (binary * tiled / 9) * 0.99 + 0.01, z / 9


def digits_images(num_images):
    """The first ``num_images`` bundled digits (train split), grayscale ``[N, 8, 8]`` in [0, 1], as they are.

    Not upscaled: an upscaled digit only repeats pixels (the 3x3 filters then mostly see flat
    blocks), and the bundled 8x8 is what the search's reference measurements used.
    """
    from signflow.models.data import load_dataset

    images, _ = load_dataset("digits", "train")
    return (images[:num_images, 0].astype(np.float64) + 1.0) / 2.0


# ---------------------------------------------------------------- scoring through phase tables


@dataclass
class _Tables:
    """Per image n, filter k, phase p and level index l (float64 sums over the pixels of phase p)."""

    #: [N, K, P, L, 3]: sum of out, of out^2, of out * ref
    sums: torch.Tensor
    #: [N, K]: sum of ref, of ref^2
    s_ref: torch.Tensor
    s_ref2: torch.Tensor
    #: [N, K, P*L, P*L]: inner products of the CSF-filtered per-(phase, level) maps; [N, K, P*L]: with filtered ref
    gram: torch.Tensor
    g_ref: torch.Tensor
    #: [N, K]: squared norm of the filtered ref
    g_ref2: torch.Tensor
    #: [N, K, P, L, L, L]: sum of sqrt(dx^2 + dy^2) over phase p's pixels, by the levels at the pixel, right, below
    tv: torch.Tensor


def _phase_map(height, width, kh, kw):
    """``[h, w]`` phase ``(h mod kh) * kw + (w mod kw)`` of each pixel (tiling from the corner)."""
    return (np.arange(height)[:, None] % kh) * kw + np.arange(width)[None, :] % kw


def _tables(z, levels, kh, kw):
    """The tables of ``_Tables`` for conv maps ``z`` ``[N, K, h, w]``."""
    n_img, n_filt, height, width = z.shape
    n_phase, n_level = kh * kw, len(levels)
    phase = torch.from_numpy(_phase_map(height, width, kh, kw))
    masks = F.one_hot(phase, n_phase).permute(2, 0, 1).double()  # [P, h, w]
    lev = torch.tensor(levels, dtype=torch.float64)[:, None, None, None, None]
    ref = z / 9
    out = ((z[None] >= lev).double() * lev / 9) * 0.99 + 0.01  # [L, N, K, h, w]: every pixel at every level
    sums = torch.einsum("lnkhw,phw->nkpl", torch.stack([out, out**2, out * ref]).flatten(0, 1), masks)
    # the weighted PSNR: filtered per-(phase, level) maps
    basis = torch.einsum("lnkhw,phw->nkplhw", out, masks).reshape(n_img, n_filt, n_phase * n_level, height, width)
    basis = csf_weight(basis).flatten(-2)  # [N, K, P*L, h*w]
    ref_w = csf_weight(ref).flatten(-2)
    gram = basis @ basis.transpose(-1, -2)
    g_ref = (basis @ ref_w[..., None])[..., 0]
    # total variation over the (h-1) x (w-1) pixels with a right and a lower neighbour
    tv = torch.zeros(n_img, n_filt, n_phase, n_level, n_level, n_level, dtype=torch.float64)
    inner = phase[:-1, :-1]
    for p in range(n_phase):
        ys, xs = torch.nonzero(inner == p, as_tuple=True)
        if ys.numel() == 0:
            continue
        here, right, below = out[..., ys, xs], out[..., ys, xs + 1], out[..., ys + 1, xs]  # [L, N, K, n_p]
        dx = right[None, :, None] - here[:, None, None]
        dy = below[None, None, :] - here[:, None, None]
        tv[:, :, p] = (dx**2 + dy**2).sqrt().sum(-1).permute(3, 4, 0, 1, 2)
    sums = sums.unflatten(-1, (3, n_level)).transpose(-1, -2).contiguous()  # [N, K, P, L, 3]
    return _Tables(sums, ref.sum((-2, -1)), (ref**2).sum((-2, -1)), gram, g_ref,
                   (ref_w**2).sum(-1), tv)


def _concat(parts):
    return _Tables(*(torch.cat([getattr(part, name) for part in parts]) for name in _Tables.__dataclass_fields__))


def _neighbour_phases(kh, kw):
    """Phase of the right and of the lower neighbour of a pixel of each phase."""
    rows, cols = np.divmod(np.arange(kh * kw), kw)
    return torch.from_numpy(rows * kw + (cols + 1) % kw), torch.from_numpy(((rows + 1) % kh) * kw + cols)


def _score_block(tables, index, pixels, inner_pixels, right, below):
    """Metrics ``[M]`` of the candidates whose per-filter level indices are ``index`` ``[M, K, P]``."""
    n_img, n_filt, n_phase, n_level, _ = tables.sums.shape
    n_cand = len(index)
    k = torch.arange(n_filt)[None, :, None]
    p = torch.arange(n_phase)[None, None, :]

    def pick(table, flat, width=1):  # [N, K, ..., width] at flat indices [M, K, C] -> [N, M, K, C, width]
        picked = table.reshape(n_img, -1, width).index_select(1, flat.reshape(-1))
        return picked.reshape(n_img, n_cand, n_filt, flat.shape[-1], width)

    phase_level = (k * n_phase + p) * n_level + index  # [M, K, P] into [K, P, L]
    s_out, s_out2, s_cross = pick(tables.sums, phase_level, 3).sum(3).unbind(-1)  # [N, M, K] each
    s_ref, s_ref2 = tables.s_ref[:, None], tables.s_ref2[:, None]
    mse = (s_ref2 - 2 * s_cross + s_out2).clamp(min=0) / pixels
    corr = correlation(s_out / pixels, s_ref / pixels, s_out2 / pixels, s_ref2 / pixels, s_cross / pixels)
    # weighted error: ||csf(ref) - sum_p csf(basis_p)||^2; the Gram table is symmetric, so pairs p <= q, off-diagonal twice
    size = n_phase * n_level
    basis = p * n_level + index  # [M, K, P] into the P*L axis of the Gram table
    first, second = torch.triu_indices(n_phase, n_phase)
    twice = (2.0 - (first == second).double())[:, None]
    pairs = (k * size + basis[..., first]) * size + basis[..., second]  # [M, K, P(P+1)/2] into [K, P*L, P*L]
    quad = (pick(tables.gram, pairs) * twice).sum((3, 4))
    lin = pick(tables.g_ref, k * size + basis).sum((3, 4))
    w_mse = (tables.g_ref2[:, None] - 2 * lin + quad).clamp(min=0) / pixels
    triples = (phase_level * n_level + index[..., right]) * n_level + index[..., below]  # into [K, P, L, L, L]
    tv = pick(tables.tv, triples).sum((3, 4)) / inner_pixels
    per_map = {"psnr": psnr_from_mse(mse), "mse": mse, "corr": corr, "tv": tv, "wpsnr": psnr_from_mse(w_mse)}
    return {key: value.mean(dim=(0, 2)).numpy() for key, value in per_map.items()}


def score_candidates(images, grids, filters, progress=False):
    """The published metrics of every level grid, averaged over images and filters.

    ``images`` ``[N, H, W]`` in [0, 1] with H, W >= 4; ``grids`` int ``[M, kh, kw]`` or
    ``[M, F, kh, kw]`` of levels; ``filters`` ``[K, 3, 3]`` (``random_filters`` or
    ``every_filter``), with ``K >= F``. Returns ``{metric: float64 [M]}`` for ``METRICS``.
    The metrics are means over filters, so the filters are scored in blocks (a multiple of
    F each, so that filter k keeps slice k mod F) and the block means weighted by size.
    """
    from tqdm import tqdm

    grids = np.asarray(grids, dtype=np.int64)
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or len(images) < 1 or min(images.shape[1:]) < 4:
        raise UserError(f"images must be [N, H, W] with N >= 1 and H, W >= 4, not {list(images.shape)}")
    if grids.ndim not in (3, 4) or len(grids) < 1:
        raise UserError(f"candidate grids must be [M, kh, kw] or [M, F, kh, kw], not {list(grids.shape)}")
    grids3 = grids if grids.ndim == 4 else grids[:, None]
    n_slices, kh, kw = grids3.shape[1:]
    if len(filters) < n_slices:
        raise UserError(f"a kernel of {n_slices} slices needs at least {n_slices} filters (one channel each), "
                        f"not {len(filters)}; raise --filters")
    levels = _check_levels(np.unique(grids))
    index = np.searchsorted(levels, grids3).reshape(len(grids3), n_slices, kh * kw)
    index = torch.from_numpy(index[:, np.arange(len(filters)) % n_slices])  # [M, K, P]: filter k uses slice k mod F

    block = n_slices * max(1, _FILTER_BLOCK // n_slices)
    starts = range(0, len(filters), block)
    bar = tqdm(total=len(starts) * (len(images) + len(grids)), desc="kernel search", unit="item", file=sys.stderr,
               disable=not progress, leave=False)
    scores = {key: np.zeros(len(grids)) for key in METRICS}
    with torch.no_grad():
        for start in starts:
            part = _score_filter_block(images, index[:, start:start + block], filters[start:start + block],
                                       levels, kh, kw, bar)
            for key in METRICS:
                scores[key] += part[key] * (len(filters[start:start + block]) / len(filters))
    bar.close()
    return scores


def _score_filter_block(images, index, filters, levels, kh, kw, bar):
    """``score_candidates`` for one block of filters; ``index`` ``[M, K, P]`` holds the level indices."""
    n_phase, n_level = kh * kw, len(levels)
    height, width = images.shape[1] - 2, images.shape[2] - 2
    per_image = len(filters) * max(n_level**3 * height * width, (n_phase * n_level) ** 2 + n_phase * n_level * height * width)
    step = max(1, _BLOCK // per_image)
    parts = []
    for start in range(0, len(images), step):
        z = binary_conv(images[start:start + step], filters)
        parts.append(_tables(z, levels, kh, kw))
        bar.update(len(z))
    tables = _concat(parts)
    right, below = _neighbour_phases(kh, kw)
    chunk = max(1, _BLOCK // (len(images) * len(filters) * n_phase * n_phase))
    scores = {key: np.zeros(len(index)) for key in METRICS}
    for start in range(0, len(index), chunk):
        part = _score_block(tables, index[start:start + chunk], height * width, (height - 1) * (width - 1),
                            right, below)
        for key in METRICS:
            scores[key][start:start + chunk] = part[key]
        bar.update(len(part["psnr"]))
    return scores


# ---------------------------------------------------------------- ranking


def rank(scores, rank_by="psnr"):
    """Candidate indices, best first by ``rank_by`` (lower first for ``LOWER_IS_BETTER``).

    Ties (after rounding to 10 decimals, so that float noise does not decide) keep the
    enumeration order of the candidates.
    """
    if rank_by not in METRICS:
        raise UserError(f"unknown --rank-by '{rank_by}'; choose one of {', '.join(METRICS)}")
    key = np.round(np.asarray(scores[rank_by], dtype=np.float64), 10)
    return np.argsort(key if rank_by in LOWER_IS_BETTER else -key, kind="stable")


def best_dither(order, grids):
    """The first candidate of ``order`` that is not constant (a constant kernel is no dither), or ``None``."""
    constant = is_constant(grids)
    for index in order:
        if not constant[index]:
            return int(index)
    return None
