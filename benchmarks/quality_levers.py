"""How we got here: each quality lever tried for the shipped model, its gain and its cost.

Issue 15 asks for one table of every lever, measured, kept or not. Nothing is trained
here; the rows come from the measurements already in ``results/`` and the model registry:

* :data:`SHIPPED_HISTORY`: the versions of ``chimera-mir1k`` shipped before, with the
  figures measured when each was shipped (the commit that shipped it holds its registry
  entry); the last one is the shipped model's current registry entry;
* the Chimera lever rows of ``compare_methods.py`` (``chimera_psa``, ``chimera_wkm``,
  ``chimera_linear``) against its ``chimera`` row: the same 240 CPU-s budget, training
  clips and validation songs, paired per seed (the same seed trains both);
* ``results/shipped_recipe.json`` (``tools/train_shipped_model.py`` seeds, when present): the
  shipped recipe trained again after the level normalisation, several seeds;
* ``results/quantize.json`` (int8), ``results/wiener.json`` (Wiener post-filter) and
  ``results/fullband.json`` (full-band masks) for the inference-time levers;
* ``results/oracle_ceilings.json`` (``bench_oracle_ceilings.py``): how far each mask grid
  and target could go at best.

Run::

    python benchmarks/quality_levers.py     # writes results/levers.{md,json}
"""

import json
import statistics

from _common import RESULTS, write_report

#: Earlier shipped versions of ``chimera-mir1k`` (vocal GNSDR on the 90 test clips, dB),
#: from the registry entry of the commit that shipped each one.
SHIPPED_HISTORY = (
    ("first shipped Chimera (RMSprop, 2 x 300 BLSTM, no dropout, 10 % of the clips "
     "validate)", "63349b2", 6.54, "5 epochs in 58 min on 2 threads of a busy machine"),
    ("trained longer on the idle machine", "78919ed", 7.04,
     "15 epochs in 10 min on 2 threads"),
    ("dropout 0.3, 300 4-s remixes of the training stems, two whole songs validate",
     "7975e03", 7.57, "56 min on 1 thread (23 epochs)"),
    ("Adam instead of RMSprop (chosen by comparing test scores: flatters it, issue 15)",
     "aed8fd1", 7.85, "55 min on 1 thread (23 epochs)"),
)

LEVER_ROWS = {
    "chimera_psa": "MI head: truncated phase-sensitive target (mi_objective='psa')",
    "chimera_wkm": "DC head: whitened k-means objective (dc_objective='wkm')",
    "chimera_linear": "linear-frequency features and masks, 257 bins (mask-grid lever)",
    "chimera_stft": "mel features, MI masks on the 257 STFT bins (mask_grid='stft')",
}


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _runs(row):
    folder = RESULTS / "compare_methods" / "budget-240"
    return {int(path.stem.rsplit("seed", 1)[1]): json.loads(path.read_text())
            for path in sorted(folder.glob(f"{row}-seed*.json"))}


def _mean_std(values):
    if not values:
        return ""
    mean = statistics.fmean(values)
    return f"{mean:+.2f}" + (f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else "")


def _vocals(run, part, head):
    return run[part][head]["vocals"]["SI-SDRi"]


def lever_screen():
    """Per lever: paired differences lever - chimera (vocals SI-SDRi, MI and DC heads)."""
    base = _runs("chimera")
    rows = []
    for row, text in LEVER_ROWS.items():
        runs = _runs(row)
        seeds = sorted(set(runs) & set(base))
        if not seeds:
            continue
        cells = {}
        for part in ("validation", "test"):
            for head in ("mi", "dc"):
                cells[f"{part} {head}"] = [_vocals(runs[s], part, head)
                                           - _vocals(base[s], part, head) for s in seeds]
        cost = [runs[s]["epochs"] for s in seeds], [base[s]["epochs"] for s in seeds]
        rows.append({"lever": text, "row": row, "seeds": seeds, "differences": cells,
                     "epochs": cost[0], "baseline_epochs": cost[1]})
    return rows


def shipped_rows():
    """The shipped model's versions, oldest first, ending with the registry's entry."""
    rows = [{"lever": text, "commit": commit, "vocal_gnsdr": gnsdr, "cost": cost}
            for text, commit, gnsdr, cost in SHIPPED_HISTORY]
    import sksep

    entry = sksep.available_models().get("chimera-mir1k")
    if entry:
        rows.append({"lever": "features computed at a reference level (normalize_level=True), "
                              "same weights, scored again",
                     "commit": "06b3703",
                     "vocal_gnsdr": entry["scores"]["mi"]["vocals"]["GNSDR"],
                     "cost": "none (inference only)"})
    return rows


