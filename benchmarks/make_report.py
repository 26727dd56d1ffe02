"""Regenerate ``benchmarks/RESULTS.md`` from the JSON files in ``benchmarks/results/``.

Every section reads one file (written by the ``bench_*.py`` script of the same name);
a missing file becomes a line saying that benchmark was not run. Hand-written notes
(what was profiled and changed) live in ``results/notes.json``: ``{"section": "text"}``.

Usage::

    python benchmarks/make_report.py
"""

import json
import re

from _common import BENCHMARKS, RESULTS, atomic_write_text, machine_line, utc_now

OUT = BENCHMARKS / "RESULTS.md"

# Luo et al. 2017 (author manuscript), SDRi in dB on DSD100-remix (V = vocals, M = music).
LUO_TABLE2 = {("DC", "alpha = 1"): (4.9, 7.2), ("MI", "alpha = 0"): (4.8, 6.7),
              ("CHI_0.1-DC", "alpha = 0.1, DC head"): (4.8, 7.2),
              ("CHI_0.1-MI", "alpha = 0.1, MI head"): (5.5, 7.8),
              ("CHI_0.5-DC", "alpha = 0.5, DC head"): (4.7, 7.1),
              ("CHI_0.5-MI", "alpha = 0.5, MI head"): (5.5, 7.8)}
