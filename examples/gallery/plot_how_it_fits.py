"""
How features, targets, masks and estimators fit together
========================================================

Every separator in sksep follows the same chain. A mixture becomes a
:class:`~sksep.SpectrogramRecord` (:class:`~sksep.MelFeatures`); a network reads
its features and predicts one **mask** per source on the feature grid (150 mel
bands by default); :func:`~sksep.apply_masks` maps the masks to the STFT grid,
multiplies them with the mixture's STFT and inverts with the mixture's phase.
During training, **targets** (:class:`~sksep.IdealBinaryMask`,
:class:`~sksep.WienerMask`) turn the true sources into the masks a network should
predict.

This example walks through the chain by hand on one real MIR-1K clip, with the
ideal masks standing in for a network, and then shows the estimator that does
the same in one call.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The chain at a glance
# ---------------------
# Shapes are for one clip of ``n`` samples at 16 kHz with the default features:
# ``T = 1 + n // 128`` frames, 300 features (150 log-mel bands and their deltas),
# ``C`` sources.

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

boxes = {  # name: (left, bottom, label); blue boxes run at predict, orange ones in fit
    "mixture": (0.00, 0.60, "mixture X\n(n,)"),
    "features": (0.20, 0.60, "MelFeatures\n.transform"),
    "record": (0.40, 0.60, "SpectrogramRecord\nfeatures (T, 300)\nstft (257, T)"),
    "network": (0.60, 0.60, "separator's\nnetwork"),
    "masks": (0.80, 0.60, "masks\n(C, T, 150)"),
    "sources": (0.00, 0.10, "sources Y\n(C, n)"),
    "targets": (0.20, 0.10, "IdealBinaryMask\nWienerMask"),
    "loss": (0.40, 0.10, "training loss\n(DC, MSA, mMSA)"),
    "estimates": (0.60, 0.10, "estimates\n(C, n)"),
    "apply": (0.80, 0.10, "apply_masks\n(mixture phase)"),
}
fit_only = {"sources", "targets", "loss"}
fig_chain, ax = plt.subplots(figsize=(11, 3.8))
ax.set_axis_off()
ax.set_xlim(-0.01, 0.97)
ax.set_ylim(0.0, 1.0)
width, height = 0.16, 0.28
for key, (x, y, label) in boxes.items():
    colour = "#fde2c6" if key in fit_only else "#dbe9f6"
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.005",
                                facecolor=colour, edgecolor="#34495e"))
    ax.text(x + width / 2, y + height / 2, label, ha="center", va="center", fontsize=10)


def arrow(start, end, label=""):
    (x0, y0, _), (x1, y1, _) = boxes[start], boxes[end]
    if y0 == y1:  # same row: from the right edge to the left edge (or back)
        forward = x1 > x0
        begin = (x0 + (width if forward else 0), y0 + height / 2)
        finish = (x1 + (0 if forward else width), y1 + height / 2)
    else:  # between rows: bottom edge to top edge
        begin, finish = (x0 + width / 2, y0), (x1 + width / 2, y1 + height)
    ax.annotate("", xy=finish, xytext=begin,
                arrowprops=dict(arrowstyle="-|>", color="#34495e", lw=1.5))
    if label:
        ax.text((begin[0] + finish[0]) / 2, (begin[1] + finish[1]) / 2 + 0.04, label,
                ha="center", fontsize=9, color="#34495e")


for start, end in [("mixture", "features"), ("features", "record"),
                   ("record", "network"), ("network", "masks"), ("masks", "apply"),
                   ("apply", "estimates"), ("sources", "targets"), ("targets", "loss")]:
    arrow(start, end)
arrow("network", "loss", "fit")
ax.set_title("blue: what predict runs; orange: what fit adds", loc="left", fontsize=10)
fig_chain.tight_layout()

# %%
# One real clip
# -------------
# MIR-1K stores each clip as a stereo file: accompaniment on the left, vocals on
# the right. :func:`~sksep.datasets.load_mir1k` returns the mixture (their sum)
# and the two sources, here of a 5-second clip by one of the test singers.

import os
from pathlib import Path

import numpy as np

from sksep import IdealBinaryMask, MelFeatures, WienerMask, apply_masks
from sksep.datasets import load_mir1k
from sksep.metrics import si_sdr_improvement
from sksep.plotting import plot_masks

DATA = Path(os.environ.get("SKSEP_DATA", "../shared/data"))
test = load_mir1k(DATA / "MIR-1K", "test")
clip = test.names.tolist().index("annar_3_05")
mixture, sources = test.X[clip], test.Y[clip]
print(f"{len(mixture) / test.sample_rate:.1f} s: mixture {mixture.shape}, "
      f"sources {sources.shape} {test.source_names}")

# %%
# Features
# --------
# :class:`~sksep.MelFeatures` is a scikit-learn transformer. Its output is one
# record per clip: the network input and what is needed to invert.

record = MelFeatures().fit_transform([mixture])[0]
print(record)
print("features", record.features.shape, "| magnitude", record.magnitude.shape,
      "| stft", record.stft.shape)

# %%
# Targets are masks
# -----------------
# The ideal binary mask gives each time-frequency bin to its loudest source (the
# deep-clustering target); the Wiener-like mask shares it in proportion to the
# sources' power (the mask-inference target). Both live on the 150-band feature
# grid and sum to one over the sources.

binary = IdealBinaryMask().masks(record, sources)
wiener = WienerMask().masks(record, sources)
for name, masks in (("binary", binary), ("wiener", wiener)):
    print(name, masks.shape, "sums to one:", np.allclose(masks.sum(0), 1, atol=1e-5))

fig_masks = plot_masks(record, wiener, source_names=test.source_names)
fig_masks

# %%
# Masks become waveforms
# ----------------------
# :func:`~sksep.apply_masks` is the one function that turns feature-grid masks
# into estimates; every separator calls it. With ideal masks the result is the
# best any masking separator could do on this grid: the *oracle*, the ceiling
# trained models are read against. Because the masks sum to one, the estimates
# sum back to the mixture.

for name, masks in (("ideal binary", binary), ("Wiener-like", wiener)):
    estimates = apply_masks(record, masks)
    gain = si_sdr_improvement(sources, estimates, mixture)
    null_sum = np.allclose(estimates.sum(0), mixture, atol=1e-4)
    print(f"{name:13} mask: SI-SDRi vocals {gain[0]:5.2f} dB, "
          f"accompaniment {gain[1]:5.2f} dB; estimates sum to the mixture: {null_sum}")

# %%
# Estimators do all of this
# -------------------------
# :class:`~sksep.OracleMaskSeparator` runs the same chain as an estimator (it
# needs the true sources at ``predict``), and the trained separators run it with
# a network's masks. In a :class:`~sklearn.pipeline.Pipeline` the features are a
# step of their own, so a grid search can tune them; a bare separator builds
# ``MelFeatures()`` itself.

from sklearn.pipeline import Pipeline

from sksep import ChimeraSeparator, OracleMaskSeparator

oracle = OracleMaskSeparator(mask="wiener").fit([mixture], [sources])
same = np.allclose(oracle.predict([mixture], [sources])[0], apply_masks(record, wiener),
                   atol=1e-6)
print("OracleMaskSeparator(mask='wiener') gives the same estimates:", same)

pipe = Pipeline([("features", MelFeatures(n_mels=150, deltas=True)),
                 ("separator", ChimeraSeparator(alpha=0.1, embedding_dim=20))])
pipe
