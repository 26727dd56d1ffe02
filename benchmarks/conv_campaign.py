"""Time to quality of the convolutional separators, and the long training campaign (issue 30).

Each configuration (:data:`CONFIGS`) is trained on the MIR-1K training singers minus the
validation songs of the shipped ``chimera-mir1k`` (``amy_2``, ``amy_6``), which validate
(early stopping, best epoch) and are the only clips a choice is made on. Training runs in
**chunks** of process CPU time (``TimeBudget(clock="process")``) on one torch thread,
resuming from its checkpoint between chunks; after each chunk the model of the best epoch
so far is scored on the validation songs **at 16 kHz through** :func:`sksep.separate`
(an 8 kHz model gives full-band 16 kHz stems, its masks carried above 4 kHz by the
``"top"`` rule), so every grid is judged on the same audio. One point of the learning
curve per chunk: cumulative training CPU seconds (scoring excluded), epochs, best
validation loss, vocals / accompaniment SI-SDRi.

Everything a run needs to resume lives outside the work tree, in
``~/.cache/sksep-campaign/<name>/`` (``--root``): the training checkpoint, the latest
model (float16) and ``curve.json``. Run it from a separate ``git worktree`` of a fixed
commit, so that work on the repository never disturbs a running training::

    git worktree add ~/.cache/sksep-campaign/src <commit>
    PYTHONPATH=~/.cache/sksep-campaign/src nohup python \\
        ~/.cache/sksep-campaign/src/benchmarks/conv_campaign.py run hg64-8k --hours 40 &

A run killed at any point (end of a working session) resumes at its last completed
epoch with the same command. ``report`` copies every curve to
``benchmarks/results/conv_campaign/<name>.json`` and writes
``results/conv_campaign.{json,md}`` (the comparison at equal CPU time).

Usage::

    python benchmarks/conv_campaign.py run NAME [--hours H] [--chunk-minutes M] [--seed S]
    python benchmarks/conv_campaign.py report [--at-cpu-minutes M]
    python benchmarks/conv_campaign.py test NAME       # score the test clips, once
    python benchmarks/conv_campaign.py high-band LABEL=PATH ...  # 8 kHz models at 16 kHz

``tools/ship_conv_campaign.py NAME`` ships a run's best chunk's model when it beats
``chimera-mir1k`` on the validation songs; this script writes nothing into the package.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MIR1K, RESULTS, json_safe, machine, utc_now, write_report  # noqa: E402

ROOT = Path(os.environ.get("SKSEP_CAMPAIGN", Path.home() / ".cache" / "sksep-campaign"))
#: The songs ``chimera-mir1k`` was validated on (``tools/train_shipped_model.py --remixes``: two
#: songs drawn with seed 0), so that a campaign model and the shipped one are chosen on
#: the same clips; both train on the other 19 songs of the training singers.
VALIDATION_SONGS = ("amy_2", "amy_6")
#: Park et al.'s grid: 8 kHz, 1024-point STFT, hop 256, linear bins (7.8 Hz apart).
PARK_GRID = dict(sample_rate=8000, n_fft=1024, hop_length=256, frequency_scale="linear",
                 deltas=False)


def _hourglass(channels, *, lr=1e-4, stacks=1, grid=None, segment_frames=64):
    return dict(estimator="unet", architecture="hourglass", channels=channels,
                n_stacks=stacks, objective="l1", mask_activation="linear", optimizer="adam",
                lr=lr, batch_size=4, segment_frames=segment_frames,
                features=dict(PARK_GRID if grid is None else grid))


def _unet(channels):
    return dict(_hourglass(channels), architecture="unet", n_stacks=1)


#: name -> (what it is, settings). ``features`` are MelFeatures settings; ``bf16``
#: trains under bfloat16 autocast (``accelerate``), the fastest setting measured by
#: ``bench_conv_throughput.py``.
CONFIGS = {
    "hg64-8k": ("1-stack hourglass, 64 channels, Park et al.'s grid and recipe (L1, linear "
                "masks, Adam 1e-4, batch 4, 64-frame patches)", _hourglass(64)),
    "hg32-8k": ("the same at 32 channels", _hourglass(32)),
    "hg32-8k-lr5e-4": ("32 channels, Adam 5e-4", _hourglass(32, lr=5e-4)),
    "hg128-8k": ("the same at 128 channels", _hourglass(128)),
    "hg64-16k-1024": ("64 channels on a 16 kHz grid, n_fft 1024, hop 256 (513 bins, 15.6 Hz)",
                      _hourglass(64, grid=dict(sample_rate=16000, n_fft=1024, hop_length=256,
                                               frequency_scale="linear", deltas=False))),
    "hg64-16k-mel": ("64 channels on today's grid: 16 kHz, 150 mel bands of a 512-point STFT, "
                     "hop 128, 128-frame patches",
                     _hourglass(64, grid=dict(sample_rate=16000, n_mels=150, deltas=False),
                                segment_frames=128)),
    "unet16-8k": ("U-Net (4 levels, 16 channels doubling per level) on Park et al.'s grid with "
                  "their objective and optimiser (L1, linear masks, Adam 1e-4, batch 4)",
                  _unet(16)),
    "unet32-8k": ("the same U-Net at 32 channels", _unet(32)),
    "unet16-16k-mel": ("today's U-Net (compare_methods row): 16 channels, 128 mel bands, "
                       "BCE, RMSprop 1e-3, batch 32, 128-frame patches",
                       dict(estimator="unet", channels=16, lr=1e-3, optimizer="rmsprop",
                            batch_size=32, segment_frames=128,
                            features=dict(sample_rate=16000, n_mels=128, deltas=False))),
}

#: Epochs a run may take in all (it stops earlier when validation stops improving for
#: ``PATIENCE`` epochs); fixed, since it is part of the checkpoint's fingerprint.
MAX_EPOCHS = 2000
PATIENCE = 40


def make_estimator(name, seed, checkpoint=None, callbacks=None):
    """The separator of configuration ``name``, seeded, bfloat16 autocast on."""
    from accelerate import Accelerator

    from sksep import MelFeatures, UNetSeparator

    settings = dict(CONFIGS[name][1])
    settings.pop("estimator")
    features = MelFeatures(**settings.pop("features"))
    return UNetSeparator(features=features, max_epochs=MAX_EPOCHS, patience=PATIENCE,
                         random_state=seed, checkpoint=checkpoint, callbacks=callbacks,
                         accelerator=Accelerator(cpu=True, mixed_precision="bf16"),
                         **settings)


def load_split(sample_rate):
    """``(train, valid)`` pairs ``(X, Y)`` of the MIR-1K training singers at ``sample_rate``."""
    from sksep.datasets import hold_out_songs, load_mir1k

    data = load_mir1k(MIR1K, "train", sample_rate=sample_rate)
    train, valid, _ = hold_out_songs(data.groups, songs=VALIDATION_SONGS)
    pick = lambda index: ([data.X[i] for i in index], [data.Y[i] for i in index])  # noqa: E731
    return pick(train), pick(valid)


def score_at_16k(estimator, X, Y, *, bss=False, high_band="top", sample_rate=16000):
    """Vocals / accompaniment SI-SDRi (and with ``bss`` the MIREX globals) of ``estimator``
    on clips at ``sample_rate`` (16 kHz unless said), separated through sksep.separate
    with ``high_band`` for the bins above the model's Nyquist frequency."""
    import sksep
    from sksep.metrics import separation_report

    estimates = [np.stack(list(sksep.separate(x, model=estimator, sample_rate=sample_rate,
                                              high_band=high_band)[0].values())) for x in X]
    return separation_report(Y, estimates, X, source_names=["vocals", "accompaniment"],
                             bss=bss)