LUO_TABLE3 = {10: (5.5, 7.9), 20: (5.4, 7.8)}  # CHI_0.1-MI, mMSA
HUANG = {"GNSDR": 7.45, "GSIR": 13.08, "GSAR": 9.68}


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def fmt(value, digits=2, empty=""):
    if value is None:
        return empty
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def quality_section(data, notes):
    if data is None:
        return ["## Quality (MIR-1K test singers)", "", "Not run (results/quality.json "
                "missing): `python benchmarks/bench_quality.py`.", ""]
    lines = ["## Quality (MIR-1K test singers)", "",
             "Gathered by `bench_quality.py` from the other benchmarks' JSON (nothing "
             "retrained). Test set: the 90 clips of annar, heycat and tammy (the MIR-1K test "
             "singers of `split.csv`); training: the 175 clips of abjones and amy, the "
             "training singers of Huang et al. 2014. SI-SDRi: length-weighted mean SI-SDR "
             "improvement; GNSDR / GSIR / GSAR: MIREX globals from BSS Eval v4 (museval), "
             "dB. Oracle rows use the true sources (ceiling), the mixture row is the floor. "
             "The mel and linear oracle rows are the ceilings of models on those grids.", "",
             "| row | estimator | vocals SI-SDRi | acc. SI-SDRi | vocals GNSDR | vocals GSIR "
             "| vocals GSAR | acc. GNSDR | acc. GSIR | acc. GSAR | epochs | train s | budget "
             "| from |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in data["rows"]:
        v = row["metrics"].get("vocals", {})
        a = row["metrics"].get("accompaniment", {})
        gsar_v = v.get("GSAR")
        gsar_a = a.get("GSAR")
        if row["kind"] == "floor":  # SAR of the mixture is meaningless (no artefacts)
            gsar_v = gsar_a = None
        lines.append(
            f"| {row['label']} | {row['estimator']} | {fmt(v.get('SI-SDRi'))} "
            f"| {fmt(a.get('SI-SDRi'))} | {fmt(v.get('GNSDR'))} | {fmt(v.get('GSIR'))} "
            f"| {fmt(gsar_v)} | {fmt(a.get('GNSDR'))} | {fmt(a.get('GSIR'))} "
            f"| {fmt(gsar_a)} | {fmt(row.get('epochs'))} "
            f"| {fmt(row.get('train_seconds'), 0)} | {row.get('budget', '')} "
            f"| `{row['source']}` |")
    lines.append(f"| *Huang et al. 2014, deep RNN (anchor)* | | | | *{HUANG['GNSDR']}* "
                 f"| *{HUANG['GSIR']}* | *{HUANG['GSAR']}* | | | | | | MIR-1K, same training "
                 "singers, 825 test clips, BSS Eval v3 | paper |")
    lines.append("| *Luo et al. 2017, Chimera CHI_0.1-MI (anchor)* | | *5.5* | *7.8* | | | | "
                 "| | | | | DSD100-remix (another data set) | paper |")
    lines.append("")
    if data.get("missing"):
        lines += ["Missing sources: " + "; ".join(data["missing"]) + ".", ""]
    models = [r for r in data["rows"] if r["kind"] == "model"
              and r["metrics"].get("vocals", {}).get("GNSDR") is not None]
    if models:
        best = max(models, key=lambda r: r["metrics"]["vocals"]["GNSDR"])
        g = best["metrics"]["vocals"]
        gap = HUANG["GNSDR"] - g["GNSDR"]
        verdict = ("beats" if gap < 0 else "does not reach")
        lines += [
            f"**Against the target.** The best sksep model here, *{best['label']}*, has a "
            f"vocal GNSDR of {g['GNSDR']:.2f} dB (GSIR {fmt(g.get('GSIR'))}, GSAR "
            f"{fmt(g.get('GSAR'))}): it {verdict} the deep RNN of Huang et al. 2014 "
            f"(GNSDR {HUANG['GNSDR']} dB) by {abs(gap):.2f} dB. Read this with care: our "
            "test set is 90 of the 825 clips of the standard test set (the three test "
            "singers in `split.csv`), the metrics are BSS Eval v4 (museval, whole-clip) "
            "where Huang et al. used v3, and every sksep model was trained on a 2-core "
            "CPU within minutes to an hour (see budget column), far from convergence, "
            "while the paper's network trained to convergence on a GPU. "
            + split_reading(g),
            ""]
    if notes.get("quality"):
        lines += [notes["quality"], ""]
    return lines


def split_reading(vocals):
    """Where the GNSDR gap to Huang et al. lies: interference (GSIR) or artefacts (GSAR)."""
    sir, sar = vocals.get("GSIR"), vocals.get("GSAR")
    if sir is None or sar is None:
        return ""
    parts = [f"GSIR {sir - HUANG['GSIR']:+.2f} dB", f"GSAR {sar - HUANG['GSAR']:+.2f} dB"]
    if vocals["GNSDR"] >= HUANG["GNSDR"]:
        ahead = [name for name, ours, theirs in (("GSIR", sir, HUANG["GSIR"]),
                                                 ("GSAR", sar, HUANG["GSAR"]))
                 if ours >= theirs]
        return (f"Against Huang et al. this model has {', '.join(parts)}: it is ahead on "
                f"{' and '.join(ahead) or 'neither'} (fewer artefacts when GSAR, less "
                f"accompaniment left in the voice when GSIR).")
    where = ("more accompaniment left in the voice (interference)" if sir < HUANG["GSIR"]
             else "artefacts" if sar < HUANG["GSAR"] else "neither")
    return (f"Against Huang et al. this model has {', '.join(parts)}: the gap is "
            f"{where}.")


def sweep_section(data, notes):
    title = ["## Alpha sweep (Luo et al. Table 2) and D in {10, 20} (Table 3)", ""]
    if data is None:
        return title + ["Not run (results/alpha_sweep.json missing): "
                        "`python benchmarks/bench_alpha_sweep.py`.", ""]
    b = data["budget"]
    lines = title + [
        f"`bench_alpha_sweep.py`{' --quick' if data['quick'] else ''}: sklearn "
        "`GridSearchCV` over `ChimeraSeparator` (alpha x embedding_dim), `cv` = a "
        "`PredefinedSplit` of the *training* singers (every fifth clip validates; test "
        "clips never seen by the search), two scorers (validation SI-SDRi of the MI head "
        "and of the DC head, the same fitted model with `set_params(head=...)`), "
        f"`refit='mi'`. Budget: {b['network']}, {b['epochs']} epochs, "
        f"{b['train_clips'] - b['validation_clips']} training + {b['validation_clips']} "
        f"validation clips, {b['optimizer']}, one CPU thread; test SI-SDRi on "
        f"{b['test_clips']} random test-singer clips. Search wall time "
        f"{data['seconds'] / 60:.1f} min ({machine_line(data.get('machine'))}). With "
        "alpha = 1 the MI head is untrained, so both heads predict with K-means on the "
        "embeddings. sksep's MI objective here is mMSA (the paper's Table 2 uses MSA).", "",
        "| alpha | D | head | validation SI-SDRi | test SI-SDRi (vocals+acc. mean) | epochs "
        "| train s | Luo et al. V / M (DSD100-remix) |",
        "|---:|---:|---|---:|---:|---:|---:|---|"]
    for row in data["rows"]:
        anchor = ""
        for (name, _), (v, m) in LUO_TABLE2.items():
            alpha = row["alpha"]
            head = row["head"].upper()
            pure_dc = name == "DC" and alpha == 1.0
            pure_mi = name == "MI" and alpha == 0.0 and head == "MI"
            if pure_dc or pure_mi or name == f"CHI_{alpha:g}-{head}":
                anchor = f"{name}: {v} / {m}"
        if row["alpha"] == 0.1 and row["head"] == "mi":
            v, m = LUO_TABLE3[row["embedding_dim"]]
            anchor += f"; Table 3 mMSA D={row['embedding_dim']}: {v} / {m}"
        lines.append(f"| {row['alpha']:g} | {row['embedding_dim']} | {row['head'].upper()} "
                     f"| {fmt(row['valid'])} | {fmt(row['test'])} | {row['epochs']} "
                     f"| {fmt(row['train_seconds'], 0)} | {anchor} |")
    lines += [""] + sweep_reading(data["rows"])
    bt = data["best_refit_test"]
    lines += ["", f"Best by validation (MI head): {data['best_params']} (validation SI-SDRi "
              f"{data['best_valid_mi']:.2f} dB); refit on all training clips, its test "
              f"SI-SDRi is {bt['mi']:.2f} dB (MI head) and {bt['dc']:.2f} dB (DC head).", ""]
    if notes.get("alpha_sweep"):
        lines += [notes["alpha_sweep"], ""]
    return lines


def sweep_reading(rows):
    """Plain-words reading of the sweep, computed from its rows."""
    def test(alpha, dim, head):
        found = [r["test"] for r in rows if r["alpha"] == alpha and r["embedding_dim"] == dim
                 and r["head"] == head]
        return found[0] if found else None

    alphas = sorted({r["alpha"] for r in rows})
    dims = sorted({r["embedding_dim"] for r in rows})
    mi = [r for r in rows if r["head"] == "mi" and r["alpha"] < 1]
    best_mi = max(mi, key=lambda r: r["test"]) if mi else None
    dc = {a: [test(a, d, "dc") for d in dims if test(a, d, "dc") is not None] for a in alphas}
    dc_means = ", ".join(f"{a:g}: {sum(v) / len(v):.2f}" for a, v in dc.items() if v)
    out = []
    if best_mi:
        gains = []
        for d in dims:
            pure = test(0.0, d, "mi")
            hybrid = [test(a, d, "mi") for a in (0.1, 0.5) if test(a, d, "mi") is not None]
            if pure is not None and hybrid:
                gains.append(f"{max(hybrid) - pure:+.2f} dB at D = {d}")
        out.append(f"Reading (test SI-SDRi): the MI head is best at alpha = {best_mi['alpha']:g}, "
                   f"D = {best_mi['embedding_dim']} ({best_mi['test']:.2f} dB). The better "
                   "hybrid MI head (alpha 0.1 or 0.5) against the pure mask-inference network "
                   f"(alpha 0): {', '.join(gains)}; Luo et al. find +0.7 dB. With one small "
                   "run per setting, differences of a few tenths of a dB are within the "
                   "run-to-run noise.")
    dc_rows = [r for r in rows if r["head"] == "dc"]
    best_dc = max(r["test"] for r in dc_rows) if dc_rows else None
    out.append(f"DC head, mean over D, by alpha: {dc_means} dB. The DC head needs the "
               "deep-clustering loss to learn anything (at alpha = 0 its embeddings are "
               "untrained, hence the negative values) and here improves steadily as alpha "
               "grows, where the paper's DC head is about flat over alpha 0.1-1 (a network "
               "trained to convergence); with a small weight and few epochs the DC loss has "
               "not shaped the embeddings yet.")
    if best_mi and best_dc is not None:
        out.append(f"Best DC head {best_dc:.2f} dB vs best MI head {best_mi['test']:.2f} dB "
                   f"({best_dc - best_mi['test']:+.2f} dB; paper: DC 4.9 vs CHI-MI 5.5 "
                   "dB for vocals).")
    if test(0.1, 10, "mi") is not None and test(0.1, 20, "mi") is not None:
        d10, d20 = test(0.1, 10, "mi"), test(0.1, 20, "mi")
        out.append(f"D at alpha = 0.1 (MI head): D = 10 gives {d10:.2f} dB, D = 20 "
                   f"{d20:.2f} dB (paper, Table 3: 5.5 vs 5.4 dB on DSD100-remix); "
                   + ("the same order as the paper." if d10 >= d20 else
                      "the opposite order (one run per setting on a 1 x 64 BLSTM: an "
                      "observation at this budget, not a finding)."))
    return [" ".join(out)]


def dc_section(data, notes):
    title = ["## Deep-clustering loss: sksep vs asteroid, nussl and the naive affinity", ""]
    if data is None:
        return title + ["Not run (results/dc_loss.json missing).", ""]
    lines = title + [
        f"`bench_dc_loss.py`{' --quick' if data['quick'] else ''}: forward + backward of the "
        f"weighted deep-clustering loss at `V: ({', '.join(map(str, data['shape']))})` "
        f"(batch, TF, D), 2 sources, per-bin weights. Each implementation in its own "
        f"process and virtual environment (torch {data.get('torch')} CPU, 1 thread), same "
        f"inputs; {data['rounds']} paired rounds (sksep, then the other), each timing the "
        f"median of {data['repeats']} calls. Ratio = time(other) / time(sksep), median over "
        f"rounds (> 1: sksep is faster). Machine: {machine_line(data.get('machine'))}.", "",
        "| implementation | TF | ratio to sksep (median) | ratio range | sksep median ms "
        "| other median ms | loss sksep / other |",
        "|---|---:|---:|---|---:|---:|---|"]
    for name, row in list(data["peers"].items()) + [("naive TF x TF affinity", r)
                                                    for r in data["naive"]]:
        lines.append(f"| {name} | {row['size']} | **{row['ratio_median']:.2f}** "
                     f"| {row['ratio_min']:.2f} - {row['ratio_max']:.2f} "
                     f"| {1e3 * row['sksep_median_s']:.1f} | {1e3 * row['other_median_s']:.1f} "
                     f"| {row['sksep_loss']:.4f} / {row['other_loss']:.4f} |")
    lines.append("")
    peers = data["peers"]
    if peers:
        slower = [f"{name} takes {row['ratio_median']:.2f}x sksep's time"
                  for name, row in peers.items()]
        fastest = all(row["ratio_median"] > 1 for row in peers.values())
        lines.append(("**sksep is the fastest** here: " if fastest else
                      "**sksep is not the fastest** here: ") + "; ".join(slower) + ".")
        lines.append("")
    lines.append(f"The naive affinity is not run at TF = {data['shape'][1]}: "
                 f"{data['naive_memory_note']}.")
    for name, error in data.get("errors", {}).items():
        lines.append(f"\n**{name} failed:** {error}")
    lines.append("")
    lines.append("Environment recipes (created by the script under `benchmarks/_envs/`): "
                 "asteroid = `torch==2.13.0`, `asteroid`, `requests`, then torchaudio "
                 "removed; nussl = `torch==2.13.0`, `numpy<2`, `scipy<1.13`, `nussl` "
                 "installed with `--no-deps` and its requirements except soxbindings (which "
                 "fails to build here). The loss values differ between libraries because "
                 "each weighs and normalises its own way (sksep: pair weights w_i w_j, divided "
                 "by (sum w)^2; nussl: squared weights and re-normalised embeddings; asteroid: "
                 "the mask multiplies the bins and the sum is not divided by TF^2), not "
                 "because of the algebra: all three use the same low-rank expansion "
                 "||V^T V||^2 - 2 ||V^T Y||^2 + ||Y^T Y||^2, so the timings compare the same "
                 "work.")
    lines.append("")
    if notes.get("dc_loss"):
        lines += [notes["dc_loss"], ""]
    return lines


def training_section(data, notes):
    title = ["## Training throughput: estimators vs a bare PyTorch loop", ""]
    if data is None:
        return title + ["Not run (results/training.json missing).", ""]
    lines = title + [
        f"`bench_training.py`{' --quick' if data['quick'] else ''}: one epoch over "
        f"{data['clips']} MIR-1K training clips, {data['rounds']} paired rounds of "
        "(`est.fit(records, Y)` with no validation split, no early stopping and no gradient "
        "clipping) then (the bare loop: same module class from `_build_module`, the "
        "estimator's optimizer with the same learning rate, the same objective, over the same batch tensors "
        "collated before timing). Overhead = median over rounds of time(fit) / time(bare) "
        "- 1; frames/s from the median times. One CPU thread. Machine: "
        f"{machine_line(data.get('machine'))}.", "",
        "| estimator | frames / epoch | batches | sksep frames/s | bare frames/s "
        "| overhead of fit (median) | ratio range | overhead of the epoch loop |",
        "|---|---:|---:|---:|---:|---:|---|---:|"]
    for name, row in data["rows"].items():
        flag = "" if row["overhead_pct"] < 10 else " (above 10 %)"
        lines.append(f"| {name} | {row['frames_per_epoch']} | {row['batches']} "
                     f"| {row['sksep_fps']:.0f} | {row['bare_fps']:.0f} "
                     f"| **{row['overhead_pct']:+.1f} %**{flag} "
                     f"| {row['ratio_min']:.2f} - {row['ratio_max']:.2f} "
                     f"| {row.get('epoch_overhead_pct', float('nan')):+.1f} % |")
    lines += ["", "The last column compares skorch's own epoch duration (the training loop "
              "alone) with the bare loop; the difference between the two overhead columns "
              "is fit's one-off work (the targets of every clip, e.g. Wiener masks and "
              "dominant-source labels, the module, feature statistics), which a real "
              "training of many epochs pays once."]
    lines.append("")
    if notes.get("training"):
        lines += [notes["training"], ""]
    return lines


def separation_section(data, notes):
    title = ["## Separation: time, real-time factor and memory (shipped model)", ""]
    if data is None:
        return title + ["Not run (results/separation.json missing).", ""]
    model = data["rows"][0]["model"] if data["rows"] else ""
    lines = title + [
        f"`bench_separation.py`{' --quick' if data['quick'] else ''}: {model} (Chimera, "
        "2 x 300 BLSTM, D = 20, MI head), 16 kHz mono clips tiled from the MIR-1K test "
        "mixtures, `sksep.separation.separate_long` in-process (one `predict` up to 60 s, "
        "60-second blocks beyond), each duration in a fresh process, one CPU thread. Wall "
        "time is the median of the repeats (after a warm-up); forward share = time inside "
        "the network module's forward (hooks) / wall time; peak memory = the process's "
        "`ru_maxrss`, and its increment over the memory after loading torch, the model "
        f"and the audio. Machine: {machine_line(data.get('machine'))}. "
        "Target: real-time factor <= 0.1.", "",
        "| clip | repeats | wall s | real-time factor | forward share | feature share "
        "| peak RSS MiB | increment MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["rows"]:
        ok = "" if r["rtf"] <= 0.1 else " (above 0.1)"
        lines.append(f"| {r['seconds']} s | {r['repeats']} | {r['wall_s']:.2f} "
                     f"| **{r['rtf']:.3f}**{ok} | {100 * r['forward_share']:.0f} % "
                     f"| {100 * r['features_share']:.0f} % | {r['peak_rss_mib']:.0f} "
                     f"| {r['peak_increment_mib']:.0f} |")
    worst = max(r["rtf"] for r in data["rows"])
    lines += ["", f"Worst real-time factor {worst:.3f}: the target (<= 0.1) is "
              + ("met" if worst <= 0.1 else "**not met**") + " on this CPU with one thread."]
    skip = next((r.get("embedding_skip") for r in data["rows"] if r.get("embedding_skip")),
                None)
    if skip:
        lines += ["", f"Network pass over the 30 s clip with only the mask path (what "
                  f"`predict` does with the MI head since this benchmark's change) vs both "
                  f"heads (before): ratio {skip['ratio_median']:.2f} (median of "
                  f"{skip['rounds']} paired rounds; {1e3 * skip['masks_only_median_s']:.0f} "
                  f"ms vs {1e3 * skip['both_heads_median_s']:.0f} ms)."]
    lines += ["", "![separation time and memory vs duration](results/separation.png)", "",
              "Peak memory through the command-line interface for 1/5/10-minute stereo songs "
              "is in `results/long_audio_memory.md` (measured separately).", ""]
    if notes.get("separation"):
        lines += [notes["separation"], ""]
    return lines


def features_section(data, notes):
    title = ["## Feature extraction: MelFeatures vs direct librosa calls", ""]
    if data is None:
        return title + ["Not run (results/features.json missing).", ""]
    lines = title + [
        f"`bench_features.py`{' --quick' if data['quick'] else ''}: `MelFeatures()."
        "transform([clip])` vs `librosa.stft` -> `abs` -> `librosa.feature.melspectrogram"
        "(S=..., power=1)` -> `log` -> `librosa.feature.delta`, same settings (512 / 128, "
        f"150 mel bands, deltas of width 9); {data['rounds']} paired rounds; ratio = "
        "time(MelFeatures) / time(librosa). MelFeatures also keeps the complex STFT and "
        "the grid in its record. The feature difference is MelFeatures' level "
        "normalisation (each clip scaled to one reference level before the log, so the "
        "features do not depend on the input's gain): a constant shift of the log-mel "
        "half, 0 on the deltas. OMP_NUM_THREADS="
        f"{data.get('threads')}. Machine: {machine_line(data.get('machine'))}.", "",
        "| clip | ratio (median) | ratio range | MelFeatures ms | librosa ms "
        "| max abs feature difference |", "|---:|---:|---|---:|---:|---:|"]
    for name, r in data["rows"].items():
        lines.append(f"| {name} | **{r['ratio_median']:.2f}** | {r['ratio_min']:.2f} - "
                     f"{r['ratio_max']:.2f} | {1e3 * r['sksep_median_s']:.1f} "
                     f"| {1e3 * r['librosa_median_s']:.1f} "
                     f"| {r['max_abs_feature_difference']:.2g} |")
    lines.append("")
    if notes.get("features"):
        lines += [notes["features"], ""]
    return lines


def peers_section(data, notes):
    """``bench_peers.py``'s report, from its JSON; nothing when it was not run (the
    environments it builds take minutes, so it is not part of ``run_all.py``)."""
    if data is None:
        return []
    from bench_peers import report_markdown  # the same text as results/peers.md

    lines = [("#" + line if line.startswith("#") else line)
             for line in report_markdown(data).strip().splitlines()] + [""]
    if notes.get("peers"):
        lines += [notes["peers"], ""]
    return lines


#: Reports written as Markdown by their own scripts, included as they are.
STANDALONE_REPORTS = ("conv_campaign", "conv_campaign_high_band", "conv_throughput", "levers", "oracle_ceilings",
                      "shipped_recipe", "musdb_transfer",
                      "ensemble", "fullband",
                      "wiener", "probe_conv_nll", "compare_methods_epochs-15", "compare_methods",
                      "query_by_example", "startup", "training_speed",
                      "training_profile", "block_jobs", "grid_search", "quantize")

#: A relative image link of a report in ``results/``, as written there.
_IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\((?![a-z]+:|/)([^)]+)\)")


def standalone_sections():
    """The Markdown reports of :data:`STANDALONE_REPORTS` that exist, headings one level down."""
    lines = []
    for name in STANDALONE_REPORTS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            text = path.read_text(encoding="utf-8").strip()
            # Headings one level down; image links relative to RESULTS.md, not results/.
            lines += [("#" + line if line.startswith("#")
                       else _IMAGE_LINK.sub(r"![\1](results/\2)", line))
                      for line in text.splitlines()] + [""]
    return lines


def main(argv=None):
    notes = load("notes") or {}
    runs = [run for run in (load("run_all_quick"), load("run_all_full")) if run]
    lines = ["# sksep benchmark results", "",
             f"Generated by `python benchmarks/make_report.py` on "
             f"{utc_now()} from the JSON files in "
             "`benchmarks/results/` (the bench_*.py scripts; `python benchmarks/run_all.py "
             "[--quick]` runs them all and then this script). Each table names the machine "
             "it ran on; this machine is a shared 2-core CPU with other jobs running, so "
             "absolute times are indicative and comparisons are ratios measured side by "
             "side in paired rounds.", ""]
    for run in runs:
        lines += [f"Last `run_all.py{' --quick' if run.get('quick') else ''}`: "
                  f"{run['seconds'] / 60:.1f} min wall time on "
                  f"{machine_line(run.get('machine'))}; per benchmark: "
                  + ", ".join(f"{k} {v['seconds']:.0f} s"
                              + ("" if v['ok'] else " (FAILED)")
                              for k, v in run["steps"].items()) + ".", ""]
    if notes.get("summary"):
        lines += ["## Summary", "", notes["summary"], ""]
    lines += quality_section(load("quality"), notes)
    lines += sweep_section(load("alpha_sweep"), notes)
    lines += dc_section(load("dc_loss"), notes)
    lines += training_section(load("training"), notes)
    lines += separation_section(load("separation"), notes)
    lines += features_section(load("features"), notes)
    lines += peers_section(load("peers"), notes)
    lines += standalone_sections()
    if notes.get("profiling"):
        lines += ["## Profiling and what was changed", "", notes["profiling"], ""]
    if notes.get("not_done"):
        lines += ["## Not done", "", notes["not_done"], ""]
    atomic_write_text(OUT, "\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
