"""Every separation method at the same CPU budget, several seeds (issue 16).

Each method is trained on MIR-1K's training singers (abjones, amy) minus two whole
held-out songs, one per singer (:data:`VALIDATION_SONGS`), which are the validation data:
the learning curves, the best epoch kept and every choice are made on them. A run trains
one method with one seed for ``--budget`` seconds of process CPU time on one torch thread
(:class:`sksep.callbacks.TimeBudget` with ``clock="process"``), so runs sharing a busy
machine get the same computation. The test clips (annar, heycat, tammy: 90 clips) are
scored once per finished run.

Runs are resumable and can be spread over days and processes: each run's result is
written as soon as it finishes to ``results/compare_methods/budget-<B>/<row>-seed<S>.json``
and a finished run is never repeated; a run in progress holds a ``.lock`` file (its
process id), so two workers (one per core) can share the queue::

    python benchmarks/compare_methods.py run --budget 240 --seeds 0 1 2 &
    python benchmarks/compare_methods.py run --budget 240 --seeds 0 1 2 &
    python benchmarks/compare_methods.py report --budget 240

``--epochs N`` instead of ``--budget`` gives every run the same number of epochs
(results under ``epochs-N/``, report ``results/compare_methods_epochs-N.{md,json,png}``):
rows whose epochs cost very different CPU time (the context CNN 6x the DNN's) then see
the same data as often, and the learning curves are plotted per epoch.

``rescore`` scores saved runs again with the current inference code (their models are
saved float16 in the ignored ``benchmarks/_work/compare_methods/``), keeping the
training record and the superseded scores::

    python benchmarks/compare_methods.py rescore --budget 240 --seeds 0 --only chimera_wkm

Shipping the best kept model of a family (``tools/ship_compare_methods.py``) reads these
results; this script writes nothing into the package.

``report`` writes ``results/compare_methods.{md,json}`` (mean and standard deviation over
seeds of every row, with the oracles) and ``results/compare_methods.png`` (validation loss
against CPU time, one panel per family).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from _common import MIR1K, RESULTS
from _common import atomic_write_text, json_safe, machine, utc_now, write_report


class Budget(NamedTuple):
    """What every run gets: ``amount`` seconds of process CPU time (``kind="cpu"``) or
    ``amount`` epochs (``kind="epochs"``)."""

    kind: str
    amount: float

    @property
    def folder(self):
        return f"budget-{self.amount:g}" if self.kind == "cpu" else f"epochs-{self.amount:g}"

    @property
    def option(self):
        return f"--budget {self.amount:g}" if self.kind == "cpu" else f"--epochs {self.amount:g}"

    @property
    def report_name(self):
        """The report's file stem: the 240-s budget keeps the historical name."""
        if self == Budget("cpu", 240.0):
            return "compare_methods"
        return f"compare_methods_{self.folder}"

    @property
    def title(self):
        return (f"{self.amount:g} CPU seconds" if self.kind == "cpu"
                else f"{self.amount:g} epochs")

    def position(self, entry):
        """Where an epoch's history entry lies in the budget (CPU seconds or epochs)."""
        return entry.get("cpu", 0.0) if self.kind == "cpu" else entry["epoch"]

    def describe(self):
        if self.kind == "cpu":
            return (f"{self.amount:g} s of process CPU time per run on one torch thread "
                    f"(`TimeBudget(clock='process')`)")
        return f"{self.amount:g} epochs per run on one torch thread"

#: One whole song per training singer, held out as validation data (about 5 % of each
#: singer's clips; the other songs of both singers train).
VALIDATION_SONGS = ("abjones_5", "amy_9")

#: Where every run's fitted model is kept (ignored by git; float16 ``.sksep`` files).
MODELS = Path(__file__).resolve().parent / "_work" / "compare_methods"