def high_band_scores(models, *, out=RESULTS):
    """Validation scores of 8 kHz ``models`` (``{label: path}``) at their own rate and at
    16 kHz under each ``high_band`` rule, written to ``results/conv_campaign_high_band``:
    what the 16 kHz curve (``"top"``) owes to the band the model never hears."""
    import sksep
    from sksep._constants import HIGH_BAND_RULES

    _, valid8 = load_split(8000)
    _, valid16 = load_split(16000)
    rows = {}
    for label, path in models.items():
        model = sksep.load(path)
        rows[label] = {"8 kHz": score_at_16k(model, *valid8, sample_rate=8000)}
        for rule in HIGH_BAND_RULES:
            rows[label][f"16 kHz, {rule}"] = score_at_16k(model, *valid16, high_band=rule)
    columns = list(next(iter(rows.values())))
    lines = ["# 8 kHz models at 16 kHz: the high-band rule (issue 30)", "",
             "`python benchmarks/conv_campaign.py high-band LABEL=PATH ...`: vocals / "
             "accompaniment SI-SDRi (dB) on the validation songs "
             f"({', '.join(VALIDATION_SONGS)}, 18 clips) through `sksep.separate`, at the "
             "model's own 8 kHz and at 16 kHz, where the bins above 4 kHz take the mask of "
             "the model's top band (`top`) or the mean of its top octave (`octave`).", "",
             "| model | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {label} | " + " | ".join(
        f"{scores['vocals']['SI-SDRi']:.2f} / {scores['accompaniment']['SI-SDRi']:.2f}"
        for scores in row.values()) + " |" for label, row in rows.items()]
    write_report(Path(out) / "conv_campaign_high_band",
                 json_safe({"models": {k: str(v) for k, v in models.items()},
                            "scores": rows, "date": utc_now()}), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows


def _read_curve(path):
    return json.loads(path.read_text()) if path.exists() else None


def _write_json(path, value):
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(json_safe(value), indent=1) + "\n")
    os.replace(temporary, path)


