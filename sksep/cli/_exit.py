"""Exit codes, and how errors and signals become them (see :mod:`sksep.cli`).

Every error a command raises ends as one line on stderr, ``sksep: error: ...``, and
the documented exit code of its kind (:func:`report_error`). Ctrl-C (SIGINT) and
SIGTERM unwind the stack like exceptions, so that the file being written is removed.
"""

import contextlib
import signal
import sys
import threading
import traceback
import types

from ..exceptions import (DiskFullError, InvalidInputError, MissingProgramError,
                          OutputLocationError)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_EXISTS = 4
EXIT_MISSING_PROGRAM = 5
EXIT_CANNOT_WRITE = 6
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as shells report it
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143

#: The exit codes as ``--help`` lists them.
EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  unexpected error
  2  bad usage (unknown option, bad option value, unknown --stems name, --device cuda
     without CUDA, a --param the estimator refuses, separate --head dc for a model of
     more than 2 sources, separate --query with a model that cannot query, an unknown
     `models NAME`)
  3  bad input: missing, unreadable, damaged or non-audio file, a pipe or device as a
     song (standard input is not read), bad data folder, bad model file (or one that
     cannot name its stems)
  4  refused to overwrite an existing output file (pass --overwrite)
  5  missing external program or optional package (ffmpeg for M4A/MP4, matplotlib for --plot,
     a libsndfile that writes MP3 for --format mp3)
  6  cannot write an output (--out is a file or read-only, a file where a folder goes,
     a song name that leaves --out, a name or path too long, a device, pipe, socket or
     folder where an output file goes: only regular files are replaced) or the disk is
     full
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM); no partial file is left
"""


class UsageError(Exception):
    """Arguments that parse but do not fit together; exit code 2."""


class Terminated(BaseException):
    """SIGTERM arrived; unwinding like Ctrl-C removes the temporary file being written."""


@contextlib.contextmanager
def usage_errors():
    """Option values the library refuses (a stem, head, device or estimator parameter)
    are bad usage: exit code 2, with the library's message."""
    try:
        yield
    except InvalidInputError as error:
        raise UsageError(str(error)) from None


def exit_code(error):
    """The documented exit code of an exception."""
    if isinstance(error, (OutputLocationError, DiskFullError)):
        return EXIT_CANNOT_WRITE
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, FileExistsError):
        return EXIT_EXISTS
    if isinstance(error, (MissingProgramError, ImportError)):
        return EXIT_MISSING_PROGRAM
    if isinstance(error, (FileNotFoundError, IsADirectoryError, NotADirectoryError,
                          InvalidInputError)):
        return EXIT_BAD_INPUT
    return EXIT_ERROR


def report_error(error, *, debug=False):
    """Print ``error`` as one line on stderr (with the traceback if ``debug``); return its
    exit code."""
    if debug:
        traceback.print_exception(error)
    code = exit_code(error)
    message = str(error) or type(error).__name__
    if code == EXIT_ERROR:
        message = f"{type(error).__name__}: {message}"
    print(f"sksep: error: {message.splitlines()[0]}", file=sys.stderr)
    return code


def report_interruption(interruption):
    """Print that Ctrl-C ended the command, with what ``interruption`` says (e.g. that
    no model was written); return 130."""
    detail = str(interruption)
    print("sksep: interrupted" + (f": {detail}" if detail else ""), file=sys.stderr)
    return EXIT_INTERRUPTED


def report_termination():
    """Print that SIGTERM ended the command; return 143."""
    print("sksep: terminated", file=sys.stderr)
    return EXIT_TERMINATED


def _raise_terminated(signum, frame):
    """SIGTERM handler: unwind the stack as Ctrl-C does."""
    raise Terminated


@contextlib.contextmanager
def unwind_on_sigterm():
    """Turn SIGTERM into an exception, so that the file being written is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def recording_interrupts():
    """Count Ctrl-C (SIGINT) presses while raising KeyboardInterrupt as Python does.

    Code that swallows KeyboardInterrupt (skorch ends training quietly on it, as it
    does when a callback such as :class:`~sksep.callbacks.TimeBudget` raises it) can
    then be asked afterwards whether the user interrupted it. Yields an object whose
    ``count`` is the number of SIGINTs received. Where SIGINT is ignored (a
    background job) or handled by someone else, nothing changes and ``count`` stays 0.
    """
    interrupts = types.SimpleNamespace(count=0)

    def handler(signum, frame):
        interrupts.count += 1
        raise KeyboardInterrupt

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield interrupts
        return
    signal.signal(signal.SIGINT, handler)
    try:
        yield interrupts
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