#: Families of rows: one panel of learning curves each.
FAMILIES = {
    "deep clustering": ("dc", "chimera"),
    "class-conditional": ("cc_tied_spherical", "cc_spherical", "cc_tied_diag", "cc_diag",
                          "cc_sigmoid"),
    "convolutional": ("dnn", "cnn_mse", "cnn_nll", "cnn_nll_equal"),
    "U-Net": ("unet", "uhnet"),
    # Levers of the quality issue (15) screened at the same budget against "chimera".
    "Chimera levers": ("chimera", "chimera_psa", "chimera_wkm", "chimera_linear",
                       "chimera_stft"),
}

#: Rows that run only when asked with ``--only``: the paper's unweighted NLL and the
#: quality issue's levers.
EXTRA_ROWS = ("cnn_nll_equal", "chimera_psa", "chimera_wkm", "chimera_linear",
              "chimera_stft")

#: The rows run by default, in queue order (:data:`EXTRA_ROWS` are not among them).
DEFAULT_ROWS = ("dc", "chimera", "cc_tied_spherical", "cc_sigmoid", "dnn", "cnn_mse",
                "cnn_nll", "unet", "uhnet", "cc_spherical", "cc_tied_diag", "cc_diag")

#: Published figures on MIR-1K (vocals GNSDR, dB) where a paper reports one.
PUBLISHED = {"Huang et al. 2014 (deep RNN, all 825 test clips)": 7.45,
             "Park et al. 2018 (stacked hourglass)": 10.51}


def recurrent(**extra):
    """The BLSTM body every recurrent row shares: 2 x 128, D = 20, 100-frame segments."""
    return dict(hidden_size=128, num_layers=2, segment_frames=100, **extra)


def make_estimator(row, seed):
    """``(label, estimator, heads)`` of a row; ``heads`` are the ``head`` values scored."""
    from sksep import (ChimeraSeparator, ClassConditionalSeparator, ConvMaskSeparator,
                       DeepClusteringSeparator, MelFeatures, UNetSeparator)

    common = dict(max_epochs=100_000, patience=None, random_state=seed)
    linear = MelFeatures(frequency_scale="linear", n_fft=1024, hop_length=256, deltas=False)
    mel128 = MelFeatures(n_mels=128, deltas=False)
    cnn = dict(conv_layers=2, channels=4, hidden_size=256, features=linear, **common)
    unet = dict(channels=8, batch_size=16, features=mel128, **common)
    if row == "dc":
        return "DC (Hershey et al.)", DeepClusteringSeparator(**recurrent(), **common), [None]
    if row == "chimera":
        return ("Chimera, alpha 0.1", ChimeraSeparator(alpha=0.1, **recurrent(), **common),
                ["mi", "dc"])
    if row.startswith("chimera_"):
        lever = {"chimera_psa": ("MI head: truncated phase-sensitive target",
                                 dict(mi_objective="psa")),
                 "chimera_wkm": ("DC head: whitened K-means objective",
                                 dict(dc_objective="wkm")),
                 "chimera_linear": ("linear-frequency features and masks (257 bins)",
                                    dict(features=MelFeatures(frequency_scale="linear"))),
                 "chimera_stft": ("MI head: mel features, masks on the 257 STFT bins",
                                  dict(mask_grid="stft"))}
        if row in lever:
            text, settings = lever[row]
            return (f"Chimera, alpha 0.1, {text}",
                    ChimeraSeparator(alpha=0.1, **settings, **recurrent(), **common),
                    ["mi", "dc"])
    if row.startswith("cc_"):
        covariance = None if row == "cc_sigmoid" else row[3:]
        label = ("class-conditional, sigmoid baseline" if covariance is None
                 else f"class-conditional, {covariance.replace('_', ' ')} GMM")
        return (label, ClassConditionalSeparator(covariance_type=covariance,
                                                 source_names=("vocals", "accompaniment"),
                                                 **recurrent(), **common), [None])
    if row == "dnn":
        return ("dnn (mse, 5 frames, 2 x 512)",
                ConvMaskSeparator(conv_layers=0, hidden_size=512, features=linear, **common),
                [None])
    if row == "cnn_mse":
        return "cnn (mse)", ConvMaskSeparator(objective="mse", **cnn), [None]
    if row == "cnn_nll":
        return ("cnn (nll, magnitude bin weights)",
                ConvMaskSeparator(objective="nll", bin_weights="magnitude", **cnn), [None])
    if row == "cnn_nll_equal":
        return ("cnn (nll, equal bin weights: the paper's)",
                ConvMaskSeparator(objective="nll", **cnn), [None])
    if row == "unet":
        return "U-Net", UNetSeparator(**unet), [None]
    if row == "uhnet":
        return ("UH-net", UNetSeparator(hybrid=True, hidden_size=64, num_layers=2,
                                        embedding_dim=20, **unet), [None])
    raise ValueError(f"row={row!r} is not one of {sorted(sum(FAMILIES.values(), ()))}")