def run(name, hours, chunk_minutes, seed, root=ROOT):
    """Train ``name`` in chunks until ``hours`` of training CPU time are spent (in all, over
    every resumption) or training ends (early stopping)."""
    import torch

    from sksep.callbacks import TimeBudget

    torch.set_num_threads(1)
    folder = root / f"{name}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint, curve_path = folder / "checkpoint.pt", folder / "curve.json"
    curve = _read_curve(curve_path) or {
        "name": name, "seed": seed, "description": CONFIGS[name][0],
        "settings": CONFIGS[name][1], "validation_songs": list(VALIDATION_SONGS),
        "max_epochs": MAX_EPOCHS, "patience": PATIENCE, "threads": 1,
        "precision": "bfloat16 autocast (accelerate), channels_last", "started": utc_now(),
        "chunks": []}
    if curve.get("finished"):
        print(f"{name}: training already finished ({curve['finished']})")
        return curve
    settings = CONFIGS[name][1]
    train, valid = load_split(settings["features"]["sample_rate"])
    _, valid16 = load_split(16000)
    while True:
        spent = curve["chunks"][-1]["cpu_seconds"] if curve["chunks"] else 0.0
        if spent >= hours * 3600:
            print(f"{name}: {spent / 3600:.2f} h of CPU spent, the budget given")
            break
        budget = min(chunk_minutes * 60, hours * 3600 - spent)
        estimator = make_estimator(name, seed, checkpoint=str(checkpoint),
                                   callbacks=[TimeBudget(budget, clock="process",
                                                              within_epoch=False)])
        cpu, wall = time.process_time(), time.perf_counter()
        estimator.fit(*train, validation_data=valid)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        history = estimator.history_
        finished = not checkpoint.exists()  # deleted once training is complete
        scores = score_at_16k(estimator, *valid16)
        point = {"cpu_seconds": spent + cpu, "wall_seconds_chunk": wall,
                 "epochs": len(history), "best_epoch": int(estimator.best_epoch_),
                 "best_valid_loss": float(min(h["valid_loss"] for h in history)),
                 "train_loss": float(history[-1, "train_loss"]),
                 "vocals_si_sdri": scores["vocals"]["SI-SDRi"],
                 "accompaniment_si_sdri": scores["accompaniment"]["SI-SDRi"],
                 "load_average": [round(x, 2) for x in os.getloadavg()], "date": utc_now()}
        curve["chunks"].append(point)
        curve["parameters"] = int(sum(p.numel() for p in estimator.net_.module_.parameters()))
        curve["valid_loss"] = [float(h["valid_loss"]) for h in history]
        curve["machine"] = machine(threads=1)
        estimator.set_params(callbacks=None, checkpoint=None, accelerator=None)
        estimator.save(folder / "model.sksep", overwrite=True, half=True)
        keep_best(folder, curve)
        if finished:
            curve["finished"] = f"early stopping after {len(history)} epochs, {utc_now()}"
        _write_json(curve_path, curve)
        print(f"{name}: {point['cpu_seconds'] / 60:.1f} CPU min, {point['epochs']} epochs, "
              f"vocals {point['vocals_si_sdri']:.2f} dB, accompaniment "
              f"{point['accompaniment_si_sdri']:.2f} dB", flush=True)
        if finished:
            break
    return curve


