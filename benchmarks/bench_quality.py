"""Quality on the MIR-1K test singers: one table gathered from the other benchmarks' JSON.

Nothing is retrained here. Rows come from

* ``benchmarks/results/conv_mir1k.json`` (``conv_mir1k.py``): mixture, oracle binary / Wiener masks
  on the linear and mel grids, ConvMaskSeparator (dnn, cnn), UNetSeparator (U-Net, UH-net);
* ``benchmarks/results/class_conditional_mir1k.json`` (``class_conditional_mir1k.py``):
  ClassConditionalSeparator and its mask-inference baseline;
* :func:`sksep.available_models`: the shipped ``chimera-mir1k`` (ChimeraSeparator, both
  heads; ``tools/train_shipped_model.py``).

Each row keeps where it comes from and its training budget. A missing source file is
reported as such. Usage::

    python benchmarks/bench_quality.py
"""

import json
import re

from _common import RESULTS, utc_now, write_report

SOURCES = ("vocals", "accompaniment")

# Huang et al. 2014 (deep RNN, MIR-1K, same training singers), voice.
HUANG = {"GNSDR": 7.45, "GSIR": 13.08, "GSAR": 9.68}


def _metrics(report):
    return {s: {k: report[s].get(k) for k in ("SI-SDRi", "GNSDR", "GSIR", "GSAR")}
            for s in SOURCES if s in report}


def from_conv(rows, missing):
    path = RESULTS / "conv_mir1k.json"
    if not path.exists():
        missing.append(f"{path.name} (benchmarks/conv_mir1k.py has not written it yet)")
        return
    data = json.loads(path.read_text())
    for label, report in data["rows"].items():
        training = data.get("training", {}).get(label, {})
        kind = ("floor" if label == "mixture" else
                "oracle" if label.startswith("oracle") else "model")
        estimator = {"dnn": "ConvMaskSeparator", "cnn": "ConvMaskSeparator",
                     "U-Net": "UNetSeparator", "UH-net": "UNetSeparator(hybrid=True)"}
        name = next((v for k, v in estimator.items() if label.startswith(k)),
                    "OracleMaskSeparator" if kind == "oracle" else "")
        rows.append({
            "label": label, "kind": kind, "estimator": name, "metrics": _metrics(report),
            "epochs": training.get("epochs"), "train_seconds": training.get("train_seconds"),
            "budget": (f"{data.get('budget_seconds', 0):g} s of training per row, 175 "
                       "training clips (10 % validation), 1 CPU thread"
                       if kind == "model" else ""),
            "grid": training.get("grid", ""), "source": f"benchmarks/results/{path.name}",
            "n_test_clips": data.get("n_test_clips"), "machine": data.get("machine"),
        })


def from_class_conditional(rows, missing):
    path = RESULTS / "class_conditional_mir1k.json"
    if not path.exists():
        missing.append(f"{path.name} (benchmarks/class_conditional_mir1k.py has not "
                       "written it yet)")
        return
    data = json.loads(path.read_text())
    if data.get("budget_seconds"):
        budget = f"{data['budget_seconds']:g} s of training per row"
    else:
        budget = f"{data.get('epochs')} epochs per row"
    for label, report in data["rows"].items():
        if label == "mixture" or label.startswith("oracle"):
            continue  # the same clips' floor and ceiling come from conv_mir1k.json
        training = data.get("training", {}).get(label, {})
        rows.append({
            "label": label, "kind": "model",
            "estimator": (f"ClassConditionalSeparator(covariance_type="
                          f"{training.get('covariance_type')!r})"),
            "metrics": _metrics(report), "epochs": training.get("epochs"),
            "train_seconds": training.get("train_seconds"),
            "budget": f"{budget}, 2 x 128 BLSTM, 175 training clips, 1 CPU thread",
            "grid": "mel", "source": f"benchmarks/results/{path.name}",
            "n_test_clips": data.get("n_test_clips"), "machine": data.get("machine"),
        })


def from_registry(rows, missing):
    import sksep

    entry = sksep.available_models().get("chimera-mir1k")
    if not entry:
        missing.append("chimera-mir1k scores (the package's registry has no entry yet: "
                       "tools/train_shipped_model.py is still running)")
        return
    for head in ("mi", "dc"):
        if head not in entry.get("scores", {}):
            continue
        rows.append({
            "label": f"chimera-mir1k ({head.upper()} head)", "kind": "model",
            "estimator": "ChimeraSeparator (shipped)",
            "metrics": _metrics(entry["scores"][head]), "epochs": _epochs(entry),
            "train_seconds": None, "budget": entry.get("training", ""), "grid": "mel",
            "source": "sksep.available_models()", "n_test_clips": 90, "machine": None,
        })


def _epochs(entry):
    found = re.search(r"(\d+) epochs", entry.get("training", ""))
    return int(found.group(1)) if found else None


def main(argv=None):
    rows, missing = [], []
    from_conv(rows, missing)
    from_class_conditional(rows, missing)
    from_registry(rows, missing)
    models = [r for r in rows if r["kind"] == "model" and "vocals" in r["metrics"]
              and r["metrics"]["vocals"].get("GNSDR") is not None]
    best = max(models, key=lambda r: r["metrics"]["vocals"]["GNSDR"], default=None)
    result = {"benchmark": "quality", "rows": rows, "missing": missing,
              "best": best["label"] if best else None, "huang2014_voice": HUANG,
              "luo2017_chimera_sdri": {"vocals": 5.5, "accompaniment": 7.8,
                                       "data": "DSD100-remix"},
              "date_utc": utc_now()}
    write_report(RESULTS / "quality", result)
    for row in rows:
        v = row["metrics"].get("vocals", {})
        print(f"{row['label']:<32} voc SI-SDRi {v.get('SI-SDRi') or 0:6.2f} "
              f"GNSDR {v.get('GNSDR') or 0:6.2f}  ({row['source']})")
    for line in missing:
        print("missing:", line)
    return result


if __name__ == "__main__":
    main()
