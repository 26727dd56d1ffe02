"""Metrics over a set of clips: length-weighted means, MIREX globals, permutations, reports."""

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import linear_sum_assignment

from .._validation import check_int, check_mixtures, check_sources
from ..exceptions import InvalidInputError, InvalidParameterTypeError
from ._bss_eval import bss_eval_whole_clip, import_museval_metrics, silent_sources
from ._si_sdr import as_signals, si_sdr, si_sdr_improvement

__all__ = [
    "best_permutation",
    "mean_si_sdr_improvement",
    "mirex_globals",
    "separation_scores",
    "separation_report",
    "format_report_table",
]


def check_clips(Y_true, Y_pred, X):
    """Validate a set of clips; return float64 lists ``(refs, ests, mixes)``.

    ``refs[i]`` and ``ests[i]`` are ``(n_sources, n_i)`` and ``mixes[i]`` is ``(n_i,)``.
    The shared validators check shapes, lengths, dtypes and NaN; the arrays are then
    re-read from the arguments in float64, as the validators hand back float32.
    """
    mixtures, _ = check_mixtures(X, name="X")
    lengths = [len(mixture) for mixture in mixtures]
    references = check_sources(Y_true, lengths, name="Y_true")
    check_sources(Y_pred, lengths, name="Y_pred", n_sources=references[0].shape[0])
    refs = [np.asarray(Y_true[i], dtype=np.float64) for i in range(len(lengths))]
    ests = [np.asarray(Y_pred[i], dtype=np.float64) for i in range(len(lengths))]
    mixes = [np.asarray(X[i], dtype=np.float64) for i in range(len(lengths))]
    return refs, ests, mixes


def check_bool(value, *, name):
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterTypeError(f"{name}={value!r} must be True or False")
    return bool(value)


def _check_source_names(source_names, n_sources):
    if source_names is None:
        return [f"source{j}" for j in range(n_sources)]
    if isinstance(source_names, str) or not hasattr(source_names, "__len__"):
        raise InvalidParameterTypeError(
            f"source_names must be a list of {n_sources} strings, got {source_names!r}"
        )
    names = list(source_names)
    if len(names) != n_sources or not all(isinstance(name, str) for name in names):
        raise InvalidInputError(
            f"source_names={names!r} must be {n_sources} strings, one per source"
        )
    if len(set(names)) != len(names):
        raise InvalidInputError(f"source_names={names!r} must not repeat a name")
    return names


def _check_n_jobs(n_jobs):
    n_jobs = check_int(n_jobs, name="n_jobs", allow_none=True)
    if n_jobs == 0:
        raise InvalidInputError("n_jobs=0 must be a nonzero integer (-1: all cores) or None")
    return n_jobs


def weighted_nanmean(values, weights, axis=None):
    """Mean of ``values`` weighted by ``weights`` (broadcast), NaN entries left out.

    Where no entry is left the result is NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    kept = ~np.isnan(values)
    weights = np.where(kept, weights, 0.0)
    total = weights.sum(axis=axis)
    weighted = (weights * np.where(kept, values, 0.0)).sum(axis=axis)
    return np.divide(weighted, total, out=np.full(np.shape(total), np.nan), where=total > 0)


def best_permutation(references, estimates, metric=si_sdr):
    """Order of the estimates that best matches the references.

    Some separators (deep clustering, K-means at predict) return their sources
    in an arbitrary order. This finds the assignment of estimates to references
    with the highest mean ``metric``, by the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) on the
    ``(n_sources, n_sources)`` matrix of pairwise scores, so it stays fast for
    many sources.

    Parameters
    ----------
    references : array-like of shape (n_sources, n_samples)
        True sources.
    estimates : array-like of shape (n_sources, n_samples)
        Estimated sources, in any order.
    metric : callable, default=si_sdr
        ``metric(reference, estimate) -> float``, higher is better, with 1-D
        inputs ``(n_samples,)``. Must return finite values.

    Returns
    -------
    perm : tuple of int, length n_sources
        ``estimates[perm[i]]`` is the estimate of ``references[i]``; reorder
        with ``estimates[list(perm)]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import best_permutation
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.standard_normal((3, 4000))
    >>> best_permutation(sources, sources[[2, 0, 1]])
    (1, 2, 0)
    """
    references = as_signals(references, name="references")
    estimates = as_signals(estimates, name="estimates")
    if references.ndim != 2 or references.shape != estimates.shape:
        raise InvalidInputError(
            f"references and estimates must be 2-D arrays (n_sources, n_samples) of the "
            f"same shape, got shapes {references.shape} and {estimates.shape}"
        )
    if not callable(metric):
        raise InvalidParameterTypeError(
            f"metric={metric!r} must be a callable metric(reference, estimate) -> float"
        )
    n_sources = len(references)
    scores = np.array([[float(metric(references[i], estimates[k])) for k in range(n_sources)]
                       for i in range(n_sources)])
    if not np.all(np.isfinite(scores)):
        raise InvalidInputError(
            f"metric={getattr(metric, '__name__', metric)!r} gave non-finite scores "
            f"{scores.tolist()}; expected finite values to compare permutations"
        )
    rows, columns = linear_sum_assignment(scores, maximize=True)
    return tuple(int(column) for column in columns[np.argsort(rows)])


def reorder_estimates(refs, ests):
    """Each clip's estimates in the order of :func:`best_permutation` (SI-SDR)."""
    return [est[list(best_permutation(ref, est))] for ref, est in zip(refs, ests)]