def _at(curve, cpu_minutes):
    """The last point of ``curve`` within 10 % of ``cpu_minutes`` of training CPU time
    (a chunk ends with its last epoch, which may overrun the chunk); None when the run
    has not got that far, or has no point that close."""
    points = [p for p in curve["chunks"]
              if 0.9 * cpu_minutes * 60 <= p["cpu_seconds"] <= cpu_minutes * 60 * 1.1]
    return points[-1] if points else None


def seed_spread(curves, cpu_minutes):
    """Per configuration with two seeds or more at ``cpu_minutes``: ``{name: (seeds,
    mean, half range)}`` of the validation vocals SI-SDRi (dB) at that CPU time."""
    by_name = {}
    for curve in curves:
        point = _at(curve, cpu_minutes)
        if point is not None:
            by_name.setdefault(curve["name"], []).append((curve["seed"],
                                                          point["vocals_si_sdri"]))
    return {name: ([seed for seed, _ in rows], float(np.mean([v for _, v in rows])),
                   float(np.ptp([v for _, v in rows]) / 2))
            for name, rows in by_name.items() if len(rows) > 1}


def seed_lines(curves, at_cpu_minutes):
    """Markdown lines: the spread over seeds at the report's two CPU budgets."""
    lines = []
    for budget in (at_cpu_minutes, 2 * at_cpu_minutes):
        spread = seed_spread(curves, budget)
        if spread:
            lines += [f"Spread over seeds at {budget:g} CPU minutes (vocals SI-SDRi, mean "
                      "± half range):", "", "| configuration | seeds | vocals |", "|---|---|---|"]
            lines += [f"| {name} | {', '.join(map(str, seeds))} | {mean:.2f} ± {half:.2f} |"
                      for name, (seeds, mean, half) in sorted(spread.items())]
            lines.append("")
    return lines


