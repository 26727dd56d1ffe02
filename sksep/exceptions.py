"""Exceptions raised by sksep.

Every error caused by a bad argument is a subclass of :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working for callers that do
not know sksep; the more precise classes below let them tell cases apart.
"""

from sklearn.exceptions import NotFittedError

__all__ = [
    "InvalidInputError",
    "InvalidAudioTypeError",
    "InvalidParameterTypeError",
    "ModelFileError",
    "OutputLocationError",
    "DiskFullError",
    "MissingProgramError",
    "NotFittedError",
    "DeviceNotAvailableError",
    "DamagedAudioWarning",
]


class InvalidInputError(ValueError):
    """An argument has the wrong value or shape; the message names it."""


class InvalidAudioTypeError(InvalidInputError, TypeError):
    """Audio of the wrong type (e.g. integer PCM where float audio is expected, or a
    file path where samples are expected)."""


class InvalidParameterTypeError(InvalidInputError, TypeError):
    """A parameter that is not audio has the wrong type (e.g. ``hidden_size=1.5``,
    ``callbacks=print``); the message names it and the type expected."""


class ModelFileError(InvalidInputError):
    """A file is not a sksep model, is truncated, or comes from an incompatible version."""


class OutputLocationError(InvalidInputError):
    """An output cannot be written where asked; found before anything is written.

    A file stands where a folder must go, a folder is read-only, or a path would
    leave its output folder (a song named ``..wav``); the message names the path
    and what was expected.
    """


class DiskFullError(OSError):
    """The disk filled up while a file was written; that file was not written.

    Nothing half-written is left behind, and an existing file at the target is
    untouched. The message names the file.
    """


class MissingProgramError(RuntimeError):
    """An external program (e.g. ``ffmpeg``) that a feature needs is not on ``PATH``."""


class DeviceNotAvailableError(InvalidInputError):
    """A ``device`` argument names a torch device this machine does not have (e.g.
    ``"cuda"`` on a CPU-only machine); the message names the argument."""


class DamagedAudioWarning(UserWarning):
    """An audio file is damaged but readable: a WAV file holds fewer samples than its
    header announces (a truncated copy), or the decoder skipped data it could not
    decode. The samples that could be read are used; the message names the file."""
