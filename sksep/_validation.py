"""Input validators called at every public entry (librosa's ``valid_audio`` style).

Each validator returns a cleaned value or raises an error from
:mod:`sksep.exceptions` whose message names the argument, what it got and what
was expected, e.g. ``X[3] must be a 1-D float array, got shape (2, 16000)``.
"""

import os
import reprlib
from numbers import Integral, Real

import numpy as np
from scipy import sparse

from .exceptions import InvalidAudioTypeError, InvalidInputError, InvalidParameterTypeError

__all__ = [
    "as_array",
    "check_audio",
    "check_mixtures",
    "check_sources",
    "check_int",
    "check_seed",
    "check_real",
    "check_choice",
    "check_n_jobs",
    "check_mask_target",
    "check_params",
    "check_source_names",
    "short_repr",
]


#: Largest absolute sample value accepted (200 dB above full scale). Louder input would
#: overflow float32 in the power spectra; quieter-than-this float audio of any level is
#: separated the same way (features are level-normalised).
MAX_ABS_LEVEL = 1e10

_PATH_HINT = " (a file path? read it with sksep.audio_io.load_audio first)"

#: Most characters of a value that :func:`short_repr` echoes into a message.
MAX_ECHO = 120


class _ShortRepr(reprlib.Repr):
    """``reprlib`` with strings cut to a prefix: the repr of a long string or container is
    never built whole (a model file may name its sources with 10 MB strings)."""

    def __init__(self, limit):
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = limit
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 4
        self.maxdeque = self.maxarray = 4
        self.maxlevel = 3

    def repr_str(self, value, level):
        if len(value) <= self.maxstring:
            return repr(value)
        return f"{value[:self.maxstring]!r}... ({len(value)} characters)"

    repr_bytes = repr_str

    def repr_int(self, value, level):
        if value.bit_length() > 64:  # before repr, which refuses more than 4300 digits
            return f"<an integer of {value.bit_length()} bits>"
        return super().repr_int(value, level)


def short_repr(value, *, limit=MAX_ECHO):
    """``repr(value)`` cut to a short, escaped prefix, for messages about untrusted data.

    Parameters
    ----------
    value : object
        E.g. a name read from a model file.
    limit : int, default=MAX_ECHO
        Characters kept of a string; the whole result is at most ``2 * limit + 43``.

    Returns
    -------
    text : str
        ``repr(value)`` when it is short; otherwise a prefix that says how long the
        string was. Control characters are escaped, as ``repr`` escapes them.

    Examples
    --------
    >>> short_repr(("vocals", "accompaniment"))
    "('vocals', 'accompaniment')"
    >>> short_repr("x" * 10**7, limit=5)
    "'xxxxx'... (10000000 characters)"
    """
    text = _ShortRepr(limit).repr(value)
    longest = 2 * limit + 40  # a container of cut strings, each saying its length
    return text if len(text) <= longest else text[:longest] + "..."


def describe(value):
    """A short description of ``value`` for error messages (a path, an array's shape...)."""
    if isinstance(value, os.PathLike):
        return f"path {os.fspath(value)!r}"
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if np.isscalar(value):
        return f"{type(value).__name__} {short_repr(value)}"
    return type(value).__name__


def as_array(value, *, name, expected):
    """``np.asarray(value)``, refusing a ragged sequence with a message that names it.

    Parameters
    ----------
    value : array-like
    name : str
        The argument's name, for the message.
    expected : str
        What the argument should be, for the message (``"a 1-D float array"``).

    Returns
    -------
    array : ndarray

    Raises
    ------
    sksep.exceptions.InvalidAudioTypeError
        ``value`` is a sequence of rows of different lengths, which numpy cannot
        make an array of.
    """
    try:
        return np.asarray(value)
    except ValueError:  # numpy: "setting an array element with a sequence ..."
        raise InvalidAudioTypeError(
            f"{name} is a ragged sequence (its rows have different lengths, e.g. channels "
            f"of different lengths); expected {expected}"
        ) from None


