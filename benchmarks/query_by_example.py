"""Query by example with a class-conditional model (Seetharaman et al. 2019, section 4.3).

An isolated source from a *training* clip (its vocals, or its accompaniment) is the
example; :meth:`sksep.ClassConditionalSeparator.query` extracts what resembles it from
every mixture of a set of clips the example does not come from. Each extraction is
scored with SI-SDRi against the source of the example's kind (``target``: higher is
better) and against the other source (``other``: lower means the query picked the
right one), for each query mask (``mask="posterior"`` and the paper's
``mask="likelihood"``). The model's supervised separation (:meth:`predict`, the class
posteriors of its learned GMM) is the reference row.

The query mask is chosen on the validation songs (MIR-1K training singers, the held-out
songs of ``compare_methods.py``; examples from the other training songs); the test clips
are scored once, for both masks, and reported beside them::

    python benchmarks/query_by_example.py --model benchmarks/_work/compare_methods/\
epochs-15/cc_tied_spherical-seed0.sksep

writes ``results/query_by_example.{json,md}`` (the Markdown is a section of RESULTS.md).
Examples are ``--examples`` training clips spread over the training songs; the spread
over examples is the standard deviation of their clip-mean SI-SDRi.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (MIR1K, RESULTS, json_safe, machine, machine_line, utc_now,  # noqa: E402
                     write_report)
from compare_methods import split  # noqa: E402

MASKS = ("posterior", "likelihood")


def example_indices(train_index, n_examples):
    """``n_examples`` training clips evenly spread over ``train_index`` (sorted by song)."""
    if not 1 <= n_examples <= len(train_index):
        raise SystemExit(f"--examples {n_examples} must be between 1 and {len(train_index)}")
    picks = np.linspace(0, len(train_index) - 1, n_examples).round().astype(int)
    return [train_index[i] for i in picks]


def query_scores(model, examples, X, Y, source, mask):
    """Clip-mean SI-SDRi toward ``source`` and toward the other source, one per example.

    Parameters
    ----------
    model : fitted ClassConditionalSeparator
    examples : list of 1-D ndarray
        Isolated examples of ``source`` (16 kHz).
    X : list of 1-D ndarray
        Mixtures.
    Y : list of ndarray (2, n_samples)
        Their sources, ``source`` one of the two rows.
    source : int
        Row of ``Y`` the examples are of.
    mask : {"posterior", "likelihood"}

    Returns
    -------
    dict with ``"target"`` and ``"other"``: lists of floats (dB), one per example.
    """
    from sksep.metrics import si_sdr_improvement

    other = 1 - source
    scores = {"target": [], "other": []}
    for example in examples:
        extracted = model.query([example], X, mask=mask)
        scores["target"].append(float(np.mean(
            [si_sdr_improvement(y[source], e, x) for x, y, e in zip(X, Y, extracted)])))
        scores["other"].append(float(np.mean(
            [si_sdr_improvement(y[other], e, x) for x, y, e in zip(X, Y, extracted)])))
    return scores


def predict_scores(model, X, Y):
    """Clip-mean SI-SDRi of the model's supervised estimate of each source."""
    from sksep.metrics import si_sdr_improvement

    estimates = model.predict(X)
    return [float(np.mean([si_sdr_improvement(y[s], e[s], x)
                           for x, y, e in zip(X, Y, estimates)])) for s in range(2)]


def evaluate(model, examples, X, Y, names):
    """Every mask and source kind on one set of clips, and the supervised reference."""
    rows = {"predict": dict(zip(names, predict_scores(model, X, Y)))}
    for mask in MASKS:
        rows[mask] = {name: query_scores(model, [y[s] for y in examples], X, Y, s, mask)
                      for s, name in enumerate(names)}
    return rows


def choose_mask(validation, names):
    """The mask whose validation SI-SDRi toward the example's source, averaged over
    source kinds and examples, is highest."""
    return max(MASKS, key=lambda mask: statistics.fmean(
        value for name in names for value in validation[mask][name]["target"]))


def _cell(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"


def report_markdown(result):
    names = result["source_names"]
    lines = ["# Query by example (class-conditional GMM, section 4.3)", "",
             f"Model `{result['model']}`; {result['n_examples']} isolated examples of each "
             f"source from training clips of the training songs; validation: "
             f"{result['n_validation']} clips of the held-out training songs, test: "
             f"{result['n_test']} clips of the test singers. SI-SDRi in dB, mean ± standard "
             f"deviation over examples of the unweighted clip mean; 'toward the other' is the SI-SDRi "
             f"of the extraction measured against the source the example is *not* of "
             f"(low is right). Query mask chosen on validation: **{result['chosen']}**. "
             f"{result['seconds'] / 60:.0f} min on {machine_line(result['machine'])}.", ""]
    lines += ["| mask | clips | " + " | ".join(
        f"{n} example: toward {n} | toward the other" for n in names) + " |",
        "|---|---|" + "---|---|" * len(names)]
    for split_name in ("validation", "test"):
        rows = result[split_name]
        for mask in MASKS:
            lines.append(f"| {mask} | {split_name} | " + " | ".join(
                f"{_cell(rows[mask][n]['target'])} | {_cell(rows[mask][n]['other'])}"
                for n in names) + " |")
        lines.append(f"| supervised `predict` | {split_name} | " + " | ".join(
            f"{rows['predict'][n]:.2f} | —" for n in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True,
                        help="a class-conditional model file or a registered model name")
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--examples", type=int, default=5,
                        help="isolated examples per source, from the training clips")
    parser.add_argument("--max-clips", type=int, default=None,
                        help="score only the first N validation and test clips (quick checks)")
    parser.add_argument("--output", type=Path, default=RESULTS / "query_by_example",
                        help="report path without suffix (.json and .md are written)")
    args = parser.parse_args(argv)

    import torch
    import sksep
    from sksep.datasets import load_mir1k

    torch.set_num_threads(1)
    started = time.perf_counter()
    model = sksep.load(args.model)
    if type(model).__name__ != "ClassConditionalSeparator":
        raise SystemExit(f"--model {args.model} is a {type(model).__name__}; expected a "
                         f"ClassConditionalSeparator")
    data = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test")
    train_index, valid_index = split(data)
    examples = [data.Y[i] for i in example_indices(train_index, args.examples)]
    names = list(data.source_names)
    n = args.max_clips
    valid = ([data.X[i] for i in valid_index][:n], [data.Y[i] for i in valid_index][:n])
    test_set = (list(test.X)[:n], list(test.Y)[:n])
    validation = evaluate(model, examples, *valid, names)
    result = {
        "benchmark": "query_by_example", "date": utc_now(), "model": str(args.model),
        "source_names": names, "n_examples": len(examples),
        "n_validation": len(valid[0]), "n_test": len(test_set[0]),
        "validation": validation, "chosen": choose_mask(validation, names),
        "test": evaluate(model, examples, *test_set, names),
        "machine": machine(threads=1), "seconds": time.perf_counter() - started,
    }
    write_report(args.output, json_safe(result), report_markdown(result))
    print(report_markdown(result))


if __name__ == "__main__":
    main()