def inference_rows():
    """int8, the Wiener post-filter and full-band masks, from their benchmarks."""
    rows = []
    quantize = load("quantize")
    if quantize:
        a, b = quantize["rows"]["float32"], quantize["rows"]["int8"]
        rows.append({"lever": "int8 LSTM and linear layers (quantized(), --int8)",
                     "gain": f"{b['vocals SI-SDRi'] - a['vocals SI-SDRi']:+.3f} dB vocals "
                             f"SI-SDRi (validation songs)",
                     "cost": f"{quantize['time_ratio_int8_over_float32_median']:.2f}x the "
                             f"time, {b['size_mb']:.1f} MB instead of {a['size_mb']:.1f}",
                     "kept": "as an option"})
    wiener = load("wiener")
    if wiener and {"0", "1"} <= set(wiener["rows"]):
        none, one = wiener["rows"]["0"], wiener["rows"]["1"]
        rows.append({"lever": "multichannel Wiener post-filter, 1 EM iteration",
                     "gain": f"{statistics.fmean(one['vocals']) - statistics.fmean(none['vocals']):+.2f}"
                             f" dB vocals SI-SDRi (MUSDB excerpts)",
                     "cost": f"{wiener['time_ratio']['1']['ratio_median']:.2f}x the time",
                     "kept": "no (option, off by default)"})
    ensemble = load("ensemble")
    if ensemble:
        validation = ensemble["validation"]
        members = [name for name in validation if name != "ensemble"]
        best = max(validation[name]["vocals"]["SI-SDRi"] for name in members)
        gain = validation["ensemble"]["vocals"]["SI-SDRi"] - best
        rows.append({"lever": f"ensemble: the mean of {len(members)} recipe models' masks",
                     "gain": f"{gain:+.2f} dB vocals SI-SDRi over the best member "
                             f"(validation songs)",
                     "cost": f"{ensemble['time']['ratio_median']:.2f}x the time, "
                             f"{len(members)} model files",
                     "kept": "no (bench_ensemble.py)"})
    fullband = load("fullband")
    if fullband:
        limited, full = fullband["rows"]["band-limited"], fullband["rows"]["full band (top)"]
        gain = statistics.fmean(full["vocals"]) - statistics.fmean(limited["vocals"])
        rows.append({"lever": "masks mapped onto the song's own STFT (full band, stereo)",
                     "gain": f"{gain:+.2f} dB vocals SI-SDRi (MUSDB excerpts), the band "
                             f"above 8 kHz kept",
                     "cost": f"{fullband['time_ratio_fullband_over_bandlimited_median']:.2f}x "
                             f"the band-limited time",
                     "kept": "yes (default)"})
    return rows


def recipe_seeds():
    """The shipped recipe trained again after the level normalisation, if run."""
    return load("shipped_recipe")


def _mean_std_of(summary):
    return f"{summary['mean']:+.2f} ± {summary['std']:.2f}"


def _difference(cell):
    """``lever - recipe`` of a ``shipped_recipe.lever_rows`` cell, or '-' without a pair."""
    if not cell or cell[2] is None:
        return "-"
    return f"{cell[2]:+.2f}"


