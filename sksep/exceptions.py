"""Exceptions raised by sksep.

Every error caused by a bad argument is a subclass of :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working for callers that do
not know sksep; the more precise classes below let them tell cases apart.
"""

from sklearn.exceptions import NotFittedError

__all__ = [
    "InvalidInputError",
    "InvalidAudioTypeError",
    "ModelFileError",
    "MissingProgramError",
    "NotFittedError",
]


class InvalidInputError(ValueError):
    """An argument has the wrong value or shape; the message names it."""


class InvalidAudioTypeError(InvalidInputError, TypeError):
    """An argument has the wrong type (e.g. integer PCM where float audio is expected)."""


class ModelFileError(InvalidInputError):
    """A file is not a sksep model, is truncated, or comes from an incompatible version."""


class MissingProgramError(RuntimeError):
    """An external program (e.g. ``ffmpeg``) that a feature needs is not on ``PATH``."""