def split(data):
    """Indices of the training and of the validation clips of a MIR-1K training split."""
    from sksep.datasets import hold_out_songs
    from sksep.exceptions import InvalidInputError

    try:
        train, valid, _ = hold_out_songs(data.groups, songs=VALIDATION_SONGS)
    except InvalidInputError as error:
        raise SystemExit(f"validation songs of {MIR1K}: {error}") from None
    return train.tolist(), valid.tolist()


def _epoch_recorder():
    """A skorch callback that adds, per epoch, the process CPU seconds since ``fit`` began
    and, for the GMM, the learned ``beta`` (mean of 1 / variance) and the class priors."""
    from skorch.callbacks import Callback

    class EpochRecorder(Callback):
        def on_train_begin(self, net, **kwargs):
            if not hasattr(self, "started_"):
                self.started_ = time.process_time()

        def on_epoch_end(self, net, **kwargs):
            net.history.record("cpu", time.process_time() - self.started_)
            gaussians = getattr(net.module_, "gaussians", None)
            if callable(gaussians):
                import torch
                with torch.no_grad():
                    _, variances, log_priors = gaussians()
                net.history.record("beta", float((1.0 / variances).mean()))
                net.history.record("priors", log_priors.exp().tolist())

    return EpochRecorder()


def run_one(row, seed, budget, train, valid, test, max_test_clips, model_path=None):
    """Train and score one row with one seed; the JSON-ready result.

    With ``model_path``, the fitted estimator is also saved there (float16), so the best
    seed of a family can be shipped without training it again."""
    import torch
    from sksep.callbacks import TimeBudget

    torch.manual_seed(seed)
    label, est, heads = make_estimator(row, seed)
    if budget.kind == "cpu":
        est.set_params(callbacks=[_epoch_recorder(), TimeBudget(budget.amount, clock="process")])
    else:
        est.set_params(callbacks=[_epoch_recorder()], max_epochs=int(budget.amount))
    wall, cpu = time.perf_counter(), time.process_time()
    est.fit(*train, validation_data=valid)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if model_path is not None:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        est.save(model_path, overwrite=True, half=True)
    keys = ("epoch", "train_loss", "valid_loss", "dur", "cpu", "beta", "priors")
    history = [{k: entry[k] for k in keys if k in entry} for entry in est.history_]
    result = {"row": row, "label": label, "seed": seed, "budget": budget._asdict(),
              **({"budget_cpu_seconds": budget.amount} if budget.kind == "cpu" else {}),
              "train_clips": len(train[0]), "validation_songs": list(VALIDATION_SONGS),
              "validation_clips": len(valid[0]), "train_wall_seconds": wall,
              "train_cpu_seconds": cpu, "epochs": _completed(history),
              "best_epoch": int(est.best_epoch_),
              "parameters": int(sum(p.numel() for p in est.net_.module_.parameters())),
              "history": history}
    if hasattr(est, "beta_"):
        result["beta"] = json_safe(np.asarray(est.beta_).tolist()
                                   if est.beta_ is not None else None)
        result["priors"] = (None if est.priors_ is None else est.priors_.tolist())
    result.update(score(est, heads, valid, test, max_test_clips))
    result["machine"] = machine(threads=torch.get_num_threads())
    return json_safe(result)


