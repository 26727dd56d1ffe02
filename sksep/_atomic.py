"""Atomic, non-clobbering file writes: a file is either complete or absent.

Every output sksep writes (audio stems, model files, checkpoints, reports) goes
through :func:`atomic_write`: the bytes go to a hidden temporary file beside the
target (``.<name>.<12 hex digits>.tmp``), which is flushed to disk and renamed
onto the target with :func:`os.replace`. An interrupt, a full disk or any
exception removes the temporary file and leaves an existing target untouched;
only a process killed outright (SIGKILL, power loss) can leave one behind, and
:func:`remove_stale_temporaries` clears those on the next run.
"""

import contextlib
import errno
import os
import secrets
from pathlib import Path

from .exceptions import DiskFullError, OutputLocationError

__all__ = ["atomic_write", "check_folder", "check_writable", "disk_full_named",
           "remove_stale_temporaries", "reserve_temporary"]

#: Random bytes in a temporary file's name (written as twice as many hex digits).
_TOKEN_BYTES = 6

#: errno values meaning the file system has no room left (a full disk, an exhausted quota).
_NO_SPACE = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def check_writable(path, *, overwrite=False):
    """Refuse, before anything is written, a target that cannot be written.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    overwrite : bool, default=False
        Whether an existing file at ``path`` may be replaced.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        ``path`` is a directory.
    sksep.exceptions.OutputLocationError
        A file stands where one of ``path``'s folders must go, or the folder
        that would hold it (its nearest existing ancestor) is read-only.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory; expected a file path")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
    check_folder(_nearest_existing(path.parent), target=path)
    return path


def check_folder(folder, *, name=None, target=None):
    """Refuse an existing ``folder`` that is a file or that cannot be written.

    Parameters
    ----------
    folder : pathlib.Path
        An existing path that must be a writable folder.
    name : str, optional
        How the folder is named in messages (``"--out"``); by default its path alone.
    target : path, optional
        The file the folder must hold, named in messages.

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    sksep.exceptions.OutputLocationError
        ``folder`` is a file, or is read-only for this process (permissions or a
        read-only file system; as root only the latter).
    """
    subject = f"{name} {str(folder)!r}" if name else repr(str(folder))
    purpose = f" to hold {str(target)!r}" if target is not None else ""
    if not folder.is_dir():
        raise OutputLocationError(f"{subject} is a file; expected a folder{purpose}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _read_only(subject, purpose)
    return folder


def _read_only(subject, purpose):
    """The error for a folder this process cannot write to."""
    return OutputLocationError(f"{subject} is read-only; expected a writable folder{purpose}")


def _nearest_existing(folder):
    """``folder`` itself or its nearest ancestor that exists, as a file or a folder."""
    return next((candidate for candidate in (folder, *folder.parents) if candidate.exists()),
                folder)


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

    Raises
    ------
    FileExistsError, IsADirectoryError, sksep.exceptions.OutputLocationError
        As :func:`check_writable`, before anything is written.
    sksep.exceptions.DiskFullError
        The disk (or the quota) filled up; ``path`` was not written.
    """
    path = check_writable(path, overwrite=overwrite)
    with disk_full_named(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_through_temporary(path, write, overwrite)
    _fsync_directory(path.parent)
    return path


@contextlib.contextmanager
def disk_full_named(path):
    """Turn an ``OSError`` meaning "no space left" (a full disk, an exhausted quota)
    inside the block into a :class:`~sksep.exceptions.DiskFullError` naming ``path``,
    the file that was not written; other errors pass unchanged."""
    path = Path(path)
    try:
        yield
    except OSError as error:
        if error.errno not in _NO_SPACE:
            raise
        raise DiskFullError(
            f"the disk is full: {str(path)!r} was not written (no space left in "
            f"{str(path.parent)!r}; free some space and run again)") from error


def _write_through_temporary(path, write, overwrite):
    """Write a hidden temporary beside ``path``, flush it and rename it onto ``path``."""
    temporary = reserve_temporary(path)
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


def _temporary_name(name, token):
    """The hidden temporary file name for the target ``name``: ``.<name>.<token>.tmp``."""
    return f".{name}.{token}.tmp"


def _is_temporary_of(candidate, name):
    """Whether the file name ``candidate`` is one of our temporaries for the target ``name``."""
    token = candidate[len(name) + 2:-len(".tmp")]  # between ".<name>." and ".tmp"
    return (candidate == _temporary_name(name, token) and len(token) == 2 * _TOKEN_BYTES
            and set(token) <= set("0123456789abcdef"))


def reserve_temporary(path):
    """Create an empty, uniquely named hidden file beside ``path``.

    Opened with ``"xb"`` (O_EXCL) rather than :func:`tempfile.mkstemp` so that it gets the
    usual permissions (0666 minus the umask) and the final file is readable as any other.
    """
    while True:
        candidate = path.with_name(_temporary_name(path.name, secrets.token_hex(_TOKEN_BYTES)))
        try:
            with open(candidate, "xb"):
                return candidate
        except FileExistsError:
            continue
        except PermissionError as error:  # e.g. permissions that os.access did not see (NFS)
            raise _read_only(repr(str(path.parent)), f" to hold {str(path)!r}") from error


def remove_stale_temporaries(path):
    """Remove the temporary files that interrupted writes of ``path`` left beside it.

    Only hidden files named as :func:`atomic_write` names its temporaries for this
    very target (``.<name>.<12 hex digits>.tmp``) are removed. A write still in
    progress in another process would lose its temporary file, so call this only
    where no other writer of ``path`` runs (the command line, before it writes).

    Parameters
    ----------
    path : str or os.PathLike
        The target whose stale temporaries are removed.

    Returns
    -------
    removed : list of pathlib.Path
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = [entry for entry in path.parent.iterdir()
             if _is_temporary_of(entry.name, path.name) and entry.is_file()]
    for entry in stale:
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
    return stale


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
