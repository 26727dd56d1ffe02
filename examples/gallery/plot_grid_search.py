"""
Grid search over ``alpha`` and ``embedding_dim``
================================================

A separator is a scikit-learn estimator, so :class:`~sklearn.pipeline.Pipeline`
and :class:`~sklearn.model_selection.GridSearchCV` work as they do for any
other. Here the search covers the Chimera network's two main knobs: ``alpha``,
the weight of the deep-clustering loss (0: a pure mask-inference network, 1:
pure deep clustering), and ``embedding_dim``, the size ``D`` of the embedding.
Folds are split by song with :class:`~sklearn.model_selection.GroupKFold`, so
that no song is in both the training and the validation part of a fold.

.. note::

   To build this page in seconds, the networks are tiny (one recurrent layer of
   16 units) and train for 3 epochs on twelve 3-second clips. The scores are
   far below the shipped model's and the ranking of the settings is noise as
   much as signal; what the example shows is how the search is written and
   read. Luo et al. (2017) find ``alpha = 0.1`` best with full-size networks.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sksep import ChimeraSeparator, MelFeatures
from sksep.datasets import load_mir1k
from sksep.plotting import plot_history

DATA = Path(os.environ.get("SKSEP_DATA", "../shared/data"))

# %%
# Training clips
# --------------
# Twelve 3-second excerpts of four songs by the MIR-1K training singers; the
# song ids are the ``groups`` of the folds.

train = load_mir1k(DATA / "MIR-1K", "train")
songs = sorted(set(train.groups))[::4][:4]
picks = [i for song in songs for i in np.flatnonzero(train.groups == song)[:3]]
three_seconds = slice(0, 3 * train.sample_rate)
X = [train.X[i][three_seconds] for i in picks]
Y = [train.Y[i][:, three_seconds] for i in picks]
groups = train.groups[picks]
print(f"{len(X)} clips from songs {', '.join(songs)}")

# %%
# The search
# ----------
# Grid search reaches the separator's parameters through the step name, as
# ``separator__alpha``; the features could be searched the same way
# (``features__n_mels``). The score is the separator's own ``score``: the
# length-weighted mean SI-SDR improvement in dB (see :mod:`sksep.metrics` for
# other scorers).

pipe = Pipeline([
    ("features", MelFeatures(n_mels=150, deltas=True)),
    ("separator", ChimeraSeparator(hidden_size=16, num_layers=1, segment_frames=50,
                                   max_epochs=3, batch_size=8, random_state=0)),
])
grid = {"separator__alpha": [0.0, 0.1, 0.5, 1.0], "separator__embedding_dim": [10, 20]}
search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=2), error_score="raise")
search.fit(X, Y, groups=groups)
search

# %%
# Scores
# ------

results = pd.DataFrame(search.cv_results_)
table = results.pivot(index="param_separator__alpha",
                      columns="param_separator__embedding_dim",
                      values="mean_test_score")
print("mean SI-SDRi over the folds (dB)")
print(table.round(2).to_string())
print("best:", search.best_params_, f"{search.best_score_:.2f} dB")

# %%
# The error bars are the standard deviation over the two folds.

fig, ax = plt.subplots(figsize=(6.4, 4))
for dim in grid["separator__embedding_dim"]:
    rows = results[results["param_separator__embedding_dim"] == dim]
    ax.errorbar(rows["param_separator__alpha"].astype(float), rows["mean_test_score"],
                yerr=rows["std_test_score"], marker="o", capsize=3, label=f"D = {dim}")
ax.set_xlabel("alpha (weight of the deep-clustering loss)")
ax.set_ylabel("SI-SDRi (dB), mean over folds")
ax.set_title("Grid search of a tiny Chimera network (3 epochs)", loc="left")
ax.grid(alpha=0.3)
ax.legend(frameon=False)
fig.tight_layout()

# %%
# The refitted best model
# -----------------------
# ``GridSearchCV`` refits the best setting on all the clips. Its separator keeps
# its training history; :func:`~sksep.plotting.plot_history` draws it, marking
# the epoch whose weights were kept (lowest validation loss).

best = search.best_estimator_.named_steps["separator"]
fig_history = plot_history(best)
fig_history
