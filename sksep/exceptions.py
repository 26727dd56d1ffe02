"""Exceptions raised by sksep.

Every error caused by a bad argument is a subclass of :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working for callers that do
not know sksep; the more precise classes below let them tell cases apart.

This module imports nothing heavy (the command line imports it before scikit-learn or
torch): :class:`NotFittedError` is scikit-learn's own class, the one
``sklearn.utils.validation.check_is_fitted`` raises, looked up on first use.
"""

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
    "SilentSourceWarning",
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


class SilentSourceWarning(UserWarning):
    """A source is silent in every training clip: a network trained on them never
    hears it and learns to predict (near) silence for it.

    Attributes
    ----------
    sources : tuple of int
        The silent sources, as indices into each clip's sources ``Y[i]``.
    n_clips : int
        The number of training clips.
    """

    def __init__(self, message, sources=(), n_clips=0):
        super().__init__(message)
        self.sources = tuple(sources)
        self.n_clips = n_clips


class DamagedAudioWarning(UserWarning):
    """An audio file is damaged but readable: a WAV file holds fewer samples than its
    header announces (a truncated copy), or the decoder skipped data it could not
    decode. The samples that could be read are used; the message names the file."""


def __getattr__(name):
    # scikit-learn's NotFittedError, imported only when asked for (PEP 562).
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError  # deferred: sklearn takes ~0.5 s
        return NotFittedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
