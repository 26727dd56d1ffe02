"""
Four stems from a MUSDB excerpt
===============================

Nothing in sksep is tied to two sources: ``Y`` holds as many stems as the data
has, and every separator predicts that many. This example loads three MUSDB18
excerpts with their four stems (vocals, drums, bass, other), scores the two
oracle masks on one of them, trains a small :class:`~sksep.ChimeraSeparator` on
the other two, and plots the masks.

.. warning::

   Three songs of 30 s are far too little to train or to judge a four-stem
   separator, and the network here trains for about twenty seconds so that the
   page builds quickly. Its numbers show that the API works on four stems, not
   how well Chimera networks separate them. The oracle rows are meaningful: they
   are the ceiling of masking on this feature grid.
"""

import os
from pathlib import Path

import numpy as np

from sksep import ChimeraSeparator, OracleMaskSeparator, WienerMask
from sksep.callbacks import TimeBudget
from sksep.datasets import load_musdb
from sksep.metrics import format_report_table, separation_report
from sksep.plotting import plot_masks

DATA = Path(os.environ.get("SKSEP_DATA", "../shared/data"))

# %%
# Loading a MUSDB-style folder
# ----------------------------
# :func:`~sksep.datasets.load_musdb` reads one folder per song with one file per
# stem, down-mixes to mono and resamples to the 16 kHz of the separators.

musdb = load_musdb(DATA / "MUSDB18-excerpts", sample_rate=16000)
for name, x, y in zip(musdb.names, musdb.X, musdb.Y):
    print(f"{name}: {len(x) / musdb.sample_rate:.1f} s, Y {y.shape}")
print("sources:", musdb.source_names)

# %%
# Two songs to train on, 15 seconds of the third to test on.

X_train, Y_train = musdb.X[:2], musdb.Y[:2]
fifteen_seconds = slice(5 * musdb.sample_rate, 20 * musdb.sample_rate)
X_test = [musdb.X[2][fifteen_seconds]]
Y_test = [musdb.Y[2][:, fifteen_seconds]]

# %%
# A small network, trained for seconds
# ------------------------------------
# :class:`~sksep.callbacks.TimeBudget` ends training after a wall-clock budget;
# the weights of the best epoch are kept.

model = ChimeraSeparator(hidden_size=32, num_layers=1, embedding_dim=10,
                         segment_frames=100, max_epochs=6, validation_fraction=0.0,
                         random_state=0, callbacks=[TimeBudget(20)])
model.fit(X_train, Y_train)
print(f"trained {len(model.history_)} epochs; kept epoch {model.best_epoch_}")

# %%
# Scores on the test excerpt
# --------------------------
# SI-SDR improvement and the MIREX globals (see :mod:`sksep.metrics`), in dB.
# With one 15-second excerpt these are the scores of one clip, not an average.

binary = OracleMaskSeparator(mask="binary").fit(X_test, Y_test)
wiener = OracleMaskSeparator(mask="wiener").fit(X_test, Y_test)
systems = {
    "mixture": [np.stack([x] * len(musdb.source_names)) for x in X_test],
    "oracle binary": binary.predict(X_test, Y_test),
    "oracle Wiener": wiener.predict(X_test, Y_test),
    "tiny Chimera": model.predict(X_test),
}
reports = {label: separation_report(Y_test, Y_pred, X_test,
                                    source_names=musdb.source_names)
           for label, Y_pred in systems.items()}
for metric in ("SI-SDRi", "GNSDR"):  # one table per metric keeps the columns readable
    rows = {label: {source: {metric: scores[metric]}
                    for source, scores in report.items()}
            for label, report in reports.items()}
    print(format_report_table(rows), end="\n\n")

# %%
# Masks: the oracle and the network
# ---------------------------------
# Four masks per clip, one per stem, each summing with the others to one in
# every bin. The oracle shows what the network should learn: bass at the bottom
# of the spectrum, drums as vertical strokes, vocals as harmonic lines.

record = model.features_.transform(X_test)[0]
oracle_masks = WienerMask().masks(record, Y_test[0])
fig_oracle = plot_masks(record, oracle_masks, source_names=musdb.source_names)
fig_oracle.suptitle("oracle Wiener-like masks", x=0.01, ha="left")
fig_oracle

# %%

fig_model = plot_masks(record, model.predict_masks([record])[0],
                       source_names=musdb.source_names)
fig_model.suptitle("tiny Chimera network, trained for seconds", x=0.01, ha="left")
fig_model