def _improvement_undefined(reference, mixture):
    """Sources ``(n_sources,)`` whose improvement over the mixture means nothing.

    Either the reference is silent, or the mixture is the reference itself (the
    other sources are silent): there is nothing to separate and the mixture's
    score is unbounded.
    """
    return silent_sources(reference) | silent_sources(mixture[None, :] - reference)


def si_sdri_table(refs, ests, mixes):
    """SI-SDRi of every clip and source, ``(n_clips, n_sources)``; NaN where undefined."""
    table = np.empty((len(refs), refs[0].shape[0]))
    for i, (ref, est, mix) in enumerate(zip(refs, ests, mixes)):
        table[i] = si_sdr_improvement(ref, est, mix)
        table[i, _improvement_undefined(ref, mix)] = np.nan
    return table


def mean_si_sdr_improvement(Y_true, Y_pred, X, *, permutation_invariant=False):
    """Length-weighted mean SI-SDR improvement over clips and sources, in dB.

    Every (clip, source) pair counts with the clip's length ``n_i`` as weight,
    so a long song weighs more than a short one, as in Luo et al. (Chimera)::

        sum_i sum_j n_i * SI-SDRi(i, j) / sum_i sum_j n_i

    A source is left out of the mean for a clip where its reference is silent
    (energy below ``1e-10`` per sample, i.e. effectively zero), and where the
    mixture *is* its reference because all the other sources are silent (e.g. the
    accompaniment of a clip with no vocals): there is nothing to separate, the
    mixture's SI-SDR is unbounded, and either case would swamp the mean with a
    meaningless number.

    Parameters
    ----------
    Y_true : ndarray of shape (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
        True sources, in the same order for every clip.
    Y_pred : same structure as ``Y_true``
        Estimated sources, e.g. ``estimator.predict(X)``.
    X : ndarray of shape (n_clips, n_samples) or list of (n_i,) arrays
        The mono mixtures.
    permutation_invariant : bool, default=False
        Reorder each clip's estimates by :func:`best_permutation` first, for
        separators whose output order is arbitrary.

    Returns
    -------
    score : float
        In dB, higher is better.

    Raises
    ------
    InvalidInputError
        If the numbers of clips or sources differ, a source is not as long as its
        mixture, the audio has NaN or inf, or no (clip, source) pair is left.

    See Also
    --------
    si_sdr_improvement : the value of one clip.
    separation_report : the same mean per source, with the MIREX globals.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import mean_si_sdr_improvement
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, n)) for n in (8000, 16000)]
    >>> X = [y.sum(axis=0) for y in Y]
    >>> mean_si_sdr_improvement(Y, [np.stack([x, x]) for x in X], X)   # no separation
    0.0
    >>> Y_pred = [y + 0.1 * rng.standard_normal(y.shape) for y in Y]
    >>> round(mean_si_sdr_improvement(Y, Y_pred, X))
    20
    >>> swapped = [y[::-1] for y in Y_pred]
    >>> round(mean_si_sdr_improvement(Y, swapped, X, permutation_invariant=True))
    20
    """
    refs, ests, mixes = check_clips(Y_true, Y_pred, X)
    if check_bool(permutation_invariant, name="permutation_invariant"):
        ests = reorder_estimates(refs, ests)
    table = si_sdri_table(refs, ests, mixes)
    lengths = np.array([len(mix) for mix in mixes], dtype=np.float64)
    score = float(weighted_nanmean(table, lengths[:, None]))
    if np.isnan(score):
        raise InvalidInputError(
            "SI-SDR improvement is undefined: in every clip of Y_true, every reference "
            "source is silent (energy below 1e-10 per sample) or is the whole mixture"
        )
    return score