def score(est, heads, valid, test, max_test_clips):
    """``{"validation", "test", "test_clips"}`` of a fitted row: each head's scores on the
    validation songs (with its mean vocal mask) and on the test clips."""
    from sksep import IdealBinaryMask
    from sksep.metrics import separation_report

    result = {"validation": {}, "test": {}}
    X_test, Y_test = test
    if max_test_clips:
        X_test, Y_test = X_test[:max_test_clips], Y_test[:max_test_clips]
    records = est.features_.transform(valid[0])
    dominant = [float(IdealBinaryMask().masks(r, y)[0].mean())
                for r, y in zip(records, valid[1])]
    for head in heads:
        name = head or "-"
        if head is not None:
            est.set_params(head=head)
        masks = est.predict_masks(valid[0])
        estimates = est.predict(valid[0])
        report = separation_report(valid[1], estimates, valid[0],
                                   source_names=["vocals", "accompaniment"], bss=False)
        report["vocal_mask_mean"] = float(np.mean([m[0].mean() for m in masks]))
        report["vocal_dominant_share"] = float(np.mean(dominant))
        result["validation"][name] = report
        estimates = est.predict(X_test)
        result["test"][name] = separation_report(
            Y_test, estimates, X_test, source_names=["vocals", "accompaniment"], bss=True,
            n_jobs=1)
    result["test_clips"] = len(X_test)
    return result


def _completed(history):
    """Epochs that finished (the budget may stop the last one inside its training pass)."""
    return sum("valid_loss" in entry for entry in history)


def _claim(lock):
    """Take ``lock`` (a file holding our pid); reclaim it from a process that is gone."""
    try:
        with open(lock, "x") as handle:
            handle.write(str(os.getpid()))
        return True
    except FileExistsError:
        try:
            pid = int(lock.read_text() or 0)
            os.kill(pid, 0)
            return False  # alive: someone else's run
        except (ValueError, ProcessLookupError):
            lock.unlink(missing_ok=True)
            return _claim(lock)
        except PermissionError:
            return False


def command_run(args):
    import torch
    from sksep.datasets import load_mir1k

    torch.set_num_threads(1)
    folder = args.output / args.budget.folder
    folder.mkdir(parents=True, exist_ok=True)
    data = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test")
    train_index, valid_index = split(data)
    if args.max_train_clips:
        train_index = train_index[:args.max_train_clips]
    pick = lambda index: ([data.X[i] for i in index], [data.Y[i] for i in index])  # noqa: E731
    train, valid = pick(train_index), pick(valid_index)
    for seed in args.seeds:
        for row in args.only or DEFAULT_ROWS:
            target = folder / f"{row}-seed{seed}.json"
            lock = target.with_suffix(".lock")
            if target.exists() or not _claim(lock):
                continue
            try:
                print(f"{time.strftime('%H:%M:%S')} {row} seed {seed}: training", flush=True)
                model = MODELS / folder.name / f"{row}-seed{seed}.sksep"
                result = run_one(row, seed, args.budget, train, valid,
                                 (list(test.X), list(test.Y)), args.max_test_clips, model)
                atomic_write_text(target, json.dumps(result, indent=1) + "\n")
                test_scores = result["test"]
                print(f"{time.strftime('%H:%M:%S')} {row} seed {seed}: {result['epochs']} "
                      f"epochs, test vocals SI-SDRi "
                      + ", ".join(f"{h} {s['vocals']['SI-SDRi']:.2f}"
                                  for h, s in test_scores.items()), flush=True)
            finally:
                lock.unlink(missing_ok=True)


