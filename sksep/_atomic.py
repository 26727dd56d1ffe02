"""Atomic, non-clobbering file writes: a file is either complete or absent.

Every output sksep writes (audio stems, model files, checkpoints, reports) goes
through :func:`atomic_write`: the bytes go to a hidden temporary file beside the
target (``.<name>.<process id>-<12 hex digits>.tmp``), which is flushed to disk and
renamed onto the target with :func:`os.replace`. An interrupt, a full disk or any
exception removes the temporary file, and the folders the write created if they are
left empty, and leaves an existing target untouched; only a process killed outright
(SIGKILL, power loss) can leave a temporary file behind, and
:func:`remove_stale_temporaries` clears those on the next run (never those of a
process still running).

Only a regular file is ever replaced (:func:`check_writable`): a device, a pipe, a
socket or a folder at a target is refused, even with ``overwrite=True``, as are
names and paths longer than the file system allows.
"""

import contextlib
import errno
import os
import re
import secrets
import stat
from pathlib import Path

from .exceptions import DiskFullError, OutputLocationError

__all__ = ["atomic_write", "check_folder", "check_path_length", "check_writable",
           "disk_full_named", "file_kind", "make_folders", "remove_empty_folders",
           "remove_stale_temporaries", "reserve_temporary"]

#: Random bytes in a temporary file's name (written as twice as many hex digits).
_TOKEN_BYTES = 6

#: Longest file name and path, in bytes, where the file system does not say
#: (``os.pathconf``): Linux's ``NAME_MAX`` and ``PATH_MAX`` (the latter counting the
#: terminating NUL).
_NAME_MAX, _PATH_MAX = 255, 4096

#: Characters a process id takes in a temporary file's name, at most (``/proc/sys/kernel/
#: pid_max`` is at most 2**22 on Linux; other systems stay below 2**31).
_PID_DIGITS = 10

#: What :func:`file_kind` calls each kind of file.
_KINDS = ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a directory"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))

#: errno values meaning the file system has no room left (a full disk, an exhausted quota).
_NO_SPACE = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def check_writable(path, *, overwrite=False):
    """Refuse, before anything is written, a target that cannot be written.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    overwrite : bool, default=False
        Whether an existing regular file at ``path`` may be replaced (nothing else
        ever is).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileExistsError
        ``path`` is a regular file (or a link to one) and ``overwrite`` is False.
    sksep.exceptions.OutputLocationError
        Something other than a regular file stands at ``path``: a directory (also an
        :class:`IsADirectoryError`), a device, a pipe, a socket, a link to one of
        those or a broken link, which are never replaced, even with ``overwrite``; or
        a name or the path is longer than the file system allows
        (:func:`check_path_length`); or a file stands where one of ``path``'s folders
        must go, or the folder that would hold it (its nearest existing ancestor) is
        read-only.
    """
    path = check_path_length(path)
    _check_replaceable(path, overwrite)
    check_folder(_nearest_existing(path.parent), target=path)
    return path


class _DirectoryInTheWay(OutputLocationError, IsADirectoryError):
    """A directory stands where a file must be written."""


def _check_replaceable(path, overwrite):
    """Refuse what stands at ``path`` unless it is nothing or, with ``overwrite``, a
    regular file (or a link to one: the link is replaced, its file left as it is)."""
    kind = file_kind(path)
    if kind is None:
        return
    if kind in ("a file", "a link to a file"):
        if not overwrite:
            raise FileExistsError(
                f"{str(path)!r} already exists; pass overwrite=True to replace it")
        return
    if kind == "a directory":
        raise _DirectoryInTheWay(f"{str(path)!r} is a directory; expected a file path")
    raise OutputLocationError(
        f"{str(path)!r} is {kind}; expected a new file path or a regular file to replace "
        f"(only regular files are replaced, even with overwrite)")


def file_kind(path):
    """What stands at ``path``, in words; None if nothing does.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    kind : str or None
        ``"a file"`` (a regular file), ``"a directory"``, ``"a character device"``,
        ``"a block device"``, ``"a pipe (FIFO)"``, ``"a socket"``; for a symbolic link,
        ``"a link to "`` and what it leads to, or ``"a broken link"``. None when
        nothing is there, or a file stands where one of its folders should be.

    Examples
    --------
    >>> file_kind("/"), file_kind("no/such/file")
    ('a directory', None)
    """
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISLNK(mode):
        return _kind(mode)
    try:
        return f"a link to {_kind(os.stat(path).st_mode)}"
    except OSError:  # it leads nowhere, or round in a loop
        return "a broken link"


