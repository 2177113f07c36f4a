"""DeSign threshold kernels: the published level map, named kernels, kernel files.

A kernel ``T`` is a float array ``[kh, kw]`` (2-D, the same for every channel)
or ``[F, kh, kw]`` (3-D, channel ``c`` uses slice ``c mod F``). DeSign tiles it
over a feature map as ``T[c mod F, h mod kh, w mod kw]``.
"""
import json
from pathlib import Path

import numpy as np

from models.errors import UserError

#: Monroy et al. (2024): a "level" is a possible non-negative output of a 3x3
#: binary conv after ReLU; each maps to the threshold value it was designed for.
LEVEL_VALUES = {0: 0.3118, 1: 0.6310, 3: 0.9671, 5: 1.3352, 7: 1.7656, 9: 2.3419}

#: Named kernels, as levels. ``design2x2`` is the paper's preferred kernel; the
#: other designed variants are picks from the same level grid (see docs/).
KERNEL_LEVELS = {
    "design2x2": [[1, 1], [3, 3]],
    "design2x2-diag": [[1, 3], [3, 1]],
    "design2x2-low": [[0, 1], [1, 3]],
    "design3x3": [[1, 3, 1], [3, 5, 3], [1, 3, 1]],
    "design3x3-ramp": [[0, 1, 3], [1, 3, 5], [3, 5, 7]],
    "design2x2x2": [[[1, 1], [3, 3]], [[3, 3], [1, 1]]],
    "design2x2x4": [[[1, 1], [3, 3]], [[3, 3], [1, 1]], [[1, 3], [3, 1]], [[3, 1], [1, 3]]],
}


def _bayer(n):
    """Bayer ordered-dither matrix of size n (a power of two), as ranks 0..n*n-1."""
    if n == 1:
        return np.zeros((1, 1), dtype=np.int64)
    half = _bayer(n // 2)
    return np.block([[4 * half, 4 * half + 2], [4 * half + 3, 4 * half + 1]])


def bayer_kernel(n):
    """Non-designed baseline: Bayer ranks spread evenly over (-1, 1), centred on zero."""
    ranks = _bayer(n)
    return ((ranks + 0.5) / (n * n) * 2.0 - 1.0).astype(np.float32)


#: Kernels given directly as values (not levels).
KERNEL_VALUES = {
    "zero": np.zeros((1, 1), dtype=np.float32),
    "bayer": bayer_kernel(2),
    "bayer4": bayer_kernel(4),
}

KERNEL_NAMES = sorted(list(KERNEL_LEVELS) + list(KERNEL_VALUES))


def levels_to_values(levels):
    """Map an array of levels to threshold values through ``LEVEL_VALUES``."""
    levels = np.asarray(levels)
    bad = sorted(set(levels.ravel().tolist()) - set(LEVEL_VALUES))
    if bad:
        raise UserError(f"kernel levels {bad} are not in the level set {sorted(LEVEL_VALUES)}")
    return np.vectorize(LEVEL_VALUES.get, otypes=[np.float32])(levels)


def validate_kernel(values, source="kernel"):
    """Check shape and finiteness; return the kernel as float32."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim not in (2, 3) or min(values.shape) < 1 or max(values.shape[-2:]) > 16:
        raise UserError(
            f"{source}: kernel shape {list(values.shape)} is not [kh, kw] or [F, kh, kw] "
            "with 1 <= kh, kw <= 16"
        )
    if not np.all(np.isfinite(values)):
        raise UserError(f"{source}: kernel has non-finite values (NaN or inf)")
    return values


def load_kernel_file(path):
    """Read a kernel from ``.json`` (``{"values": ...}`` or ``{"levels": ...}``) or ``.npy``."""
    path = Path(path)
    try:
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        else:
            doc = json.loads(path.read_text())
            values = doc["values"] if "values" in doc else levels_to_values(doc["levels"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"cannot read kernel file {path}: {err}; expected .npy or JSON with 'values' or 'levels'")
    return validate_kernel(values, source=str(path))


def get_kernel(name_or_path):
    """Kernel values by name (see ``KERNEL_NAMES``) or from a kernel file."""
    if name_or_path in KERNEL_LEVELS:
        return levels_to_values(KERNEL_LEVELS[name_or_path])
    if name_or_path in KERNEL_VALUES:
        return KERNEL_VALUES[name_or_path].copy()
    if Path(name_or_path).suffix in (".json", ".npy"):
        if not Path(name_or_path).is_file():
            raise UserError(f"kernel file {name_or_path} does not exist")
        return load_kernel_file(name_or_path)
    raise UserError(f"unknown kernel '{name_or_path}'; choose one of {', '.join(KERNEL_NAMES)} or a .json/.npy file")


#: where the tiled pattern starts: the top-left pixel (ReCU code) or centred on the map (TensorFlow code)
ORIGINS = ("corner", "centre")


def tile_offset(size, period, origin):
    """Phase of pixel 0 along one axis: 0 from the corner; ``(ceil(size/period)*period - size) // 2`` centred."""
    if origin not in ORIGINS:
        raise UserError(f"unknown dither origin '{origin}'; choose one of {', '.join(ORIGINS)}")
    return 0 if origin == "corner" else (-(-size // period) * period - size) // 2


def tile_kernel(values, channels, height, width, origin="corner"):
    """Tile a kernel over a ``[channels, height, width]`` map: ``T[c mod F, (h + oh) mod kh, (w + ow) mod kw]``.

    ``(oh, ow)`` is 0 from the corner; centred, the published TensorFlow code tiles whole periods over
    ``ceil(H/kh)*kh`` rows (and columns) and crops the middle, which shifts the pattern by ``tile_offset``.
    """
    kernel = values if values.ndim == 3 else values[None]
    f, kh, kw = kernel.shape
    c_idx = np.arange(channels) % f
    h_idx = (np.arange(height) + tile_offset(height, kh, origin)) % kh
    w_idx = (np.arange(width) + tile_offset(width, kw, origin)) % kw
    return kernel[c_idx[:, None, None], h_idx[None, :, None], w_idx[None, None, :]]


def save_kernel_file(path, values, **extra):
    """Write a kernel as JSON that ``get_kernel`` accepts."""
    doc = {"values": np.asarray(values).tolist(), **extra}
    Path(path).write_text(json.dumps(doc, indent=2) + "\n")