def check_audio(audio, *, name="audio", min_samples=1, ndim=1):
    """Validate one clip of float audio.

    Parameters
    ----------
    audio : array-like
        Samples, ``(n_samples,)`` when ``ndim=1``, ``(n_channels, n_samples)`` when ``ndim=2``.
    name : str
        How the argument is named in error messages (e.g. ``"X[3]"``).
    min_samples : int
        Fewest samples accepted (e.g. one STFT window).
    ndim : int
        Expected number of dimensions.

    Returns
    -------
    audio : ndarray of float32
        The same samples, as a contiguous float32 array.
    """
    if isinstance(audio, (str, bytes, os.PathLike)) or audio is None:
        raise InvalidAudioTypeError(
            f"{name} must be a {ndim}-D float array of audio samples, got {describe(audio)}"
            f"{_PATH_HINT if isinstance(audio, (str, os.PathLike)) else ''}"
        )
    array = as_array(audio, name=name, expected=f"a {ndim}-D float array of audio samples")
    if array.dtype == object:
        raise InvalidAudioTypeError(
            f"{name} must be a {ndim}-D float array of audio samples, got an object array "
            f"(ragged lists?) of shape {array.shape}"
        )
    if array.dtype.kind in "iub":
        raise InvalidAudioTypeError(
            f"{name} has integer dtype {array.dtype}; expected float audio in [-1, 1] "
            f"(for int16 PCM divide by 32768)"
        )
    if array.dtype.kind == "c":
        raise InvalidAudioTypeError(
            f"Complex data not supported: {name} has dtype {array.dtype}; expected real float "
            f"audio (take np.real, or the magnitude, of a complex signal first)"
        )
    if array.dtype.kind != "f":
        raise InvalidAudioTypeError(f"{name} must be a float array, got dtype {array.dtype}")
    if array.ndim != ndim:
        hint = ""
        if ndim == 1 and array.ndim == 2 and min(array.shape) <= 2:
            channels = 0 if array.shape[0] <= 2 else 1  # (2, n) or samples first, (n, 2)
            hint = (f" (stereo? mix down with {name}.mean(axis={channels}) or separate each "
                    f"channel)")
        raise InvalidInputError(
            f"{name} must be a {ndim}-D float array, got shape {array.shape}{hint}"
        )
    n_samples = array.shape[-1]
    if n_samples < min_samples:
        raise InvalidInputError(
            f"{name} has {n_samples} sample{'' if n_samples == 1 else 's'}; expected at least "
            f"{min_samples} (one STFT window)"
        )
    if not np.all(np.isfinite(array)):
        n_bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise InvalidInputError(f"{name} contains {n_bad} NaN or infinite samples")
    peak = float(np.max(np.abs(array))) if array.size else 0.0
    if peak > MAX_ABS_LEVEL:
        raise InvalidInputError(
            f"{name} peaks at {peak:.3g}, a level float32 spectra cannot represent; expected "
            f"|samples| <= {MAX_ABS_LEVEL:g} (full scale is 1.0: rescale the audio first)"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def check_mixtures(X, *, name="X", min_samples=1):
    """Validate a batch of mono mixtures.

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_samples) or list of 1-D arrays
        Mono mixtures; a list may hold clips of different lengths.

    Returns
    -------
    clips : list of ndarray of float32, each ``(n_samples_i,)``
    is_array : bool
        Whether ``X`` was one 2-D array (so outputs are stacked back into arrays).
    """
    if sparse.issparse(X):
        raise InvalidAudioTypeError(
            f"{name} is a {type(X).__name__} (sparse); sparse input is not supported, "
            f"expected dense float audio (n_clips, n_samples) or a list of 1-D arrays"
        )
    if isinstance(X, np.ndarray):
        if X.dtype != object:
            if X.ndim != 2:
                hint = ""
                if X.ndim == 1:
                    hint = f" (one clip? pass [{name.lower()}] or {name.lower()}[None])"
                elif X.ndim == 3 and X.shape[1] <= 2:
                    hint = " (stereo? mix down with X.mean(axis=1))"
                elif X.ndim == 3 and X.shape[2] <= 2:
                    hint = " (stereo with samples first? mix down with X.mean(axis=2))"
                raise InvalidInputError(
                    f"{name} must be a 2-D array (n_clips, n_samples) or a list of 1-D "
                    f"arrays, got shape {X.shape}{hint}"
                )
            clips = [check_audio(x, name=f"{name}[{i}]", min_samples=min_samples)
                     for i, x in enumerate(X)]
            if not clips:
                raise InvalidInputError(f"{name} holds no clips; expected at least one")
            return clips, True
        X = list(X)
    if isinstance(X, (str, bytes, os.PathLike)) or not hasattr(X, "__len__") \
            or not hasattr(X, "__getitem__"):
        raise InvalidAudioTypeError(
            f"{name} must be a 2-D array (n_clips, n_samples) or a list of 1-D float arrays, "
            f"got {describe(X)}{_PATH_HINT if isinstance(X, (str, os.PathLike)) else ''}"
        )
    if len(X) == 0:
        raise InvalidInputError(f"{name} holds no clips; expected at least one")
    clips = [check_audio(x, name=f"{name}[{i}]", min_samples=min_samples)
             for i, x in enumerate(X)]
    return clips, False


def check_sources(Y, lengths, *, name="Y", n_sources=None):
    """Validate the sources that go with a batch of mixtures.

    Parameters
    ----------
    Y : ndarray of shape (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
    lengths : sequence of int
        The length in samples of each mixture; each clip's sources must match it.
    n_sources : int, optional
        The number of sources expected (e.g. the number seen at fit).

    Returns
    -------
    sources : list of ndarray of float32, each ``(n_sources, n_samples_i)``
    """
    if Y is None:
        raise InvalidInputError(
            f"{name} is None; expected the sources of each clip, "
            f"shape (n_clips, n_sources, n_samples)"
        )
    if isinstance(Y, np.ndarray) and Y.dtype != object:
        if Y.ndim != 3:
            raise InvalidInputError(
                f"{name} must be a 3-D array (n_clips, n_sources, n_samples) or a list of "
                f"(n_sources, n_samples) arrays, got shape {Y.shape}"
            )
    if isinstance(Y, (str, bytes)) or not hasattr(Y, "__len__"):
        raise InvalidAudioTypeError(
            f"{name} must be an array (n_clips, n_sources, n_samples) or a list of "
            f"(n_sources, n_samples) arrays, got {describe(Y)}"
        )
    if len(Y) != len(lengths):
        raise InvalidInputError(
            f"{name} has {len(Y)} clips but X has {len(lengths)}; expected one entry per mixture"
        )
    sources = []
    for i, (y, length) in enumerate(zip(Y, lengths)):
        y = check_audio(y, name=f"{name}[{i}]", ndim=2)
        if y.shape[0] < 1:
            raise InvalidInputError(f"{name}[{i}] has no sources; expected at least one")
        if n_sources is not None and y.shape[0] != n_sources:
            raise InvalidInputError(
                f"{name}[{i}] has {y.shape[0]} sources; expected {n_sources}"
            )
        if y.shape[1] != length and y.shape[0] == length:
            raise InvalidInputError(
                f"{name}[{i}] has shape {y.shape}, samples first; expected (n_sources, "
                f"n_samples) = (n_sources, {length}): transpose it ({name}[{i}].T)"
            )
        if y.shape[1] != length:
            raise InvalidInputError(
                f"{name}[{i}] has {y.shape[1]} samples but its mixture X[{i}] has {length}; "
                f"sources must be as long as the mixture"
            )
        sources.append(y)
    counts = {y.shape[0] for y in sources}
    if len(counts) > 1:
        raise InvalidInputError(
            f"{name} clips have different numbers of sources {sorted(counts)}; "
            f"expected the same sources, in the same order, for every clip"
        )
    return sources


def shown(value):
    """``repr(value)`` for a message, but an integer too long to print in full (Python
    refuses to print more than 4300 digits) as ``<an integer of N digits>``."""
    if isinstance(value, Integral) and not isinstance(value, bool) and \
            int(value).bit_length() > 128:
        digits = int(abs(int(value)).bit_length() * 0.30103) + 1
        return f"<{'a negative' if value < 0 else 'an'} integer of about {digits} digits>"
    return repr(value)


def check_int(value, *, name, minimum=None, maximum=None, allow_none=False):
    """Validate an integer hyper-parameter (``hop_length=0 must be a positive integer``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidParameterTypeError(f"{name}={short_repr(value)} must be an integer")
    if minimum is not None and value < minimum:
        raise InvalidInputError(f"{name}={shown(value)} must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidInputError(f"{name}={shown(value)} must be an integer <= {maximum}")
    return int(value)


#: Largest seed a numpy ``RandomState`` takes.
MAX_SEED = 2**32 - 1


def check_seed(value, *, name="random_state"):
    """Validate a seed: None, an integer from 0 to ``2**32 - 1``, or a numpy RandomState.

    The values :func:`sklearn.utils.check_random_state` accepts, refused here with a
    message that names the parameter instead of numpy's ``Seed must be between 0 and
    2**32 - 1``.

    Examples
    --------
    >>> check_seed(-1, name="random_state")
    Traceback (most recent call last):
    ...
    sksep.exceptions.InvalidInputError: random_state=-1 must be an integer from 0 to ...
    """
    expected = f"an integer from 0 to {MAX_SEED} (2**32 - 1), a numpy RandomState or None"
    if value is None or isinstance(value, np.random.RandomState):
        return value
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidParameterTypeError(f"{name}={value!r} must be {expected}")
    if not 0 <= value <= MAX_SEED:
        raise InvalidInputError(f"{name}={shown(value)} must be {expected}")
    return int(value)


def check_real(value, *, name, minimum=None, maximum=None, allow_none=False,
               exclusive_minimum=False):
    """Validate a real-valued hyper-parameter."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidParameterTypeError(f"{name}={short_repr(value)} must be a real number")
    if not np.isfinite(value):
        raise InvalidInputError(f"{name}={value} must be finite")
    if minimum is not None:
        if exclusive_minimum and value <= minimum:
            raise InvalidInputError(f"{name}={value} must be > {minimum}")
        if not exclusive_minimum and value < minimum:
            raise InvalidInputError(f"{name}={value} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidInputError(f"{name}={value} must be <= {maximum}")
    return float(value)


def check_choice(value, *, name, choices):
    """Validate a categorical hyper-parameter."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidInputError(f"{name}={short_repr(value)} must be one of {listed}")
    return value


def check_n_jobs(value, *, name="n_jobs"):
    """Validate a joblib ``n_jobs``: a nonzero integer (``-1``: all cores) or None."""
    n_jobs = check_int(value, name=name, allow_none=True)
    if n_jobs == 0:
        raise InvalidInputError(f"{name}=0 must be a nonzero integer (-1: all cores) or None")
    return n_jobs


def check_mask_target(value, *, name, example):
    """Validate a mask-target parameter (``dc_target``, ``mi_target``, ``mask_target``).

    Parameters
    ----------
    value : object or None
        ``None`` (the separator's default target) or an object with a ``masks``
        method, such as :class:`~sksep.IdealBinaryMask`.
    name : str
        The parameter's name, for the message.
    example : str
        A suitable target, for the message (``"IdealBinaryMask()"``).
    """
    if value is not None and not hasattr(value, "masks"):
        raise InvalidInputError(f"{name}={short_repr(value)} must be a mask target such as "
                                f"{example}")
    return value


def check_source_names(value, *, name):
    """Validate source names: ``None``, or at least two distinct, non-empty strings.

    Parameters
    ----------
    value : sequence of str or None
        E.g. ``("vocals", "accompaniment")``: one name per source, in order.
    name : str
        The argument's (or attribute's) name, for the message.

    Returns
    -------
    names : tuple of str or None

    Raises
    ------
    sksep.exceptions.InvalidInputError
        A name is repeated (two stems of one name: one would be lost) or there are
        fewer than two; the message echoes a short prefix of the names.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise InvalidParameterTypeError(
            f"{name}={short_repr(value)} must be a tuple of source names such as "
            f"('vocals', 'accompaniment'), or None"
        )
    if not all(isinstance(source, str) and source for source in value):
        raise InvalidParameterTypeError(f"{name}={short_repr(value)} must hold non-empty "
                                        f"strings")
    if len(set(value)) != len(value):
        repeated = next(source for i, source in enumerate(value) if source in value[:i])
        raise InvalidInputError(f"{name}={short_repr(value)} has repeated names "
                                f"({short_repr(repeated)} twice); expected one distinct "
                                f"name per source")
    if len(value) < 2:
        raise InvalidInputError(f"{name}={short_repr(value)} has {len(value)} name; expected "
                                f"at least 2 (one per source)")
    return tuple(value)


def check_params(params, constraints):
    """Validate hyper-parameters against their declared constraints.

    The counterpart of scikit-learn's ``validate_parameter_constraints``, with sksep's
    validators and messages: an estimator declares ``_parameter_constraints``, a dict
    ``{name: check}``, merged from its base classes' (as ``KMeans`` merges
    ``_BaseKMeans._parameter_constraints``), and validates them once per ``fit``.

    Parameters
    ----------
    params : dict of str to object
        The hyper-parameters, e.g. ``estimator.get_params(deep=False)``.
    constraints : dict of str to callable
        ``check(value, name=name)`` per parameter, raising an error that names the
        parameter, e.g. ``functools.partial(check_int, minimum=1)``.

    Returns
    -------
    checked : dict of str to object
        What each check returned (e.g. ``int`` for ``check_int``), by name.

    Examples
    --------
    >>> from functools import partial
    >>> check_params({"batch_size": 16}, {"batch_size": partial(check_int, minimum=1)})
    {'batch_size': 16}
    >>> check_params({"batch_size": 0}, {"batch_size": partial(check_int, minimum=1)})
    Traceback (most recent call last):
    ...
    sksep.exceptions.InvalidInputError: batch_size=0 must be an integer >= 1
    """
    return {name: check(params[name], name=name) for name, check in constraints.items()}