def _bss_eval_clip(reference, estimate, mixture):
    """SDR, SIR, SAR and NSDR of one clip's estimates, ``(4, n_sources)``, NaN if undefined."""
    sdr, sir, sar = bss_eval_whole_clip(reference[:, :, None], estimate[:, :, None])
    mixture_as_estimates = np.broadcast_to(mixture[None, :, None], reference.shape + (1,))
    nsdr = sdr - bss_eval_whole_clip(reference[:, :, None], mixture_as_estimates)[0]
    nsdr[_improvement_undefined(reference, mixture)] = np.nan
    return np.stack([sdr, sir, sar, nsdr])


def clip_globals(refs, ests, mixes, names, n_jobs):
    """:func:`mirex_globals` of clips already checked by :func:`check_clips`."""
    import_museval_metrics()  # fail here, not in a worker, if museval cannot be used
    per_clip = Parallel(n_jobs=n_jobs)(
        delayed(_bss_eval_clip)(ref, est, mix) for ref, est, mix in zip(refs, ests, mixes)
    )
    sdr, sir, sar, nsdr = np.moveaxis(np.array(per_clip), 1, 0)
    lengths = np.array([len(mix) for mix in mixes], dtype=np.int64)
    weights = lengths[:, None].astype(np.float64)
    return {
        "GNSDR": weighted_nanmean(nsdr, weights, axis=0),
        "GSIR": weighted_nanmean(sir, weights, axis=0),
        "GSAR": weighted_nanmean(sar, weights, axis=0),
        "per_clip": {"sdr": sdr, "sir": sir, "sar": sar, "nsdr": nsdr, "lengths": lengths},
        "source_names": list(names),
    }


def mirex_globals(Y_true, Y_pred, X, *, source_names=None, n_jobs=None):
    """MIREX global scores GNSDR, GSIR and GSAR of each source over a set of clips, in dB.

    For each clip ``i`` and source ``j``, whole-clip :func:`bss_eval` gives the
    SDR, SIR and SAR of the estimate, and the SDR of the mixture used as the
    estimate of every source. Then, with the clip lengths ``n_i`` as weights
    (the definition of the MIREX singing-voice separation task, used by Huang
    et al. 2014 on MIR-1K)::

        NSDR(i, j) = SDR(estimate) - SDR(mixture)
        GNSDR(j)   = sum_i n_i NSDR(i, j) / sum_i n_i
        GSIR(j), GSAR(j): the same weighted means of SIR and SAR

    Undefined entries are NaN and left out of the means; a source with no
    defined entry gets NaN. They are: all values of a silent reference (see
    :func:`bss_eval`); SIR and SAR of an all-zero estimate; SIR where no other
    reference is non-silent; and NSDR where the mixture is the reference itself
    (the other sources silent), as in :func:`mean_si_sdr_improvement`.

    Parameters
    ----------
    Y_true : ndarray of shape (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
        True sources.
    Y_pred : same structure as ``Y_true``
        Estimated sources, in the same order (see :func:`best_permutation`).
    X : ndarray of shape (n_clips, n_samples) or list of (n_i,) arrays
        The mono mixtures.
    source_names : list of str, optional
        One name per source; default ``["source0", "source1", ...]``.
    n_jobs : int, optional
        Clips evaluated in parallel by joblib (``-1``: all cores). The results
        are identical to a serial run.

    Returns
    -------
    scores : dict
        ``"GNSDR"``, ``"GSIR"``, ``"GSAR"``: ndarray of float64, ``(n_sources,)``;
        ``"per_clip"``: dict of ``"sdr"``, ``"sir"``, ``"sar"``, ``"nsdr"``, each
        ``(n_clips, n_sources)`` in dB, and ``"lengths"``, ``(n_clips,)`` in samples;
        ``"source_names"``: list of str.

    See Also
    --------
    bss_eval : the per-clip values.
    separation_report : these globals with SI-SDRi, per source name.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import mirex_globals
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, n)) for n in (4000, 8000)]
    >>> X = [y.sum(axis=0) for y in Y]
    >>> Y_pred = [y + 0.1 * rng.standard_normal(y.shape) for y in Y]
    >>> scores = mirex_globals(Y, Y_pred, X, source_names=["vocals", "accompaniment"])
    >>> np.round(scores["GNSDR"])   # SDR 20 dB, mixture at 0 dB
    array([20., 20.])
    >>> scores["per_clip"]["sdr"].shape, scores["per_clip"]["lengths"]
    ((2, 2), array([4000, 8000]))
    """
    refs, ests, mixes = check_clips(Y_true, Y_pred, X)
    names = _check_source_names(source_names, refs[0].shape[0])
    n_jobs = _check_n_jobs(n_jobs)
    return clip_globals(refs, ests, mixes, names, n_jobs)


