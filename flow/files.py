"""Safe output files: confined to the chosen folder, written whole or not at all."""
import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

from signflow.errors import UserError


def check_writable(path):
    """Check that ``path`` is, or can be created as, a writable folder; create nothing."""
    path = Path(path)
    probe = path
    while not (probe.exists() or probe.is_symlink()) and probe != probe.parent:  # "b" ends at "."
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"cannot create output folder {path}: {probe} is a file, not a folder; choose another path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"output folder {path} is not writable ({probe} is read-only); choose a writable path")


def prepare_dir(path):
    """Create ``path`` (and parents) and check it is a writable folder."""
    path = Path(path)
    check_writable(path)  # names the file in the way, where mkdir's reason would be "File exists"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create output folder {path}: {err.strerror}; choose a writable path")
    return path


def prepare_file(path):
    """Check the parent folder of an output file is writable; create it when missing."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"output path {path} is a folder; give a file name")
    prepare_dir(path.parent if str(path.parent) else ".")
    return path


def same_file(a, b):
    """Whether paths ``a`` and ``b`` name one file (through links and ``..``; hard links when both exist)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def refuse_overwrite(path, inputs=(), force=False, what="output file", exists=None, hint="choose another path"):
    """Check that writing ``path`` loses no data; return it as a ``Path``.

    ``path`` must not be one of ``inputs`` (files the command reads; ``None`` entries are skipped), even with
    ``force``. An existing ``path`` (or, for a folder, ``exists`` when given: e.g. "holds a run") is refused
    unless ``force`` (``hint`` says what else to do). Each refusal is a one-line ``UserError`` naming the file
    and ``--force``.
    """
    path = Path(path)
    for item in inputs:
        if item is not None and same_file(path, item):
            raise UserError(f"{what} {path} is also an input of this command; it is never overwritten, "
                            "not even with --force: choose another path")
    if (path.exists() if exists is None else exists) and not force:
        raise UserError(f"{what} {path} already exists; give --force to replace it, or {hint}")
    return path


def refuse_foreign_folder(path, marker, option, keep=()):
    """Check that output folder ``path`` is new, empty, or an earlier output of the same command (it holds
    ``marker``, a file that command writes): the command replaces its own subfolders there, so it may not
    write into a folder of other files. Entries in ``keep`` (the command's inputs) do not count."""
    path = Path(path)
    if not path.is_dir() or (path / marker).exists():
        return path
    keep = {Path(k).resolve() for k in keep if k}
    others = sorted(entry.name for entry in path.iterdir() if entry.resolve() not in keep)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise UserError(f"{option} {path} holds other files ({shown}) and no earlier output of this command "
                        f"(no {marker}); choose a new or empty folder")
    return path


_UMASK_LOCK = threading.Lock()


def current_umask():
    """The process umask, read without changing it where Linux allows (``/proc/self/status``); elsewhere set
    and restored at once under a lock."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def inside(folder, name):
    """``folder / name``, refusing names that would escape ``folder``."""
    folder = Path(folder).resolve()
    target = (folder / name).resolve()
    if folder != target and folder not in target.parents:
        link = next((p for p in [folder / name, *(folder / name).parents] if p.is_symlink()), None)
        why = f" ({link} is a symbolic link to {target}; remove the link)" if link else ""
        raise UserError(f"'{name}' would write outside the output folder {folder}{why}")
    return target


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file 0600; give it the mode a plain open() would (0666 less the umask)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def file_sha256(path):
    """SHA-256 of a file's bytes, read in blocks (simulator binaries are large): the key of the build record
    and of the simulators' caches."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