def command_rescore(args):
    """Score saved runs again with the current inference code (e.g. after a change to how
    a head turns network outputs into masks), keeping their training record; the old
    scores stay in the run's file under ``"superseded"``."""
    import torch
    import sksep
    from sksep.datasets import load_mir1k

    torch.set_num_threads(1)
    folder = args.output / args.budget.folder
    data = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test")
    _, valid_index = split(data)
    valid = ([data.X[i] for i in valid_index], [data.Y[i] for i in valid_index])
    for seed in args.seeds:
        for row in args.only or DEFAULT_ROWS:
            target = folder / f"{row}-seed{seed}.json"
            model = MODELS / folder.name / f"{row}-seed{seed}.sksep"
            if not (target.exists() and model.exists()):
                print(f"{row} seed {seed}: no run or no saved model, skipped", flush=True)
                continue
            result = json.loads(target.read_text())
            est = sksep.load(model)
            heads = make_estimator(row, seed)[2]
            scores = score(est, heads, valid, (list(test.X), list(test.Y)),
                           result.get("test_clips"))
            result.setdefault("superseded", []).append(
                {key: result[key] for key in ("validation", "test")})
            result.update(json_safe(scores), rescored=f"{utc_now()}: {args.why}")
            atomic_write_text(target, json.dumps(result, indent=1) + "\n")
            print(f"{row} seed {seed}: rescored; validation vocals SI-SDRi "
                  + ", ".join(f"{h} {s['vocals']['SI-SDRi']:.2f}"
                              for h, s in result["validation"].items()), flush=True)


# -- the report ----------------------------------------------------------------------------

def _mean_std(values):
    values = [v for v in values if isinstance(v, (int, float)) and v == v]  # no NaN
    if not values:
        return float("nan"), float("nan"), 0
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return statistics.fmean(values), spread, len(values)


def _cell(values, digits=2):
    mean, spread, n = _mean_std(values)
    if n == 0:
        return ""
    return f"{mean:.{digits}f}" + (f" ± {spread:.{digits}f}" if n > 1 else "")


def _flattening(history, budget):
    """Relative gain of the best validation loss over the last quarter of the budget:
    (best before 75 % of the budget - best overall) / |best before|; small when the
    curve has flattened, NaN when the first quarter holds every epoch."""
    losses = [(budget.position(h), h["valid_loss"]) for h in history if "valid_loss" in h]
    early = [loss for spent, loss in losses if spent <= 0.75 * budget.amount]
    if not early or len(early) == len(losses):
        return float("nan")
    before, overall = min(early), min(loss for _, loss in losses)
    return (before - overall) / abs(before) if before else float("nan")


def collect(folder):
    results = {}
    for path in sorted(folder.glob("*-seed*.json")):
        result = json.loads(path.read_text())
        results.setdefault(result["row"], []).append(result)
    return results


