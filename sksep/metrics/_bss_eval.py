"""Whole-clip BSS Eval v4 (SDR, SIR, SAR) through museval, safe on silent sources."""

import numpy as np
from threadpoolctl import threadpool_limits

from .._validation import check_audio, check_real
from ..exceptions import InvalidAudioTypeError, InvalidInputError, MissingProgramError

__all__ = ["bss_eval"]

# A reference whose mean energy per sample is below this (RMS < 1e-5, -100 dBFS) is
# treated as silent: every ratio that has it as the target is undefined.
SILENT_ENERGY_PER_SAMPLE = 1e-10

# Amplitude of the placeholder that stands in for an all-zero estimate inside museval.
_ZERO_ESTIMATE_NOISE = 1e-10


def silent_sources(references):
    """Which reference sources are silent.

    Parameters
    ----------
    references : ndarray of shape (n_sources, n_samples) or (n_sources, n_samples, n_channels)

    Returns
    -------
    silent : ndarray of bool, shape (n_sources,)
        True where the energy is below ``1e-10`` per sample (and channel).
    """
    flat = np.asarray(references, dtype=np.float64).reshape(len(references), -1)
    return np.mean(flat**2, axis=1) < SILENT_ENERGY_PER_SAMPLE


def import_museval_metrics():
    """Import ``museval.metrics`` on first use, with an actionable error if it cannot be."""
    try:
        import museval.metrics  # optional dependency (sksep[eval])
    except ImportError as error:
        raise ImportError(
            "bss_eval needs the museval package: install it with "
            "`pip install 'sksep[eval]'` (or `pip install museval`)"
        ) from error
    except RuntimeError as error:  # stempeg, imported by museval, checks for ffmpeg
        raise MissingProgramError(
            "bss_eval needs museval, whose import needs the ffmpeg and ffprobe programs on "
            "PATH: install ffmpeg (e.g. `apt install ffmpeg`, `conda install ffmpeg` or "
            f"`brew install ffmpeg`). museval said: {error}"
        ) from error
    return museval.metrics


def _as_source_array(sources, *, name):
    """Validate ``(n_sources, n_samples[, n_channels])`` float audio; return it as float64."""
    if sources is None or isinstance(sources, (str, bytes)):
        check_audio(sources, name=name, ndim=2)  # raises, worded like every entry point
    try:
        array = np.asarray(sources)
    except ValueError:
        raise InvalidAudioTypeError(
            f"{name} must be a float array (n_sources, n_samples), got ragged nested "
            f"sequences of type {type(sources).__name__}"
        ) from None
    if array.ndim not in (2, 3):
        raise InvalidInputError(
            f"{name} must be a 2-D array (n_sources, n_samples) or a 3-D array "
            f"(n_sources, n_samples, n_channels), got shape {array.shape}"
        )
    check_audio(array, name=name, ndim=array.ndim, min_samples=0)
    if 0 in array.shape:
        raise InvalidInputError(
            f"{name} has shape {array.shape}; expected at least one source, one sample "
            f"and one channel"
        )
    return np.asarray(array, dtype=np.float64)


def bss_eval_whole_clip(references, estimates):
    """BSS Eval v4 on validated float64 arrays ``(n_sources, n_samples, n_channels)``.

    Returns an array ``(3, n_sources)``: SDR, SIR and SAR; NaN where undefined.
    """
    museval_metrics = import_museval_metrics()
    n_sources, n_samples = references.shape[:2]
    values = np.full((3, n_sources), np.nan)
    active = ~silent_sources(references)
    if not active.any():
        return values
    estimates = estimates[active].copy()
    zero = np.all(estimates.reshape(len(estimates), -1) == 0, axis=1)
    if zero.any():
        # museval refuses all-zero estimates; a placeholder lets it score the others, and
        # the zero estimates' values are set below.
        noise = np.random.default_rng(0).standard_normal(estimates[zero].shape)
        estimates[zero] = _ZERO_ESTIMATE_NOISE * noise
    # One BLAS thread: the filters then come out bit-identical in any process, so a
    # parallel evaluation (joblib workers run single-threaded) equals a serial one.
    with threadpool_limits(limits=1, user_api="blas"):
        sdr, _, sir, sar, _ = museval_metrics.bss_eval(
            references[active], estimates, window=n_samples, hop=n_samples,
            compute_permutation=False,
        )
    scores = np.stack([sdr[:, 0], sir[:, 0], sar[:, 0]])
    # A zero estimate is all distortion (SDR = 0 dB exactly), while its SIR and SAR
    # are 0 / 0.
    scores[:, zero] = [[0.0], [np.nan], [np.nan]]
    if active.sum() == 1:
        scores[1] = np.nan  # no other source that could interfere: museval says +inf
    values[:, active] = scores
    return values