def markdown(result):
    lines = ["# How we got here: the quality levers", "",
             "Produced by `python benchmarks/quality_levers.py` from the measurements in "
             "`benchmarks/results/` and the model registry (nothing retrained). Vocal "
             "GNSDR on the 90 MIR-1K test clips unless said otherwise.", "",
             "## The shipped model, version by version", "",
             "| change | commit | vocal GNSDR (dB) | training |", "|---|---|---:|---|"]
    lines += [f"| {r['lever']} | {r['commit']} | {r['vocal_gnsdr']:.2f} | {r['cost']} |"
              for r in result["shipped"]]
    seeds = result.get("recipe_seeds")
    if seeds and seeds.get("summary_line"):
        lines += ["", seeds["summary_line"]]
    if seeds and seeds.get("levers"):
        lines += ["", "## Training levers at the full recipe (`shipped_recipe.py`)", "",
                  "Each lever changes one thing in the recipe, trains the same epochs and is "
                  "paired with the recipe's run of the same seed: lever - recipe, dB "
                  "(validation: vocals SI-SDRi on the held-out songs; test: vocal GNSDR, MI "
                  "head; MUSDB: vocals SI-SDRi on the excerpts, full band).", "",
                  "| lever | seed | validation | test 0 dB | test -5 dB | test +5 dB | MUSDB |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in seeds["levers"]:
            cells = [_difference(row.get(key)) for key in
                     ("validation", "test", "test -5 dB", "test +5 dB", "MUSDB")]
            lines.append(f"| {row.get('description', row['lever'])} | {row['seed']} | "
                         + " | ".join(cells) + " |")
    lines += ["", "## Training levers at a small budget (240 CPU-s, `compare_methods.py`)", "",
              "Each lever against the `chimera` row (2 x 128 BLSTM, alpha 0.1, same clips, "
              "validation songs and budget), paired per seed: lever - baseline, vocals "
              "SI-SDRi in dB (mean ± std over the seeds both ran).", "",
              "| lever | seeds | epochs (lever / baseline) | validation MI | validation DC | "
              "test MI | test DC |", "|---|---|---|---:|---:|---:|---:|"]
    for r in result["screen"]:
        d = r["differences"]
        lines.append(f"| {r['lever']} | {', '.join(map(str, r['seeds']))} | "
                     f"{'/'.join(map(str, r['epochs']))} vs "
                     f"{'/'.join(map(str, r['baseline_epochs']))} | "
                     f"{_mean_std(d['validation mi'])} | {_mean_std(d['validation dc'])} | "
                     f"{_mean_std(d['test mi'])} | {_mean_std(d['test dc'])} |")
    musdb = result.get("musdb_transfer")
    if musdb and musdb.get("rows"):
        lines += ["", "## Data lever: MUSDB stems as extra training data (`musdb_transfer.py`)",
                  "", "A second model, never the MIR-1K figure: the recipe "
                  f"(`{musdb['recipe']}`) on MIR-1K plus the vocal / rest stems of two MUSDB "
                  "excerpts, scored on the third (left out in turn), against the same recipe "
                  "and seed on MIR-1K alone: lever - baseline, SI-SDRi in dB (full band) on "
                  "the left-out song; the MIR-1K columns are the same difference on the "
                  "validation songs (vocals SI-SDRi) and the test clips (vocal GNSDR, MI).",
                  "", "| left-out song | seed | vocals | accompaniment | MIR-1K validation | "
                  "MIR-1K test |", "|---|---:|---:|---:|---:|---:|"]
        for row in musdb["rows"]:
            cost = row.get("mir1k_gain") or [None, None]
            lines.append(f"| {row['song']} | {row['seed']} | {row['gain'][0]:+.2f} | "
                         f"{row['gain'][1]:+.2f} | "
                         + " | ".join("-" if v is None else f"{v:+.2f}" for v in cost) + " |")
        if musdb.get("summary"):
            lines += ["", f"Mean ± std over the left-out songs: vocals "
                      f"{_mean_std_of(musdb['summary']['vocals'])}, accompaniment "
                      f"{_mean_std_of(musdb['summary']['accompaniment'])} dB."]
    ceilings = result.get("ceilings")
    if ceilings:
        by_key = {(row["grid"], row["mask"]): row["vocals"] for row in ceilings["rows"]}
        lines += ["", "## Where the headroom is (`bench_oracle_ceilings.py`)", "",
                  f"Oracle masks on the {ceilings['clips']} test clips, vocals SI-SDRi: the "
                  f"shipped model's target (Wiener, p = 2) reaches "
                  f"{by_key['mel', 'wiener p2']:.2f} dB on its 150 mel bands and "
                  f"{by_key['stft', 'wiener p2']:.2f} dB on the 257 STFT bins; the truncated "
                  f"phase-sensitive mask "
                  f"{by_key['mel', 'phase-sensitive']:.2f} / "
                  f"{by_key['stft', 'phase-sensitive']:.2f} dB (mel / STFT). The mask grid "
                  f"bounds a lever to "
                  f"{by_key['stft', 'wiener p2'] - by_key['mel', 'wiener p2']:+.2f} dB; the "
                  f"phase-sensitive target to "
                  f"{by_key['mel', 'phase-sensitive'] - by_key['mel', 'wiener p2']:+.2f} dB."]
    lines += ["", "## Inference levers", "", "| lever | gain | cost | kept |",
              "|---|---|---|---|"]
    lines += [f"| {r['lever']} | {r['gain']} | {r['cost']} | {r['kept']} |"
              for r in result["inference"]]
    tried = {row["lever"] for row in (seeds or {}).get("levers", [])}
    untried = ([] if (result.get("musdb_transfer") or {}).get("rows") else
               ["MUSDB stems as extra training data (a second model)"])
    untried += ["a larger network trained for hours (an epoch of a 4 x 500 BLSTM costs 3.5x "
               "the recipe's, `training_speed.md`; 24 M parameters, over 20 MB even in int8)"]
    if "vmr" not in tried:
        untried.insert(0, "training at -5 / +5 dB voice-to-music ratios")
    for lever, text in (("psa", "the phase-sensitive target (`mi_objective='psa'`) at the "
                                "full recipe"),
                        ("stft", "MI masks on the STFT bins (`mask_grid='stft'`) at the full "
                                 "recipe")):
        if lever not in tried:
            untried.insert(0, text)
    if not any(r["lever"].startswith("ensemble") for r in result["inference"]):
        untried.append("ensembles")
    lines += ["", f"Not tried yet: {'; '.join(untried)}.", ""]
    return "\n".join(lines)


def main():
    result = {"shipped": shipped_rows(), "screen": lever_screen(),
              "inference": inference_rows(), "recipe_seeds": recipe_seeds(),
              "ceilings": load("oracle_ceilings"), "musdb_transfer": load("musdb_transfer")}
    write_report(RESULTS / "levers", result, markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