def plot_curves(curves, path):
    """Validation vocals SI-SDRi against training CPU minutes, one line per run, saved to
    ``path`` (PNG); None, writing nothing, when matplotlib is not installed."""
    try:  # optional: the report's tables do not need it
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for curve in curves:
        minutes = [p["cpu_seconds"] / 60 for p in curve["chunks"]]
        vocals = [p["vocals_si_sdri"] for p in curve["chunks"]]
        axis.plot(minutes, vocals, marker="o", markersize=3,
                  label=f"{curve['name']} seed {curve['seed']}")
    axis.set_xlabel("training CPU minutes (one thread)")
    axis.set_ylabel("validation vocals SI-SDRi (dB)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def shipped_references(names=("chimera-mir1k", "chimera-mir1k-musdb")):
    """Validation scores of the shipped models, measured as the campaign's are."""
    import sksep

    _, valid16 = load_split(16000)
    return {name: score_at_16k(sksep.load(name), *valid16) for name in names}


def shipped_lines(registry=None):
    """Markdown lines on the shipped models trained here (``tools/ship_conv_campaign.py``):
    budget and test scores. ``registry``: a registry file instead of the package's."""
    import sksep

    models = (json.loads(Path(registry).read_text()) if registry is not None
              else sksep.available_models())
    entries = {name: entry for name, entry in models.items()
               if "conv_campaign.py" in entry.get("training", "")}
    if not entries:
        return []
    lines = ["", "## Shipped from the campaign", "",
             "Test scores measured once per shipped model on the 90 MIR-1K test clips (16 kHz, "
             "`sksep.separate`); `sksep models NAME` has the whole record.", "",
             "| model | CPU min | epochs | validation vocals | test vocals SI-SDRi | GNSDR | "
             "GSIR | GSAR |", "|---|---|---|---|---|---|---|---|"]
    for name, entry in entries.items():
        vocals = entry["scores"]["vocals"]
        lines.append(f"| {name} | {entry['train_cpu_seconds'] / 60:.0f} | {entry['epochs']} | "
                     f"{entry['validation']['vocals']['SI-SDRi']:.2f} | "
                     f"{vocals['SI-SDRi']:.2f} | {vocals['GNSDR']:.2f} | {vocals['GSIR']:.2f} "
                     f"| {vocals['GSAR']:.2f} |")
    return lines


def report(root=ROOT, at_cpu_minutes=16.5, *, out=RESULTS, references=None):
    """Copy every curve into ``out / "conv_campaign"`` and tabulate them at equal CPU time
    beside the shipped models (``references``: their validation scores; None measures
    them)."""
    curves_folder = Path(out) / "conv_campaign"
    curves_folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(root).glob("*/curve.json")):
        shutil.copyfile(path, curves_folder / f"{path.parent.name}.json")
    curves = [json.loads(p.read_text()) for p in sorted(curves_folder.glob("*.json"))]
    lines = ["# Time to quality of the convolutional separators (issue 30)", "",
             "`python benchmarks/conv_campaign.py run NAME` then `report`. MIR-1K training "
             f"singers minus the validation songs {', '.join(VALIDATION_SONGS)} (157 clips), "
             "no remixes; one torch thread per run, bfloat16 autocast + channels_last, "
             "two runs at a time on the 2 cores (other work on the machine too: CPU time, not "
             "wall time, is the budget). Scores: SI-SDRi (dB) on the 18 validation clips at "
             "16 kHz through `sksep.separate`, of the best epoch so far (lowest validation "
             "loss). Seed 0 unless said.", "",
             ]
    for budget in (at_cpu_minutes, 2 * at_cpu_minutes):
        lines += [f"## At equal CPU time: {budget:g} CPU minutes", "",
                  "| run | what | parameters | CPU min | epochs | vocals | accompaniment |",
                  "|---|---|---|---|---|---|---|"]
        for curve in curves:
            point = _at(curve, budget)
            if point is None:
                continue
            lines.append(f"| {curve['name']}-seed{curve['seed']} | {curve['description']} | "
                         f"{curve.get('parameters', 0) / 1e6:.2f} M | "
                         f"{point['cpu_seconds'] / 60:.1f} | {point['epochs']} | "
                         f"{point['vocals_si_sdri']:.2f} | "
                         f"{point['accompaniment_si_sdri']:.2f} |")
        lines.append("")
    lines += seed_lines(curves, at_cpu_minutes)
    references = shipped_references() if references is None else references
    lines += ["", "Shipped models on the same validation clips, the same way (trained on the "
              "same 19 songs plus 300 remixes of them, 23 and 15 epochs; "
              "`sksep models`):", "",
              "| shipped model | vocals | accompaniment |", "|---|---|---|"]
    lines += [f"| {name} | {scores['vocals']['SI-SDRi']:.2f} | "
              f"{scores['accompaniment']['SI-SDRi']:.2f} |" for name, scores in references.items()]
    lines += shipped_lines()
    lines += ["", "## Learning curves (every chunk)", ""]
    figure = plot_curves(curves, Path(out) / "conv_campaign.png")
    if figure is not None:
        lines += [f"![validation vocals SI-SDRi against training CPU time]({figure.name})", ""]
    for curve in curves:
        lines += [f"### {curve['name']}-seed{curve['seed']}"
                  + (f" — finished: {curve['finished']}" if curve.get("finished") else ""), "",
                  "| CPU min | epochs | best epoch | best valid loss | vocals | accompaniment |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {p['cpu_seconds'] / 60:.1f} | {p['epochs']} | {p['best_epoch']} | "
                  f"{p['best_valid_loss']:.4f} | {p['vocals_si_sdri']:.2f} | "
                  f"{p['accompaniment_si_sdri']:.2f} |" for p in curve["chunks"]]
        lines.append("")
    result = {"at_cpu_minutes": at_cpu_minutes, "curves": curves, "shipped": references,
              "date": utc_now()}
    write_report(Path(out) / "conv_campaign", json_safe(result), "\n".join(lines) + "\n")
    print("\n".join(lines))


def best_point(curve):
    """The chunk whose model is kept as the run's best: the highest validation vocals
    SI-SDRi (``curve["best_chunk"]``); the latest chunk for curves from before it was
    kept. The early-stopping epoch is chosen on the validation loss (L1 on
    magnitudes at the model's rate), which can go on falling while the 16 kHz SI-SDRi
    falls: hg64-8k after 65 CPU minutes had a lower loss than after 48 and 1.4 dB less
    vocals SI-SDRi, from the 4-8 kHz band it never hears (``high_band="top"``)."""
    return curve["chunks"][curve.get("best_chunk", len(curve["chunks"]) - 1)]


def keep_best(folder, curve):
    """After a chunk: when its validation vocals SI-SDRi is the best so far, copy the
    chunk's ``model.sksep`` to ``best.sksep`` (replaced atomically) and mark the chunk in
    ``curve["best_chunk"]``. The previous chunks' models are not kept, so the first call
    on an older run takes the latest chunk as its best."""
    latest = len(curve["chunks"]) - 1
    best = curve.get("best_chunk")
    if best is not None and (curve["chunks"][latest]["vocals_si_sdri"]
                             <= curve["chunks"][best]["vocals_si_sdri"]):
        return False
    partial = folder / "best.sksep.partial"
    shutil.copyfile(folder / "model.sksep", partial)
    os.replace(partial, folder / "best.sksep")
    curve["best_chunk"] = latest
    return True