def separation_scores(Y_true, Y_pred, X, *, source_names=None, bss=True,
                      permutation_invariant=False, n_jobs=None):
    """Scores of every clip and source, and their means per source over the set.

    What ``sksep evaluate`` prints: per clip and source the SI-SDR improvement and,
    with ``bss=True``, the BSS Eval SDR, SIR, SAR and NSDR; per source the
    length-weighted SI-SDRi and the MIREX globals (:func:`separation_report`).

    Parameters
    ----------
    Y_true, Y_pred, X
        As in :func:`mean_si_sdr_improvement`.
    source_names : list of str, optional
        One name per source; default ``["source0", "source1", ...]``.
    bss : bool, default=True
        Also compute BSS Eval (slower, needs museval and ffmpeg).
    permutation_invariant : bool, default=False
        Reorder each clip's estimates by :func:`best_permutation` first; the
        reordered estimates are used for every metric.
    n_jobs : int, optional
        Clips evaluated in parallel for BSS Eval, see :func:`mirex_globals`.

    Returns
    -------
    scores : dict
        - ``"per_clip"``: dict of metric name to ndarray of float64,
          ``(n_clips, n_sources)``, in dB: ``"SI-SDRi"`` and, with ``bss=True``,
          ``"SDR"``, ``"SIR"``, ``"SAR"`` and ``"NSDR"``; NaN where undefined
          (see :func:`mean_si_sdr_improvement` and :func:`mirex_globals`).
        - ``"overall"``: :func:`separation_report`'s dict,
          ``{source_name: {"SI-SDRi": ..., "GNSDR": ..., "GSIR": ..., "GSAR": ...}}``.
        - ``"lengths"``: ndarray of int64, ``(n_clips,)``, in samples (the weights).
        - ``"source_names"``: list of str.

    See Also
    --------
    separation_report : Only the means per source.
    format_report_table : Print several reports as one Markdown table.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import separation_scores
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, n)) for n in (4000, 8000)]
    >>> X = [y.sum(axis=0) for y in Y]
    >>> Y_pred = [y + 0.1 * rng.standard_normal(y.shape) for y in Y]
    >>> scores = separation_scores(Y, Y_pred, X, source_names=["vocals", "accompaniment"])
    >>> sorted(scores["per_clip"]), scores["per_clip"]["SDR"].shape
    (['NSDR', 'SAR', 'SDR', 'SI-SDRi', 'SIR'], (2, 2))
    >>> round(scores["overall"]["vocals"]["SI-SDRi"]), scores["lengths"]
    (20, array([4000, 8000]))
    """
    refs, ests, mixes = check_clips(Y_true, Y_pred, X)
    names = _check_source_names(source_names, refs[0].shape[0])
    bss = check_bool(bss, name="bss")
    n_jobs = _check_n_jobs(n_jobs)
    if check_bool(permutation_invariant, name="permutation_invariant"):
        ests = reorder_estimates(refs, ests)
    lengths = np.array([len(mix) for mix in mixes], dtype=np.int64)
    per_clip = {"SI-SDRi": si_sdri_table(refs, ests, mixes)}
    means = weighted_nanmean(per_clip["SI-SDRi"], lengths[:, None].astype(np.float64), axis=0)
    overall = {name: {"SI-SDRi": float(value)} for name, value in zip(names, means)}
    if bss:
        scores = clip_globals(refs, ests, mixes, names, n_jobs)
        for key in ("SDR", "SIR", "SAR", "NSDR"):
            per_clip[key] = scores["per_clip"][key.lower()]
        for j, name in enumerate(names):
            for key in ("GNSDR", "GSIR", "GSAR"):
                overall[name][key] = float(scores[key][j])
    return {"per_clip": per_clip, "overall": overall, "lengths": lengths,
            "source_names": names}


