"""Separation quality metrics, their means over a test set, and scikit-learn scorers.

All values are in dB and higher is better. A source ``s`` (the reference), its
estimate ``ŝ`` and the mixture ``x`` are compared over a whole clip.

SI-SDR — scale-invariant signal-to-distortion ratio (:func:`si_sdr`)
    ``ŝ`` is split into ``αs``, its projection on the reference, and the rest;
    ``SI-SDR = 10 log10(||αs||² / ||ŝ - αs||²)``. Rescaling the estimate does not
    change it (Le Roux et al. 2019). Pure NumPy, fast.
SI-SDRi — SI-SDR improvement (:func:`si_sdr_improvement`)
    ``SI-SDR(ŝ) - SI-SDR(x)``: what the separation gained over leaving the
    mixture as it is; the "SDRi" of the deep-clustering and Chimera papers, and
    what every separator's ``score`` returns as a length-weighted mean over
    clips and sources (:func:`mean_si_sdr_improvement`).
BSS Eval SDR / SIR / SAR (:func:`bss_eval`, through ``museval``)
    ``ŝ`` is decomposed, with short time-invariant filters, into the
    (filtered) reference, interference from the other references, and
    artifacts. SDR compares the reference with all the rest, SIR with the
    interference only (leakage of the other sources), SAR with the artifacts
    only (what no reference explains).
GNSDR / GSIR / GSAR — MIREX global scores (:func:`mirex_globals`)
    Over a test set, per source: GNSDR is the mean of the normalised SDR
    ``NSDR = SDR(ŝ) - SDR(x)`` weighted by the clip lengths; GSIR and GSAR are
    the length-weighted means of SIR and SAR (Huang et al. 2014 on MIR-1K).

Silent references (energy below ``1e-10`` per sample) make these ratios
undefined: :func:`bss_eval` reports NaN for them and every mean leaves them
out. So do the improvements (SI-SDRi, NSDR) of a source that is the whole
mixture because the other sources are silent: there is nothing to separate.

Separators that return sources in an arbitrary order are scored after
:func:`best_permutation`. :func:`separation_report` gathers SI-SDRi and the
MIREX globals per source (:func:`separation_scores` adds the scores of every
clip), and :func:`format_report_table` prints several reports (mixture,
oracle, model) as one Markdown table. The scorers
(:func:`si_sdri_scorer`, :func:`make_separation_scorer`, :func:`get_scorer`)
plug the metrics into ``GridSearchCV(scoring=...)``.
"""

from ._aggregate import (best_permutation, format_report_table, mean_si_sdr_improvement,
                         mirex_globals, separation_report, separation_scores)
from ._bss_eval import bss_eval
from ._mask_metrics import mask_iou, mask_psnr
from ._scorers import get_scorer, make_separation_scorer, si_sdri_scorer
from ._si_sdr import si_sdr, si_sdr_improvement

__all__ = [
    "si_sdr",
    "si_sdr_improvement",
    "best_permutation",
    "mean_si_sdr_improvement",
    "bss_eval",
    "mirex_globals",
    "separation_scores",
    "separation_report",
    "format_report_table",
    "si_sdri_scorer",
    "make_separation_scorer",
    "get_scorer",
    "mask_iou",
    "mask_psnr",
]