def table(results, budget):
    header = ["method", "head", "seeds", "params", "epochs", "flattening",
              "valid vocals SI-SDRi", "vocal mask mean (valid)",
              "test vocals SI-SDRi", "test acc. SI-SDRi", "test vocals GNSDR",
              "test acc. GNSDR", "test vocals GSIR", "test vocals GSAR"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    summary = {}
    order = list(dict.fromkeys(row for family in FAMILIES.values() for row in family))
    for row in order:
        runs = results.get(row)
        if not runs:
            continue
        for head in runs[0]["test"]:
            def values(part, source, metric):
                return [r[part][head][source][metric] for r in runs
                        if r[part].get(head, {}).get(source, {}).get(metric) is not None]
            cells = [runs[0]["label"], head, ",".join(str(r["seed"]) for r in runs),
                     f"{runs[0]['parameters'] / 1e6:.2f} M",
                     _cell([_completed(r["history"]) for r in runs], 0),
                     _cell([_flattening(r["history"], budget) * 100 for r in runs], 1) + " %",
                     _cell(values("validation", "vocals", "SI-SDRi")),
                     _cell([r["validation"][head]["vocal_mask_mean"] for r in runs], 3),
                     _cell(values("test", "vocals", "SI-SDRi")),
                     _cell(values("test", "accompaniment", "SI-SDRi")),
                     _cell(values("test", "vocals", "GNSDR")),
                     _cell(values("test", "accompaniment", "GNSDR")),
                     _cell(values("test", "vocals", "GSIR")),
                     _cell(values("test", "vocals", "GSAR"))]
            lines.append("| " + " | ".join(cells) + " |")
            summary[f"{row}/{head}"] = {
                "label": runs[0]["label"], "head": head, "seeds": [r["seed"] for r in runs],
                **{f"{part} {source} {metric}": _mean_std(values(part, source, metric))[:2]
                   for part in ("validation", "test") for source in ("vocals", "accompaniment")
                   for metric in ("SI-SDRi", "GNSDR", "GSIR", "GSAR")
                   if values(part, source, metric)}}
    return "\n".join(lines), summary


#: Each paper's finding as ``(paper, claim, (row, head) better, (row, head) worse)``.
FINDINGS = (
    ("Luo et al. 2017", "the Chimera MI head is at least as good as DC alone",
     ("chimera", "mi"), ("dc", "-")),
    ("Luo et al. 2017", "the Chimera DC head is usable on its own (close to DC alone)",
     ("chimera", "dc"), ("dc", "-")),
    ("Seetharaman et al. 2019", "the tied spherical GMM is at least as good as the "
     "mask-inference (sigmoid) baseline", ("cc_tied_spherical", "-"), ("cc_sigmoid", "-")),
    ("Roma et al. 2016", "the context CNN beats the DNN", ("cnn_mse", "-"), ("dnn", "-")),
    ("Roma et al. 2016", "the context CNN (NLL) beats the DNN", ("cnn_nll", "-"), ("dnn", "-")),
    ("Xi 2020", "the UH-net beats the U-Net", ("uhnet", "-"), ("unet", "-")),
)


def _paired_difference(results, better, worse, part, metric="SI-SDRi"):
    """Per-seed differences ``better - worse`` of the vocals' ``metric`` (seeds both ran)."""
    def by_seed(row, head):
        return {r["seed"]: r[part][head]["vocals"][metric] for r in results.get(row, [])
                if head in r[part] and r[part][head]["vocals"].get(metric) is not None}
    a, b = by_seed(*better), by_seed(*worse)
    return [a[seed] - b[seed] for seed in sorted(set(a) & set(b))]


def _budget_note(results, row, budget):
    runs = results[row]
    epochs = statistics.fmean(_completed(r["history"]) for r in runs)
    flat = [_flattening(r["history"], budget) for r in runs]
    flat = [f for f in flat if f == f]
    return (f"{runs[0]['label']}: {epochs:.0f} epochs"
            + (f", validation loss still {100 * statistics.fmean(flat):.0f} % lower in the "
               "last quarter" if flat else ", every epoch in the first quarter"))


def _ordering(differences):
    """'holds' when the mean of paired differences (two or more) is more than one standard
    deviation above 0, 'does not hold' when more than one below, else 'not separable at
    these seeds'."""
    mean, spread, _ = _mean_std(differences)
    if mean - spread > 0:
        return "holds"
    if mean + spread < 0:
        return "does not hold"
    return "not separable at these seeds"


def findings(results, budget):
    """One line per paper finding: the paired per-seed difference on the test clips
    (mean ± standard deviation over seeds) and on the validation songs, a verdict
    ('holds' when the mean difference is above one standard deviation above 0, 'does not
    hold' when below minus one, else 'not separable at these seeds'; none from a single
    seed) and each row's epochs and flattening in the budget."""
    lines, records = [], []
    for paper, claim, better, worse in FINDINGS:
        if better[0] not in results or worse[0] not in results:
            continue
        test = _paired_difference(results, better, worse, "test")
        valid = _paired_difference(results, better, worse, "validation")
        if not test:
            continue
        mean, _, n = _mean_std(test)
        if n < 2:  # one run is not a result
            verdict = "no verdict from one seed"
        elif "usable" in claim:
            verdict = ("holds" if mean > -1.0 and all(
                r["test"][better[1]]["vocals"]["SI-SDRi"] > 0 for r in results[better[0]])
                else "does not hold")
        else:
            verdict = _ordering(test)
        records.append({"paper": paper, "claim": claim, "better": better, "worse": worse,
                        "test_difference": test, "validation_difference": valid,
                        "verdict": verdict})
        lines.append(
            f"* **{paper}: {claim}** — {verdict} here: vocals SI-SDRi difference "
            f"{_cell(test)} dB on the test clips, {_cell(valid)} dB on the validation songs "
            f"({n} seed{'s' if n != 1 else ''}, paired by seed). Budget: {_budget_note(results, better[0], budget)};"
            f" {_budget_note(results, worse[0], budget)}.")
    return lines, records


def plot(results, budget, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = [(name, rows) for name, rows in FAMILIES.items()
                if any(row in results for row in rows)]
    figure, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.6),
                                squeeze=False)
    for axis, (name, rows) in zip(axes[0], families):
        for index, row in enumerate(r for r in rows if r in results):
            colour = f"C{index}"
            for k, run in enumerate(results[row]):
                curve = [(budget.position(h), h["valid_loss"]) for h in run["history"]
                         if "valid_loss" in h and (budget.kind == "epochs" or "cpu" in h)]
                if not curve:
                    continue
                first = curve[0][1]
                axis.plot([c for c, _ in curve], [v / first for _, v in curve], color=colour,
                          alpha=0.8, linewidth=1,
                          label=run["label"] if k == 0 else None)
        axis.set_title(name)
        axis.set_xlabel("CPU seconds (1 thread)" if budget.kind == "cpu" else "epoch")
        axis.set_ylabel("validation loss / first epoch's")
        axis.set_xlim(0, budget.amount * 1.05)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def command_report(args):
    folder = args.output / args.budget.folder
    stem = args.output.parent / args.budget.report_name
    results = collect(folder)
    if not results:
        raise SystemExit(f"no finished runs in {folder}")
    markdown_table, summary = table(results, args.budget)
    runs = [r for rs in results.values() for r in rs]
    wall = sum(r["train_wall_seconds"] for r in runs)
    machines = sorted({f"{r['machine'].get('cpu')} ({r['machine'].get('cores')} cores, "
                       f"torch {r['machine'].get('torch')})" for r in runs})
    dates = sorted(r["machine"]["date_utc"] for r in runs)
    lines = [
        f"# Every method at the same budget: {args.budget.title}", "",
        f"Produced by `python benchmarks/compare_methods.py run {args.budget.option}` "
        f"(two workers, one per core) and `... report {args.budget.option}`. Budget: "
        f"**{args.budget.describe()}**; training data: MIR-1K's training singers minus "
        f"the validation songs {', '.join(VALIDATION_SONGS)} "
        f"({runs[0]['train_clips']} clips), which are the validation data "
        f"({runs[0]['validation_clips']} clips: learning curves and best epoch); test: "
        f"the {runs[0]['test_clips']} clips of annar, heycat and tammy, scored once per "
        f"run. Mean ± standard deviation over the seeds listed. {len(runs)} runs, "
        f"{wall / 3600:.1f} h of training wall time in all, {dates[0]} to {dates[-1]}, on "
        f"{'; '.join(machines)}.", "",
        "'flattening': how much the best validation loss still improved in the last "
        "quarter of the budget (relative); a few % or more means the curve had not "
        "flattened and the row is budget-limited. 'vocal mask mean': mean of the predicted "
        f"vocal mask on the validation clips, against "
        f"{runs[0]['validation'][next(iter(runs[0]['validation']))]['vocal_dominant_share']:.3f}"
        f" of their bins dominated by the vocals.", "",
        markdown_table, "",
        "Published vocal GNSDR on MIR-1K for scale (full-size models, different budgets): "
        + "; ".join(f"{k}: {v:.2f} dB" for k, v in PUBLISHED.items()) + ".", "",
        f"![learning curves]({stem.name}.png)", ""]
    finding_lines, finding_records = findings(results, args.budget)
    if finding_lines:
        lines += ["## Do the papers' findings hold here?", "",
                  "Differences are per seed (the same seed trains both rows), vocals "
                  "SI-SDRi, better row minus worse row as the paper orders them.", "",
                  *finding_lines, ""]
    gmm = [(r["label"], r["seed"], r["best_epoch"], r.get("priors"), r["history"])
           for row in FAMILIES["class-conditional"] for r in results.get(row, [])
           if r.get("priors")]
    if gmm:
        lines += ["## The GMM's beta and priors over training", "",
                  "beta = mean of 1 / variance over dimensions and classes (4.0 at "
                  "initialisation); priors (vocals, accompaniment) start at 0.5 / 0.5. "
                  "The tied spherical beta is not identifiable from the masks (a change "
                  "of the variance is undone by an affine change of the means; "
                  "tests/separators/test_class_conditional.py), so it need not move.", "",
                  "| model | seed | beta after epoch 1 | beta, best epoch | priors, best epoch |",
                  "|---|---:|---:|---:|---|"]
        for label, seed, best_epoch, priors, history in gmm:
            first = history[0].get("beta")
            final = history[best_epoch - 1].get("beta", float("nan"))
            lines.append(f"| {label} | {seed} | {first:.2f} | {final:.2f} | "
                         + (" / ".join(f"{p:.3f}" for p in priors) if priors else "") + " |")
        lines.append("")
    rescored = [r for r in runs if r.get("rescored")]
    if rescored:
        lines += ["Scored again with later inference code (`compare_methods.py rescore`; the "
                  "training record is unchanged, the old scores are kept in the run's file):",
                  ""] + [f"* {r['label']}, seed {r['seed']}: {r['rescored']}" for r in rescored]
        lines.append("")
    markdown = "\n".join(lines)
    write_report(stem,
                 json_safe({"budget": args.budget._asdict(),
                            **({"budget_cpu_seconds": args.budget.amount}
                               if args.budget.kind == "cpu" else {}),
                            "rows": summary,
                            "findings": finding_records,
                            "validation_songs": list(VALIDATION_SONGS), "machines": machines,
                            "runs": len(runs), "machine": machine()}), markdown)
    plot(results, args.budget, stem.with_suffix(".png"))
    print(markdown)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report", "rescore"))
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=float, default=None,
                        help="process CPU seconds of training per run (default 240)")
    budget.add_argument("--epochs", type=int, default=None,
                        help="or train every run for this many epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=None,
                        help=f"rows to run, in order (default: {' '.join(DEFAULT_ROWS)})")
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--output", type=Path, default=RESULTS / "compare_methods",
                        help="folder of the per-run results; the report is written beside "
                             "it with the same name (.md, .json, .png)")
    parser.add_argument("--max-train-clips", type=int, default=None,
                        help="train on the first N training clips only (quick checks)")
    parser.add_argument("--max-test-clips", type=int, default=None,
                        help="score only the first N test clips (quick checks)")
    parser.add_argument("--why", default="inference changed",
                        help="rescore: the reason, kept in each run's file")
    args = parser.parse_args(argv)
    if args.only:
        known = {row for rows in FAMILIES.values() for row in rows}
        unknown = [row for row in args.only if row not in known]
        if unknown:
            parser.error(f"--only: unknown rows {unknown}; expected some of {sorted(known)}")
    if args.budget is not None and args.budget <= 0:
        parser.error("--budget must be > 0 seconds")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    args.budget = (Budget("epochs", float(args.epochs)) if args.epochs is not None
                   else Budget("cpu", 240.0 if args.budget is None else args.budget))
    {"run": command_run, "report": command_report,
     "rescore": command_rescore}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
