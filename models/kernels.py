"""DeSign threshold kernels: the published level map, the published kernels, baselines, kernel files.

A kernel ``T`` is a float array ``[kh, kw]`` (2-D, the same for every channel)
or ``[F, kh, kw]`` (3-D, channel ``c`` uses slice ``c mod F``). DeSign tiles it
over a feature map as ``T[c mod F, h mod kh, w mod kw]``.

The published kernels (bemc22/DeSign ``BNN/thresholds/*.mat``) ship in
``published_design_kernels.json`` beside this file, in the published layout:
``values[h][w]``, or ``values[h][w][f]`` for 3-D kernels (TensorFlow's H, W, F
order); ``from_published_layout`` turns them into signflow's arrays.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signflow.errors import UserError

#: Monroy et al. (2024): a "level" is a possible non-negative output of a 3x3
#: binary conv after ReLU; each maps to the threshold value it was designed for.
LEVEL_VALUES = {0: 0.3118, 1: 0.6310, 3: 0.9671, 5: 1.3352, 7: 1.7656, 9: 2.3419}

#: the published kernels with their values and levels, copied from bemc22/DeSign
PUBLISHED_FILE = Path(__file__).with_name("published_design_kernels.json")
#: the paper's preferred kernel, levels ``[[1, 1], [3, 3]]``
PREFERRED_KERNEL = "threshold_2x2_v2"
#: the kernel the published demos and the ReCU ``Threshold2D`` layer default to, levels ``[[1, 1], [0, 3]]``
DEMO_KERNEL = "threshold_2x2_v1"
#: the kernel the published ReCU ``Threshold3D`` layer defaults to
RECU_3D_KERNEL = "threshold_2x2x4_shifting_n1_right_v1"
#: what each notable published kernel is (``signflow design-kernel --list`` shows it)
KERNEL_NOTES = {
    PREFERRED_KERNEL: "the paper's preferred kernel (alias design2x2)",
    DEMO_KERNEL: "default of the published demos and ReCU Threshold2D",
    RECU_3D_KERNEL: "default of the published ReCU Threshold3D",
}
#: other names of published kernels: ``design2x2`` is signflow's first name for the preferred one
KERNEL_ALIASES = {"design2x2": PREFERRED_KERNEL}


@dataclass(frozen=True)
class PublishedKernel:
    """One published kernel, in signflow's layout."""

    #: the published name (the .mat file's stem)
    name: str
    #: float32 ``[kh, kw]`` or ``[F, kh, kw]``
    values: np.ndarray
    #: int64 levels in the same layout, or ``None`` where the values are not levels (``baseline2x2``)
    levels: np.ndarray
    #: the published shape: ``(kh, kw)`` or ``(kh, kw, F)``
    shape: tuple


def from_published_layout(array):
    """Published ``[h][w]`` or ``[h][w][f]`` -> signflow's ``[kh, kw]`` or ``[F, kh, kw]``."""
    array = np.asarray(array)
    return array.transpose(2, 0, 1) if array.ndim == 3 else array


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


#: Non-published kernels, given as values: baselines to compare the designed ones with.
KERNEL_VALUES = {
    "zero": np.zeros((1, 1), dtype=np.float32),
    "bayer": bayer_kernel(2),
    "bayer4": bayer_kernel(4),
}


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


def load_published(path=PUBLISHED_FILE):
    """The published kernels of ``path``, by name, converted to signflow's layout."""
    doc = json.loads(Path(path).read_text())
    kernels = {}
    for name, entry in doc["kernels"].items():
        values = validate_kernel(from_published_layout(entry["values"]), source=f"published kernel {name}")
        levels = entry.get("levels")
        levels = None if levels is None else from_published_layout(levels).astype(np.int64)
        kernels[name] = PublishedKernel(name, values, levels, tuple(entry["shape"]))
    return kernels


#: the published kernels, by their published names
PUBLISHED_KERNELS = load_published()

KERNEL_NAMES = sorted(list(PUBLISHED_KERNELS) + list(KERNEL_ALIASES) + list(KERNEL_VALUES))


def kernel_numbers(data, source, what):
    """``data`` as a float64 array, or one line saying why it is not a rectangular array of numbers."""
    if isinstance(data, (str, bytes, dict)) or data is None:
        raise UserError(f"{source}: {what} must be a 2-D or 3-D list of numbers, not a {type(data).__name__}")
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"{source}: {what} must be a 2-D or 3-D list of numbers with rows of equal length")
    return array


def _npy_numbers(path):
    data = np.load(path, allow_pickle=False)
    if not isinstance(data, np.ndarray):  # an .npz archive, whatever the file is called
        data.close()
        raise UserError(f"kernel file {path} is an .npz archive, not an .npy array; save one array with numpy.save")
    return kernel_numbers(data, str(path), "the array")


def load_kernel_file(path):
    """Read a kernel from ``.json`` (``{"values": ...}`` or ``{"levels": ...}``) or ``.npy``."""
    path = Path(path)
    expected = "expected .npy or JSON with 'values' or 'levels'"
    try:
        if path.suffix == ".npy":
            values = _npy_numbers(path)
        else:
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict) or not ({"values", "levels"} & set(doc)):
                raise UserError(f"kernel file {path} holds no 'values' or 'levels' entry; {expected}")
            key = "values" if "values" in doc else "levels"
            values = kernel_numbers(doc[key], str(path), f"'{key}'")
            if key == "levels":
                values = levels_to_values(values.astype(np.int64) if np.all(values == np.round(values)) else values)
    except (OSError, ValueError) as err:  # unreadable, not JSON, not an .npy (e.g. an .npz renamed)
        raise UserError(f"cannot read kernel file {path}: {err}; {expected}")
    return validate_kernel(values, source=str(path))


def get_kernel(name_or_path):
    """Kernel values by name (see ``KERNEL_NAMES``) or from a kernel file."""
    name = KERNEL_ALIASES.get(name_or_path, name_or_path)
    if name in PUBLISHED_KERNELS:
        return PUBLISHED_KERNELS[name].values.copy()
    if name in KERNEL_VALUES:
        return KERNEL_VALUES[name].copy()
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


