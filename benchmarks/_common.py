"""What the benchmark scripts share: paths, the machine record, reports and paired timing.

The scripts run as ``python benchmarks/<script>.py``, so they import this module as
``_common``. It imports the standard library only (:func:`atomic_write_text` imports
sksep's atomic write when called): ``make_report.py`` and
``run_all.py`` stay light, and ``bench_dc_loss.py``, whose workers run in the peer
libraries' virtual environments (no sksep there), can import it too. Helpers that need
sksep import it when called.

How things are measured is in ``../../shared/BENCHMARKS.md``: programs are compared as
the median of per-round ratios over paired rounds (:func:`paired_rounds`,
:func:`ratio_summary`), and every result names the machine it came from
(:func:`machine`).
"""

import contextlib
import json
import os
import platform
import statistics
import time
from importlib import metadata
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
#: The JSON (and Markdown) files of the ``bench_*.py`` scripts; ``make_report.py`` reads them.
RESULTS = BENCHMARKS / "results"
#: The data folder beside the repository (BENCHMARKS.md, "Data").
DATA = ROOT.parent / "shared" / "data"
MIR1K = DATA / "MIR-1K"
MUSDB_EXCERPTS = DATA / "MUSDB18-excerpts"


# -- the machine record -------------------------------------------------------------------

def utc_now():
    """The current time as ``"YYYY-MM-DD HH:MM UTC"``."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def machine(**extra):
    """Where and when a measurement ran, as a JSON-ready dict.

    Keys: ``cpu``, ``cores``, ``python``, ``torch`` (the installed version, when torch
    is installed), then ``extra`` (e.g. ``threads=1``), ``load_average`` (1, 5 and 15
    minutes, now: call it at the end of a run) and ``date_utc``.
    """
    record = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "python": platform.python_version()}
    with contextlib.suppress(metadata.PackageNotFoundError):
        record["torch"] = metadata.version("torch")
    record.update(extra)
    record["load_average"] = [round(x, 2) for x in os.getloadavg()]
    record["date_utc"] = utc_now()
    return record


def machine_line(record):
    """One line of prose for a :func:`machine` record (or the free text older results hold)."""
    if not record:
        return ""
    if isinstance(record, str):
        return record
    load_avg = record.get("load_average")
    return (f"{record.get('cpu', '?')}, {record.get('cores', '?')} cores"
            + (f", torch {record['torch']}" if record.get("torch") else "")
            + (f", load average {load_avg[0]:.1f} at the end" if load_avg else "")
            + (f", {record['date_utc']}" if record.get("date_utc") else ""))


def one_thread_env(**extra):
    """``os.environ`` with one OpenMP and MKL thread (and ``extra``), for child processes."""
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)


# -- paired timing ------------------------------------------------------------------------

def paired_rounds(first, second, rounds):
    """Time ``first()`` then ``second()``, ``rounds`` times; return both lists of seconds.

    Each round runs the two back to back, so both see the same machine state: compare
    them with :func:`ratio_summary`, never as a ratio of separate medians.
    """
    first_seconds, second_seconds = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        first_seconds.append(t1 - t0)
        second_seconds.append(t2 - t1)
    return first_seconds, second_seconds


def ratio_summary(numerators, denominators):
    """Median, min and max of the per-round ratios ``numerators[i] / denominators[i]``."""
    ratios = [a / b for a, b in zip(numerators, denominators)]
    return {"ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
            "ratio_max": max(ratios)}


# -- reports ------------------------------------------------------------------------------

def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` whole or not at all, replacing a file there;
    missing folders are created. sksep's own atomic write (:func:`sksep._atomic.atomic_write`:
    a hidden temporary file beside it, flushed, then renamed onto it), imported when
    called so that this module stays light."""
    from sksep._atomic import atomic_write  # TODO(public API)

    def write(temporary):
        Path(temporary).write_text(text, encoding="utf-8")

    return atomic_write(path, write, overwrite=True)


def write_report(stem, result, markdown=None):
    """Write ``result`` to ``stem.json`` and ``markdown``, if given, to ``stem.md``.

    ``stem`` is a path without suffix, e.g. ``RESULTS / "features"``. Each file is
    written atomically (:func:`atomic_write_text`), so an interrupted run leaves the
    previous report intact.
    """
    stem = Path(stem)
    atomic_write_text(stem.with_suffix(".json"), json.dumps(result, indent=2) + "\n")
    if markdown is not None:
        atomic_write_text(stem.with_suffix(".md"), markdown)


def json_safe(value):
    """A copy of ``value`` that strict JSON holds: non-finite floats (an oracle's mask PSNR
    is inf) and objects JSON does not know (numpy scalars, paths) become their ``str``."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


# -- scores -------------------------------------------------------------------------------

def score_clips(data, estimates):
    """SI-SDRi and the MIREX GNSDR / GSIR / GSAR of ``estimates`` of the clips of ``data``
    (a :func:`sksep.datasets.load_mir1k` result), per source, BSS Eval in this process."""
    from sksep.metrics import separation_report

    return separation_report(data.Y, estimates, data.X, source_names=list(data.source_names),
                             bss=True, n_jobs=1)


def at_ratio(test, ratio_db):
    """Test mixtures and sources with the vocals scaled by ``ratio_db`` dB."""
    import numpy as np

    gain = np.float32(10 ** (ratio_db / 20))
    Y = [np.stack([y[0] * gain, y[1]]) for y in test.Y]
    return [y.sum(axis=0) for y in Y], Y


def scores_at_ratios(model, test, ratios, n_jobs=2):
    """Both heads' scores on the test clips with the vocals at each of ``ratios`` dB
    against the accompaniment (0: the data set's own mixes):
    ``{"0 dB" or "+5 dB" ...: {"mi": report, "dc": report}}``. Leaves the MI head set."""
    from sksep.metrics import separation_report

    scores = {}
    for ratio in ratios:
        X, Y = (test.X, test.Y) if ratio == 0 else at_ratio(test, ratio)
        key = "0 dB" if ratio == 0 else f"{ratio:+g} dB"
        for head in ("mi", "dc"):
            model.set_params(head=head)
            scores.setdefault(key, {})[head] = separation_report(
                Y, model.predict(X), X, source_names=test.source_names, n_jobs=n_jobs)
    model.set_params(head="mi")
    return scores