def bss_eval(references, estimates, *, sample_rate=None):
    """BSS Eval v4 SDR, SIR and SAR of each source over the whole clip, in dB.

    Each estimate is decomposed, with 512-tap time-invariant distortion filters
    (Vincent et al. 2006; Liutkus et al. 2018), into the reference, a filtered
    version of it, interference from the other references and artifacts:

    - SDR, signal to distortion: everything that is not the reference;
    - SIR, signal to interference: leakage of the other sources;
    - SAR, signal to artifacts: what no reference explains (musical noise...).

    One value per source for the whole clip (window = hop = clip length), as in
    the MIREX singing-voice separation task; computed by ``museval``, imported
    on first call.

    Parameters
    ----------
    references : array-like of shape (n_sources, n_samples) or (n_sources, n_samples, n_channels)
        True sources.
    estimates : array-like of the same shape
        Estimated sources, ``estimates[j]`` the estimate of ``references[j]``
        (no permutation is searched).
    sample_rate : float, optional
        Sample rate in Hz. Only validated: the 512-tap filters of BSS Eval are
        used at every rate (as MIREX did at 16 kHz), so values do not depend on it.

    Returns
    -------
    scores : dict of str to ndarray of float64, shape (n_sources,)
        ``{"sdr": ..., "sir": ..., "sar": ...}`` in dB. A perfect estimate gets
        ``inf`` SDR. A silent reference (energy below ``1e-10`` per sample) makes
        that source's three values **undefined: NaN**; the other sources are
        still evaluated (a silent reference spans nothing, so leaving it out
        changes nothing for them). An all-zero estimate (which museval refuses)
        is all distortion: SDR exactly 0 dB, while its SIR and SAR are 0 / 0, NaN.
        SIR is also NaN when no other reference is non-silent (e.g. a single
        source): there is no interference to measure (museval would say ``inf``).

    Raises
    ------
    InvalidInputError
        If the shapes differ or are not 2-D/3-D, or the audio has NaN or inf.
    ImportError
        If museval is not installed (``pip install 'sksep[eval]'``).
    MissingProgramError
        If museval cannot be imported because ffmpeg is not on ``PATH``.

    Notes
    -----
    This is the ``bss_eval_images`` criterion of museval and SiSEC (v4 with
    time-invariant filters): a wrong gain counts as distortion (an estimate at
    half the amplitude scores 6 dB SDR). The ``bss_eval_sources`` criterion of
    BSS Eval v3, used by Huang et al. (2014) for their MIR-1K GNSDR, forgives
    gain and short filtering errors, so their published numbers are comparable
    only for estimates of the right level.

    See Also
    --------
    mirex_globals : GNSDR, GSIR and GSAR over a set of clips.
    si_sdr : a faster, scale-invariant alternative that needs no museval.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import bss_eval
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.standard_normal((2, 8000))
    >>> estimates = sources + 0.1 * rng.standard_normal((2, 8000))
    >>> scores = bss_eval(sources, estimates, sample_rate=8000)
    >>> sorted(scores)
    ['sar', 'sdr', 'sir']
    >>> bool(np.all((scores["sdr"] > 15) & (scores["sdr"] < 25)))
    True
    >>> silent = np.stack([sources[0], np.zeros(8000)])
    >>> bss_eval(silent, estimates)["sdr"][1]    # undefined for a silent reference
    np.float64(nan)
    """
    references = _as_source_array(references, name="references")
    estimates = _as_source_array(estimates, name="estimates")
    if references.shape != estimates.shape:
        raise InvalidInputError(
            f"references has shape {references.shape} but estimates has shape "
            f"{estimates.shape}; expected one estimate per reference, of the same shape"
        )
    check_real(sample_rate, name="sample_rate", minimum=0.0, exclusive_minimum=True,
               allow_none=True)
    if references.ndim == 2:
        references, estimates = references[:, :, None], estimates[:, :, None]
    sdr, sir, sar = bss_eval_whole_clip(references, estimates)
    return {"sdr": sdr, "sir": sir, "sar": sar}
