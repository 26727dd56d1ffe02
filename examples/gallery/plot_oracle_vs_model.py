"""
Oracle masks against a trained model
====================================

A score means little alone. Reading it between a floor and a ceiling tells how
much of what is possible a model achieved:

* the **mixture** itself as the estimate of every source scores 0 dB SI-SDRi and
  0 dB GNSDR, by definition;
* the **oracle** masks, computed from the true sources on the same feature grid
  and inverted the same way (:class:`~sksep.OracleMaskSeparator`), are the best a
  masking separator could do;
* a **trained model** lands in between.

This example scores both heads of the shipped Chimera network and the two
oracle masks on eight clips of the MIR-1K test singers. The full test set
(``sksep evaluate --model chimera-mir1k ../shared/data/MIR-1K``) gives the
numbers quoted for the model; eight clips keep the page quick to build.
"""

import copy
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sksep
from sksep import OracleMaskSeparator
from sksep.datasets import load_mir1k
from sksep.metrics import format_report_table, separation_report

DATA = Path(os.environ.get("SKSEP_DATA", "../shared/data"))
test = load_mir1k(DATA / "MIR-1K", "test")
picks = np.linspace(0, len(test.X) - 1, 8).astype(int)
X = [test.X[i] for i in picks]
Y = [test.Y[i] for i in picks]
print(f"{len(X)} clips, {sum(map(len, X)) / test.sample_rate:.0f} s in all:")
print(", ".join(test.names[picks]))

# %%
# Estimates of every system
# -------------------------
# The shipped model predicts with its mask-inference head (soft masks). Its
# deep-clustering head clusters the embeddings with K-means into binary masks;
# ``set_params(head="dc")`` on a copy switches to it without retraining.

model = sksep.load("chimera-mir1k")
dc_head = copy.deepcopy(model).set_params(head="dc")
estimates = {
    "mixture": [np.stack([x] * len(test.source_names)) for x in X],
    "oracle binary": OracleMaskSeparator(mask="binary").fit(X, Y).predict(X, Y),
    "oracle Wiener": OracleMaskSeparator(mask="wiener").fit(X, Y).predict(X, Y),
    "model, MI head": model.predict(X),
    "model, DC head": dc_head.predict(X),
}

# %%
# The metrics
# -----------
# :func:`~sksep.metrics.separation_report` gives per source the length-weighted
# mean SI-SDR improvement and the MIREX globals: GNSDR (length-weighted mean of
# SDR(estimate) - SDR(mixture)), GSIR and GSAR (length-weighted means of BSS
# Eval's SIR and SAR).

reports = {label: separation_report(Y, Y_pred, X, source_names=test.source_names)
           for label, Y_pred in estimates.items()}
for source in test.source_names:  # one table per source keeps the columns readable
    print(format_report_table({label: {source: report[source]}
                               for label, report in reports.items()}), end="\n\n")

# %%
# The mixture's GSAR is huge because the mixture holds no artifacts: everything
# in it that is not the reference is interference from the other source, which
# its GSIR (near 0 dB for two sources mixed at 0 dB) accounts for.

# %%
# Floor, model, ceiling
# ---------------------

metrics = ("SI-SDRi", "GNSDR")
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
width = 0.8 / len(reports)
for ax, metric in zip(axes, metrics):
    for k, (label, report) in enumerate(reports.items()):
        values = [report[source][metric] for source in test.source_names]
        ax.bar(np.arange(len(values)) + k * width, values, width, label=label)
    ax.set_xticks(np.arange(len(test.source_names)) + width * (len(reports) - 1) / 2)
    ax.set_xticklabels(test.source_names)
    ax.set_title(f"{metric} (dB)", loc="left")
    ax.axhline(0, color="black", lw=0.8)
    ax.grid(axis="y", alpha=0.3)
axes[0].legend(frameon=False, fontsize=9)
fig.tight_layout()

# %%
# The gap to the oracle is what a better model could still win on this feature
# grid; the gap between the oracle and a perfect separation (infinite dB) is lost
# to masking the mixture's magnitude and keeping its phase.