def snapshot(folder, model="model.sksep"):
    """Copy a run's ``curve.json`` and its ``model`` file (``"model.sksep"``, the latest
    chunk's, or ``"best.sksep"``) into ``folder/snapshot-<chunks>``, a consistent pair
    while the run goes on writing both after every chunk. The copied curve names the
    chunk the model is from (``"snapshot_of"``: its training CPU seconds)."""
    while True:
        before = (folder / "curve.json").read_bytes()
        curve = json.loads(before)
        target = folder / f"snapshot-{len(curve['chunks'])}"
        target.mkdir(exist_ok=True)
        shutil.copyfile(folder / model, target / "model.sksep")
        if (folder / "curve.json").read_bytes() == before:  # no chunk ended meanwhile
            point = best_point(curve) if model == "best.sksep" else curve["chunks"][-1]
            curve["snapshot_of"] = point["cpu_seconds"]
            _write_json(target / "curve.json", curve)
            return target


def snapshot_point(curve):
    """The chunk whose model a :func:`snapshot` holds (the latest one for a run's own
    folder)."""
    spent = curve.get("snapshot_of", curve["chunks"][-1]["cpu_seconds"])
    return next(p for p in curve["chunks"] if p["cpu_seconds"] == spent)


def test(name, seed, root=ROOT, folder=None):
    """Score the campaign's latest model of ``name`` on the 90 MIR-1K test clips, once
    (``folder``: a :func:`snapshot` of the run instead of the run itself)."""
    import sksep
    from sksep.datasets import load_mir1k

    folder = Path(folder) if folder is not None else Path(root) / f"{name}-seed{seed}"
    model = sksep.load(folder / "model.sksep")
    data = load_mir1k(MIR1K, "test")
    scores = score_at_16k(model, data.X, data.Y, bss=True)
    curve = json.loads((folder / "curve.json").read_text())
    curve.setdefault("test", []).append({"after_cpu_seconds": snapshot_point(curve)["cpu_seconds"],
                                         "scores": scores, "date": utc_now()})
    _write_json(folder / "curve.json", curve)
    print(json.dumps(json_safe(scores), indent=1))


def test_scores(folder):
    """Test scores of the run in ``folder``'s latest model, measured once: a model already
    scored at its latest chunk is not scored again (:func:`test` keeps the record)."""
    curve = json.loads((folder / "curve.json").read_text())
    spent = snapshot_point(curve)["cpu_seconds"]
    done = [t for t in curve.get("test", []) if t["after_cpu_seconds"] == spent]
    if not done:
        test(curve["name"], curve["seed"], folder=folder)
        curve = json.loads((folder / "curve.json").read_text())
        done = [t for t in curve["test"] if t["after_cpu_seconds"] == spent]
    return curve, done[-1]["scores"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="train one configuration in chunks")
    run_parser.add_argument("name", choices=sorted(CONFIGS))
    run_parser.add_argument("--hours", type=float, default=0.25,
                            help="training CPU hours in all, over every resumption")
    run_parser.add_argument("--chunk-minutes", type=float, default=5.0,
                            help="CPU minutes between two validation scores")
    run_parser.add_argument("--seed", type=int, default=0)
    report_parser = commands.add_parser("report", help="tabulate the curves")
    report_parser.add_argument("--at-cpu-minutes", type=float, default=16.5)
    band_parser = commands.add_parser("high-band", help="score 8 kHz models under each "
                                      "high-band rule on the validation songs")
    band_parser.add_argument("models", nargs="+", metavar="LABEL=PATH")
    test_parser = commands.add_parser("test", help="score the test clips once")
    test_parser.add_argument("name", choices=sorted(CONFIGS))
    test_parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.name, args.hours, args.chunk_minutes, args.seed)
    elif args.command == "high-band":
        high_band_scores(dict(item.split("=", 1) for item in args.models))
    elif args.command == "report":
        report(at_cpu_minutes=args.at_cpu_minutes)
    else:
        test(args.name, args.seed)


if __name__ == "__main__":
    main()
