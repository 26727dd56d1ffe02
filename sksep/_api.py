"""The one-line Python entry: :func:`separate` a song (a file or an array) into named stems.

It loads a model by name or path, names its sources, sets its prediction head and
device, and separates the song at its own rate and channel count with
:mod:`sksep.separation`, as ``sksep separate`` does. ``import sksep`` imports this module
on first use of :func:`separate` (PEP 562), so its imports cost nothing before then.
"""

import copy
import inspect
import os
import re

import numpy as np

from ._constants import DEFAULT_MODEL, HEADS
from ._device import check_device
from ._models import available_models, load
from ._validation import as_array, check_audio, check_choice, check_int, describe, short_repr
from .exceptions import InvalidInputError, InvalidParameterTypeError, ModelFileError
from .separation import model_grid, separate_audio, separate_file
from .separators._pipeline import final_step, sources_named

__all__ = ["separate"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")

#: Why the clusters of more than two sources get no names, for messages. Measured with two
#: 4-stem Chimera models (2 x 96 BLSTM; alpha 0.1 for 15 epochs, alpha 0.5 for 40) trained
#: on the three MUSDB excerpts at 16 kHz: on every song the mask-inference head's stems
#: came in the true stems' order, while the K-means clusters, ordered by their overlap with
#: that head's masks, did so on 1 song of the 6 (drums under bass, vocals under drums...).
UNNAMED_CLUSTERS = (
    "its K-means clusters get names for two sources only (the low-frequency rule: vocals, "
    "accompaniment); matched to the mask-inference head's masks, four clusters were "
    "misnamed (drums as bass) in 5 of 6 trials on the MUSDB excerpts")


def separate(song, model=DEFAULT_MODEL, sample_rate=None, *, stems=None, head=None,
             device=None, high_band="top", wiener_iterations=0, block_seconds=60.0,
             progress=False):
    """Separate a song into named stems at its own sample rate and channel count.

    The network hears the song's mid signal at the model's rate once; its masks are
    applied to every channel at the song's rate (:func:`sksep.separation.separate_audio`),
    so the stems are full-band, keep the stereo image and, for mask models whose masks
    sum to one, sum to the song. ``sksep separate`` writes the same stems to files.

    Parameters
    ----------
    song : str, bytes, os.PathLike or ndarray
        An audio file (WAV, FLAC, OGG, MP3; M4A/MP4/AAC through ``ffmpeg``), read at
        its own rate with all its channels; or float audio of shape
        ``(n_channels, n_samples)`` or ``(n_samples,)``, nominally in [-1, 1].
    model : str, bytes, os.PathLike or fitted separator, default="chimera-mir1k-musdb"
        A shipped model's name (:func:`sksep.available_models`), a model file, or a
        fitted separator (or Pipeline ending in one), which is not modified. The
        default is the shipped model best on real songs (MUSDB songs left out of its
        training); ``"hourglass-mir1k"`` is the one best on MIR-1K's karaoke clips.
    sample_rate : int, optional
        Sample rate of an array ``song`` in Hz (1000 to 768000); required for arrays,
        and must be None for a file, which is read at its own rate.
    stems : sequence of str, optional
        The stems to return, by the model's source names (default: all of them).
    head : {"mi", "dc"}, optional
        Chimera models: predict with the mask-inference head (soft masks) or the
        deep-clustering head (K-means binary masks). Default: the model's setting.
    device : str, optional
        Torch device of the network, e.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        Default: the model's setting (``"cpu"`` for a loaded model).
    high_band : {"top", "octave"}, default="top"
        Masks above the model's Nyquist frequency: the top band's, or the mean of
        the model's top octave (:func:`sksep.separation.separate_audio`).
    wiener_iterations : int, default=0
        EM iterations of the multichannel Wiener post-filter (0 to 10; 0: none).
    block_seconds : float, default=60.0
        Separate in blocks of this many seconds, cross-faded, to bound memory.
    progress : bool, default=False
        Show a progress bar over the blocks.

    Returns
    -------
    stems : dict of str to ndarray of float32
        Source name to stem, in the model's order: ``(n_channels, n_samples)`` for a
        file and for 2-D arrays (a mono file gives ``(1, n_samples)``),
        ``(n_samples,)`` for 1-D arrays; as long as the song, at its rate.
    sample_rate : int
        The stems' (and the song's) sample rate in Hz.

    Raises
    ------
    FileNotFoundError
        ``song`` or ``model`` names a file that does not exist.
    sksep.exceptions.InvalidInputError
        A bad argument (the message names it): unreadable audio, badly shaped or
        non-finite arrays, a missing or superfluous ``sample_rate``, an unknown stem
        name, a head the model does not have, an oracle model, a model whose
        deep-clustering head cannot name its clusters (more than two sources, or
        ``cluster_naming=None``).
    sksep.exceptions.DeviceNotAvailableError
        ``device`` names a device this machine does not have (e.g. ``"cuda"``
        without a GPU).
    sksep.exceptions.MissingProgramError
        An M4A/MP4/AAC file and no ``ffmpeg`` on ``PATH``.

    See Also
    --------
    sksep.separation.separate_audio : The same for an array, with a fitted model.
    sksep.separation.separate_file : The same for a file, with a fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> import sksep
    >>> wav = "../shared/data/MIR-1K/Wavfile/abjones_1_01.wav"  # relative to the repository
    >>> stems, rate = sksep.separate(wav)            # stereo 16 kHz file, shipped model
    >>> {name: stem.shape for name, stem in stems.items()}, rate
    ({'vocals': (2, 185856), 'accompaniment': (2, 185856)}, 16000)
    >>> song = np.random.default_rng(0).uniform(-0.1, 0.1, 44100).astype("float32")
    >>> stems, rate = sksep.separate(song, sample_rate=44100, stems=["vocals"])
    >>> list(stems), stems["vocals"].shape, rate
    (['vocals'], (44100,), 44100)
    """
    is_file = isinstance(song, (str, bytes, os.PathLike))
    if isinstance(model, bytes):  # a path, as for song and sksep.load
        model = os.fsdecode(model)
    sample_rate = _check_sample_rate(sample_rate, is_file)
    estimator, names = named_model(model)
    wanted = select_stems(stems, names, name="stems")
    estimator = configured(estimator, head=head, device=device, copy_first=not _is_path(model))
    check_sources_named(estimator, names, model=model, head=head)
    options = {"block_seconds": block_seconds, "high_band": high_band,
               "wiener_iterations": wiener_iterations, "progress": progress}
    if is_file:
        estimates, sample_rate = separate_file(estimator, song, **options)
    else:
        audio = _check_array(song, sample_rate, estimator)
        estimates = separate_audio(estimator, audio, sample_rate, **options)
    return {name: estimates[names.index(name)] for name in wanted}, sample_rate


def _is_path(model):
    return isinstance(model, (str, os.PathLike))


def _check_sample_rate(sample_rate, is_file):
    """The sample rate of an array song; None for a file (read at its own rate)."""
    if is_file:
        if sample_rate is not None:
            raise InvalidInputError(
                f"sample_rate={sample_rate!r} applies to arrays only; expected None for a "
                f"file, which is separated at its own rate")
        return None
    if sample_rate is None:
        raise InvalidInputError(
            "sample_rate is required when song is an array; expected the array's rate in "
            "Hz, e.g. sksep.separate(audio, sample_rate=44100)")
    return check_int(sample_rate, name="sample_rate", minimum=1000, maximum=768000)


def _check_array(song, sample_rate, estimator):
    """``song`` as float32 ``(n_channels, n_samples)`` or ``(n_samples,)``, long enough
    for one of the model's STFT windows at ``sample_rate``."""
    grid = model_grid(estimator)
    shape = as_array(song, name="song", expected="float audio of shape (n_channels, "
                                                 "n_samples) or (n_samples,)").shape
    if len(shape) == 2 and shape[0] > shape[1]:
        raise InvalidInputError(
            f"song has shape {shape}, i.e. {shape[0]} channels of {shape[1]} samples; "
            f"expected (n_channels, n_samples) (transpose with song.T?)")
    return check_audio(song, name="song", ndim=len(shape) if len(shape) in (1, 2) else 2,
                       min_samples=int(np.ceil(grid.n_fft * sample_rate / grid.sample_rate)))


def named_model(model):
    """A fitted separator that predicts from mixtures alone, and its source names.

    Parameters
    ----------
    model : str, os.PathLike or fitted separator
        Shipped model name, model file, or a fitted separator (or Pipeline); the file
        is loaded with :func:`sksep.load`, which checks its names.

    Returns
    -------
    estimator : fitted separator
    names : tuple of str
        One plain name (usable as a file name) per source: the model's
        ``source_names_``, else the shipped registry's, else ``source0``, ``source1``...

    Raises
    ------
    sksep.exceptions.ModelFileError
        The model's source names are not distinct plain names (the message echoes a
        short prefix of them).
    sksep.exceptions.InvalidInputError
        The model is not fitted, or is an oracle (it needs the true sources).
    """
    if _is_path(model):
        estimator = load(model)
    elif hasattr(final_step(model), "predict"):
        estimator = model
    else:
        raise InvalidParameterTypeError(
            f"model must be a shipped model name, a model file or a fitted separator, got "
            f"{describe(model)}")
    separator = final_step(estimator)
    _check_separates_mixtures(separator, model)
    n_sources = getattr(separator, "n_sources_", None)
    if n_sources is None:
        raise InvalidInputError(
            f"model={type(separator).__name__} is not fitted (it has no n_sources_); fit it "
            f"or load one with sksep.load")
    generic = tuple(f"source{i}" for i in range(int(n_sources)))
    names = tuple(getattr(separator, "source_names_", None) or ())
    if not names or names == generic:
        entry = available_models().get(model) if isinstance(model, str) else None
        names = tuple(entry["sources"]) if entry and entry.get("sources") else generic
    if len(names) != n_sources or len(set(names)) != len(names) or not all(
            isinstance(n, str) and _SAFE_NAME.match(n) for n in names):
        raise ModelFileError(
            f"model {_label(model)!r} names its sources {short_repr(names)}; expected "
            f"{n_sources} distinct plain names (letters, digits, '.', '_', '-') usable as "
            f"file names")
    return estimator, names


def _label(model):
    return os.fspath(model) if _is_path(model) else type(model).__name__


def _check_separates_mixtures(separator, model):
    """Refuse an oracle, whose ``predict`` needs the true sources of every mixture."""
    if "Y" in inspect.signature(separator.predict).parameters:
        raise InvalidInputError(
            f"model {_label(model)!r} ({type(separator).__name__}) is an oracle separator, "
            f"which needs the true sources of every mixture to predict; expected a trained "
            f"model, which separates mixtures alone (see `sksep models`), or call the "
            f"oracle's predict(X, Y)")


def select_stems(stems, names, *, name="stems"):
    """The stems asked for, in the model's order; all of ``names`` when ``stems`` is None.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``stems`` is a bare string, empty, or names a source the model does not have
        (the message lists the model's names).
    """
    if stems is None:
        return tuple(names)
    if isinstance(stems, str) or not all(isinstance(stem, str) for stem in stems):
        raise InvalidParameterTypeError(
            f"{name}={stems!r} must be a list of source names, e.g. [{names[0]!r}]")
    unknown = [stem for stem in stems if stem not in names]
    if unknown or not stems:
        raise InvalidInputError(
            f"{name}={list(stems)!r} must name at least one of the model's sources "
            f"{', '.join(names)}" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(source for source in names if source in stems)


def configured(estimator, *, head=None, device=None, copy_first=True):
    """The estimator predicting with ``head`` on ``device`` (both checked first).

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
    head : {"mi", "dc"} or None
        None keeps the model's head; otherwise the model must have a ``head`` parameter.
    device : str or None
        Torch device; None keeps the model's. Checked to exist on this machine.
    copy_first : bool, default=True
        Change a deep copy, leaving ``estimator`` untouched (for a caller's own model).

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``head`` is not one of :data:`HEADS`, or the model has no heads.
    sksep.exceptions.DeviceNotAvailableError
        This machine has no ``device``.
    """
    separator = final_step(estimator)
    if head is not None:
        check_choice(head, name="head", choices=HEADS)
        if "head" not in separator.get_params():
            raise InvalidInputError(
                f"head={head!r} applies to models with two heads (ChimeraSeparator); this "
                f"model is a {type(separator).__name__}")
    if device is not None:
        if "device" not in separator.get_params():
            raise InvalidInputError(
                f"device={device!r} applies to neural separators; this model is a "
                f"{type(separator).__name__}")
        device = str(check_device(device))
    if head is None and device is None:
        return estimator
    if copy_first:
        estimator = copy.deepcopy(estimator)
        separator = final_step(estimator)
    separator.set_params(**{key: value for key, value in (("head", head), ("device", device))
                            if value is not None})
    return estimator


#: How each caller names the head and the permutation-invariant scores in the refusal of
#: :func:`check_sources_named`: the Python keyword, or the command's options.
SPELLINGS = {
    "python": {"head": "head={!r}", "scores": "permutation-invariant scores "
               "(sksep.metrics.make_separation_scorer(..., permutation_invariant=True))"},
    "cli": {"head": "--head {}", "scores": "`sksep evaluate{}`, which matches the clusters to "
            "the true stems"},
}


def check_sources_named(estimator, names, *, model, head=None, spelling="python"):
    """Refuse a model whose stems would be given names that are not theirs.

    The separator answers (its ``sources_are_named``): K-means clusters of the
    deep-clustering head have no reliable names for more than two sources, and none
    at all with ``cluster_naming=None``.

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
    names : sequence of str
        The model's source names.
    model : str, os.PathLike or estimator
        What the caller was given, for the message.
    head : {"mi", "dc"} or None
        The head the caller asked for, if any.
    spelling : {"python", "cli"}, default="python"
        Name options as :func:`separate`'s keywords or as the command's options.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        The separator's outputs cannot carry the names ``names``.
    """
    check_choice(spelling, name="spelling", choices=tuple(SPELLINGS))
    if sources_named(estimator):
        return
    words = SPELLINGS[spelling]
    scores = words["scores"].format(" --head dc" if head == "dc" else "")
    reason = (UNNAMED_CLUSTERS if len(names) > 2 else
              "its clusters are unnamed (cluster_naming=None), in no fixed order")
    message = (f"model {_label(model)!r} separates {len(names)} sources ({', '.join(names)}) "
               f"with its deep-clustering head, and {reason}")
    if head == "dc":
        message = (f"{words['head'].format('dc')}: {message}: its stems would be written "
                   f"under arbitrary names; expected {words['head'].format('mi')}, or "
                   f"{scores}")
    else:
        if head == "mi":  # a Chimera trained with alpha=1
            message += (f" ({words['head'].format('mi')}: trained with alpha=1, its "
                        f"mask-inference head never learned)")
        message += (f": its stems would be written under arbitrary names; expected a model "
                    f"that names its sources (a Chimera with alpha < 1 and "
                    f"{words['head'].format('mi')}, or another estimator), or {scores}")
    raise InvalidInputError(message)
