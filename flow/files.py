"""Safe output files: confined to the chosen folder, written whole or not at all."""
import contextlib
import os
import tempfile
from pathlib import Path

from signflow.errors import UserError


def prepare_dir(path):
    """Create ``path`` (and parents) and check it is a writable folder."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create output folder {path}: {err.strerror}; choose a writable path")
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise UserError(f"output folder {path} is not writable; choose a writable path")
    return path


def prepare_file(path):
    """Check the parent folder of an output file is writable; create it when missing."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"output path {path} is a folder; give a file name")
    prepare_dir(path.parent if str(path.parent) else ".")
    return path


def inside(folder, name):
    """``folder / name``, refusing names that would escape ``folder``."""
    folder = Path(folder).resolve()
    target = (folder / name).resolve()
    if folder != target and folder not in target.parents:
        raise UserError(f"'{name}' would write outside the output folder {folder}")
    return target


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
