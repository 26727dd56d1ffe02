"""Atomic, non-clobbering file writes: a file is either complete or absent.

Every output sksep writes (audio stems, model files, checkpoints, reports) goes
through :func:`atomic_write`: the bytes go to a hidden temporary file beside the
target, which is flushed to disk and renamed onto the target with
:func:`os.replace`. An interrupt, a full disk or any exception removes the
temporary file and leaves an existing target untouched.
"""

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "check_writable"]


def check_writable(path, *, overwrite=False):
    """Refuse a directory, or an existing file unless ``overwrite``.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        ``path`` is a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory; expected a file path")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
    return path


def atomic_write(path, write, *, overwrite=False):
    """Write a file through ``write(temporary_path)`` and rename it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Target; missing parent folders are created.
    write : callable
        ``write(temporary_path)`` writes the complete file at the temporary path.
    overwrite : bool, default=False
        Replace an existing ``path``; otherwise that is a :class:`FileExistsError`.

    Returns
    -------
    path : pathlib.Path
    """
    path = check_writable(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _reserve_temporary(path)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        if path.exists() and not overwrite:  # created by someone else while we wrote
            raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)
    return path


def _reserve_temporary(path):
    """Create an empty, uniquely named hidden file beside ``path``.

    Opened with ``"xb"`` (O_EXCL) rather than :func:`tempfile.mkstemp` so that it gets the
    usual permissions (0666 minus the umask) and the final file is readable as any other.
    """
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with open(candidate, "xb"):
                return candidate
        except FileExistsError:
            continue


def _fsync_directory(folder):
    # Makes the rename itself durable on POSIX; directories cannot be opened on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