def _kind(mode):
    """The kind of a file of ``st_mode`` ``mode`` (links followed), in words."""
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def check_path_length(path, *, name=None, folder=False):
    """Refuse a path longer than the file system allows, with room for a temporary file.

    Every name in ``path`` must fit the file system's ``NAME_MAX`` bytes, a file's own
    name with the room its hidden temporary file's name needs (:func:`atomic_write`:
    29 more bytes), and the whole path (the temporary file's, as given, not made
    absolute) its ``PATH_MAX``. The limits are those of the nearest existing folder
    (:func:`os.pathconf`; 255 and 4096 where it does not say).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, or with ``folder`` the folder to write files in.
    name : str, optional
        How ``path`` is named in messages (``"--out"``); by default its path alone.
    folder : bool, default=False
        ``path`` is a folder: its own name needs no room for a temporary file.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    sksep.exceptions.OutputLocationError
        A name or the path is too long.

    Examples
    --------
    >>> str(check_path_length("stems/song/vocals.wav"))
    'stems/song/vocals.wav'
    >>> check_path_length("stems/" + "v" * 240 + ".wav")
    Traceback (most recent call last):
    ...
    sksep.exceptions.OutputLocationError: ... is 244 bytes long; expected at most 226 ...
    """
    path = Path(path)
    subject = (f"{name} " if name else "") + repr(_abridged(str(path)))
    name_max, path_max = _limits(path)
    room = len(_temporary_name("", _longest_token()))  # what a temporary adds to a name
    last = len(path.parts) - 1
    for index, part in enumerate(path.parts):
        own = index == last and not folder
        limit = name_max - (room if own else 0)
        size = len(os.fsencode(part))
        if size > limit:
            reason = (f"{name_max} bytes, the file system's limit, less {room} for the name "
                      f"of the temporary file it is written through" if own
                      else "the file system's limit")
            which = f": the name {_abridged(part)!r}" if len(path.parts) > 1 else ""
            raise OutputLocationError(
                f"{subject}{which} is {size} bytes long; expected at most {limit} "
                f"({reason}): choose a shorter name")
    size = len(os.fsencode(str(path)))
    limit = path_max - 1 - room - (1 if folder else 0)  # a NUL ends it; "/": a file in it
    if size > limit:
        raise OutputLocationError(
            f"{subject} is {size} bytes long; expected at most {limit} ({path_max - 1} "
            f"bytes, the system's limit for a path, less {path_max - 1 - limit} for the "
            f"name of the temporary file it is written through): choose a shorter path")
    return path


def _limits(path):
    """``(NAME_MAX, PATH_MAX)`` of the file system that would hold ``path``."""
    folder = _nearest_existing(Path(os.path.abspath(path)).parent)
    limits = []
    for name, default in (("PC_NAME_MAX", _NAME_MAX), ("PC_PATH_MAX", _PATH_MAX)):
        try:
            limits.append(os.pathconf(folder, name) or default)
        except (AttributeError, OSError, ValueError):  # no pathconf (Windows), no limit
            limits.append(default)
    return tuple(limits)


