"""The images a kernel search scores on when they come from a folder (``design-kernel --images``): read,
grayscale, centre-cropped and resized; apart from the command, which only chooses between them and the digits.
"""
from pathlib import Path

import numpy as np

from signflow.errors import UserError

#: image file types read from ``--images``
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pgm")


def _one_line(err):
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


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

    Each is converted to grayscale [0, 1] (ITU-R 601 luma, as MATLAB's ``rgb2gray``),
    centre-cropped to a square and resized to ``size`` x ``size``. Returns
    ``(images [N, size, size], note)``.
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist or is not a folder")
    try:
        files = sorted(path for path in folder.iterdir() if path.is_file())
    except OSError as err:
        raise UserError(f"cannot read image folder {folder}: {_one_line(err)}")
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
    note = f"first {len(chosen)} of {len(found)} images in {folder}, resized to {size}x{size}"
    if len(files) > len(found):
        note += f" ({len(files) - len(found)} non-image file(s) ignored)"
    return np.stack(images).astype(np.float64), note