def separation_report(Y_true, Y_pred, X, *, source_names=None, bss=True,
                      permutation_invariant=False, n_jobs=None):
    """Scores of each source over a set of clips, ready to print.

    Parameters
    ----------
    Y_true, Y_pred, X, source_names, bss, permutation_invariant, n_jobs
        As in :func:`separation_scores`; with ``bss=False`` only SI-SDRi is computed.

    Returns
    -------
    report : dict of str to dict of str to float
        ``{source_name: {"SI-SDRi": ..., "GNSDR": ..., "GSIR": ..., "GSAR": ...}}`` in
        dB; SI-SDRi is the length-weighted mean over clips of that source (clips
        where it is undefined left out, see :func:`mean_si_sdr_improvement`), the
        globals are those of :func:`mirex_globals` and are present only when
        ``bss=True``. NaN where undefined in every clip.

    See Also
    --------
    separation_scores : The same, with the scores of every clip.
    format_report_table : print several reports as one Markdown table.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import separation_report
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, 8000)) for _ in range(2)]
    >>> report = separation_report(Y, [y + 0.1 * rng.standard_normal(y.shape) for y in Y],
    ...                            [y.sum(axis=0) for y in Y],
    ...                            source_names=["vocals", "accompaniment"])
    >>> sorted(report["vocals"])
    ['GNSDR', 'GSAR', 'GSIR', 'SI-SDRi']
    >>> round(report["vocals"]["SI-SDRi"])
    20
    """
    return separation_scores(Y_true, Y_pred, X, source_names=source_names, bss=bss,
                             permutation_invariant=permutation_invariant,
                             n_jobs=n_jobs)["overall"]


def format_report_table(reports, *, floatfmt=".2f"):
    """Markdown table of several :func:`separation_report` results, one row each.

    Parameters
    ----------
    reports : dict of str to report
        ``{row_label: report}``, e.g. ``{"mixture": ..., "oracle IBM": ...,
        "model": ...}``; rows keep this order.
    floatfmt : str, default=".2f"
        Format spec of the values (dB).

    Returns
    -------
    table : str
        A Markdown table with columns ``"<source> <metric>"`` in the order first
        seen; a cell a report lacks is left empty.

    Examples
    --------
    >>> from sksep.metrics import format_report_table
    >>> reports = {
    ...     "mixture": {"vocals": {"SI-SDRi": 0.0, "GNSDR": 0.0}},
    ...     "model": {"vocals": {"SI-SDRi": 7.512, "GNSDR": 6.0}},
    ... }
    >>> print(format_report_table(reports))
    |         | vocals SI-SDRi | vocals GNSDR |
    |---------|---------------:|-------------:|
    | mixture |           0.00 |         0.00 |
    | model   |           7.51 |         6.00 |
    """
    if not isinstance(reports, dict) or not reports:
        raise InvalidInputError(
            f"reports must be a non-empty dict {{row_label: report}}, got {reports!r}"
        )
    columns = []
    for label, report in reports.items():
        if not isinstance(report, dict) or not all(isinstance(v, dict)
                                                   for v in report.values()):
            raise InvalidInputError(
                f"reports[{label!r}] must be a dict {{source: {{metric: value}}}} as "
                f"returned by separation_report, got {report!r}"
            )
        for source, metrics in report.items():
            for metric in metrics:
                if (source, metric) not in columns:
                    columns.append((source, metric))
    try:
        format(0.0, floatfmt)
    except (ValueError, TypeError):
        raise InvalidInputError(f"floatfmt={floatfmt!r} is not a valid float format") from None

    header = [""] + [f"{source} {metric}" for source, metric in columns]
    rows = [[str(label)] + [format(report[source][metric], floatfmt)
                            if metric in report.get(source, {}) else ""
                            for source, metric in columns]
            for label, report in reports.items()]
    widths = [max(len(row[c]) for row in [header] + rows) for c in range(len(header))]
    widths = [max(width, 3) for width in widths]

    def line(cells):
        padded = [cells[0].ljust(widths[0])] + [cell.rjust(width)
                                                 for cell, width in zip(cells[1:], widths[1:])]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(["-" * (widths[0] + 2)]
                          + ["-" * (width + 1) + ":" for width in widths[1:]]) + "|"
    return "\n".join([line(header), rule] + [line(row) for row in rows])