def _abridged(text, width=60):
    """``text`` shortened to about ``width`` characters by an ellipsis in its middle."""
    if len(text) <= width:
        return text
    half = (width - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


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
        kind = file_kind(folder) or "a file"
        raise OutputLocationError(f"{subject} is {kind}; expected a folder{purpose}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _read_only(subject, purpose)
    return folder


def _read_only(subject, purpose):
    """The error for a folder this process cannot write to."""
    return OutputLocationError(f"{subject} is read-only; expected a writable folder{purpose}")


def _nearest_existing(folder):
    """``folder`` itself or its nearest ancestor that exists, as a file or a folder."""
    return next((candidate for candidate in (folder, *folder.parents)
                 if os.path.exists(candidate)), folder)


def make_folders(folder):
    """Create ``folder`` and its missing parents; return those this call created.

    Parameters
    ----------
    folder : pathlib.Path

    Returns
    -------
    created : list of pathlib.Path
        The folders created, outermost first (not those another process created at
        the same time), for :func:`remove_empty_folders`.
    """
    missing = []
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate):
            break
        missing.append(candidate)
    created = []
    try:
        for candidate in reversed(missing):
            try:
                os.mkdir(candidate)
            except FileExistsError:
                if not candidate.is_dir():
                    raise
                continue
            created.append(candidate)
    except BaseException:
        remove_empty_folders(created)
        raise
    return created


def remove_empty_folders(created):
    """Remove the folders of ``created`` (from :func:`make_folders`) that are empty,
    innermost first; a folder that holds anything stays, and so do its parents."""
    for folder in reversed(created):
        try:
            os.rmdir(folder)
        except OSError:  # not empty (another stem, another run), or gone
            return


def atomic_write(path, write, *, overwrite=False):
    """Write a file through ``write(temporary_path)`` and rename it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Target; missing parent folders are created (and removed again, if left empty,
        when the write fails).
    write : callable
        ``write(temporary_path)`` writes the complete file at the temporary path.
    overwrite : bool, default=False
        Replace an existing regular file at ``path``; otherwise that is a
        :class:`FileExistsError`. Anything else there is never replaced.

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
    created = []
    try:
        with disk_full_named(path):
            created = make_folders(path.parent)
            _write_through_temporary(path, write, overwrite)
    except BaseException:
        remove_empty_folders(created)
        raise
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
        _check_replaceable(path, overwrite)  # again: someone may have put a file there
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _temporary_name(name, token):
    """The hidden temporary file name for the target ``name``: ``.<name>.<token>.tmp``."""
    return f".{name}.{token}.tmp"


def _token():
    """The middle of a temporary file's name: this process's id, and random hex digits
    that make it unique (``4242-0123456789ab``)."""
    return f"{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}"


def _longest_token():
    """A token as long as :func:`_token` can make, for :func:`check_path_length`."""
    return f"{'9' * _PID_DIGITS}-{'f' * 2 * _TOKEN_BYTES}"


def _temporary_writer(candidate, name):
    """Whether the file name ``candidate`` is one of our temporaries for the target
    ``name``, and the process that writes it: ``(True, pid)``; ``(True, None)`` for a
    name an earlier version gave (``.<name>.<12 hex digits>.tmp``, no process id);
    ``(False, None)`` for any other name."""
    match = re.fullmatch(rf"\.{re.escape(name)}\.(?:([0-9]{{1,{_PID_DIGITS}}})-)?"
                         rf"[0-9a-f]{{{2 * _TOKEN_BYTES}}}\.tmp", candidate)
    if match is None:
        return False, None
    return True, None if match.group(1) is None else int(match.group(1))


def _writer_has_ended(pid):
    """Whether the process ``pid`` that wrote a temporary file has ended (this process
    counts as ended: its own temporaries are its to remove). Where that cannot be asked
    safely (``os.kill(pid, 0)`` ends the process on Windows), every other process is
    taken to be running."""
    if pid is None or pid == os.getpid():
        return True
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, OverflowError):  # no such process, or no such id
        return True
    except PermissionError:  # another user's process
        return False
    return False


def reserve_temporary(path):
    """Create an empty, uniquely named hidden file beside ``path``.

    Opened with ``"xb"`` (O_EXCL) rather than :func:`tempfile.mkstemp` so that it gets the
    usual permissions (0666 minus the umask) and the final file is readable as any other.
    Its name holds this process's id, so that :func:`remove_stale_temporaries` never
    removes it while this process runs.
    """
    while True:
        candidate = path.with_name(_temporary_name(path.name, _token()))
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
    very target (``.<name>.<process id>-<12 hex digits>.tmp``) are removed, and only
    those of this process or of a process that has ended (as well as those of earlier
    versions, ``.<name>.<12 hex digits>.tmp``, which name no process): a write still in
    progress in another process keeps its temporary file. A process id the system gave
    again to a new process keeps its file until that process ends too.

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
    stale = []
    for entry in path.parent.iterdir():
        ours, writer = _temporary_writer(entry.name, path.name)
        if ours and entry.is_file() and _writer_has_ended(writer):
            stale.append(entry)
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
