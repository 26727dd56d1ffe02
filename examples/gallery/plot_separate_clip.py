"""
Separate a MIR-1K clip with the shipped model
=============================================

sksep ships a trained :class:`~sksep.ChimeraSeparator`, loaded by name with
:func:`sksep.load`. This example separates a clip by one of the MIR-1K test
singers (the model never heard them), plots the mixture, the predicted masks and
the estimated waveforms, and scores the estimates against the mixture (the
floor) and the oracle Wiener-like mask (the ceiling).
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sksep
from sksep import OracleMaskSeparator, apply_masks
from sksep.datasets import load_mir1k
from sksep.metrics import bss_eval, si_sdr_improvement
from sksep.plotting import plot_masks

DATA = Path(os.environ.get("SKSEP_DATA", "../shared/data"))

# %%
# The shipped model
# -----------------
# :func:`sksep.available_models` lists the shipped models with how they were
# trained and their scores on the MIR-1K test singers. A loaded model is a fitted
# estimator: it shows its parameters like any scikit-learn estimator.

entry = sksep.available_models()["chimera-mir1k"]
print(entry.get("description", ""))
model = sksep.load("chimera-mir1k")
model

# %%
# A test clip
# -----------

test = load_mir1k(DATA / "MIR-1K", "test")
clip = test.names.tolist().index("annar_3_05")
mixture, sources = test.X[clip], test.Y[clip]
seconds = len(mixture) / test.sample_rate
print(f"{test.names[clip]}: {seconds:.1f} s at {test.sample_rate} Hz")

# %%
# Masks
# -----
# ``predict`` is ``predict_masks`` followed by :func:`~sksep.apply_masks`; calling
# the two steps shows the masks too. The mask-inference head gives soft masks
# that sum to one over the sources.

record = model.features_.transform([mixture])[0]
masks = model.predict_masks([record])[0]
estimates = apply_masks(record, masks)
fig_masks = plot_masks(record, masks, source_names=test.source_names)
fig_masks

# %%
# Waveforms
# ---------
# Each true source in grey, and in colour what its estimate gets wrong (estimate
# minus true source): the smaller the coloured trace, the better. In a notebook,
# ``IPython.display.Audio(estimates[0], rate=16000)`` plays an estimate.

time = np.arange(len(mixture)) / test.sample_rate
fig_waves, axes = plt.subplots(3, 1, figsize=(10, 5.5), sharex=True, sharey=True)
axes[0].plot(time, mixture, color="black", lw=0.5)
axes[0].set_title("mixture", loc="left")
colours = ("tab:red", "tab:blue")
for ax, name, truth, estimate, colour in zip(axes[1:], test.source_names, sources,
                                             estimates, colours):
    ax.plot(time, truth, color="0.65", lw=0.5, label="true source")
    ax.plot(time, estimate - truth, color=colour, lw=0.5, label="estimate - true source")
    ax.set_title(name, loc="left")
    ax.legend(loc="upper right", frameon=False, ncol=2)
axes[-1].set_xlabel("time (s)")
fig_waves.tight_layout()

# %%
# Scores
# ------
# SI-SDRi is the gain in scale-invariant SDR over the mixture itself; BSS Eval's
# SDR, SIR (leakage of the other source) and SAR (artifacts) come from museval.
# All in dB, higher is better. The oracle Wiener-like mask uses the true sources:
# no masking separator on this feature grid can expect to beat it. (The mixture's
# SAR is huge because it holds no artifacts, only the other source.)

oracle = OracleMaskSeparator(mask="wiener").fit([mixture], [sources])
systems = {
    "mixture": np.stack([mixture, mixture]),
    "chimera-mir1k": estimates,
    "oracle Wiener": oracle.predict([mixture], [sources])[0],
}
print(f"{'':15}{'source':>14}{'SI-SDRi':>9}{'SDR':>8}{'SIR':>8}{'SAR':>8}")
for label, estimate in systems.items():
    gain = si_sdr_improvement(sources, estimate, mixture)
    bss = bss_eval(sources, estimate)
    for j, name in enumerate(test.source_names):
        print(f"{label:15}{name:>14}{gain[j]:9.2f}{bss['sdr'][j]:8.2f}"
              f"{bss['sir'][j]:8.2f}{bss['sar'][j]:8.2f}")
