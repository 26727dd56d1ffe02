"""Figures: masks over the mixture spectrogram, embeddings, training curves.

Needs matplotlib, an optional dependency (``pip install 'sksep[plots]'``). The
functions build :class:`matplotlib.figure.Figure` objects directly, without
pyplot: no GUI backend is needed (they render with Agg, on headless machines
too), nothing stays registered in pyplot's global figure list, and a notebook
shows a returned figure once, inline. Save one with ``fig.savefig("x.png")``.
"""

import io

import numpy as np

from ._features import MelFeatures, SpectrogramRecord
from ._spectral import FeatureGrid, linear_grid
from ._validation import check_int
from .exceptions import InvalidAudioTypeError, InvalidInputError, InvalidParameterTypeError

__all__ = ["check_matplotlib", "plot_embeddings", "plot_history", "plot_masks"]

_INSTALL_HINT = "pip install 'sksep[plots]'"

# Frequencies labelled on spectrogram axes, in Hz.
_FREQUENCY_TICKS = (250, 500, 1000, 2000, 4000, 8000, 16000)


def _figure_class():
    """A :class:`matplotlib.figure.Figure` that notebooks show inline, or an ImportError
    that says how to install matplotlib."""
    try:
        from matplotlib.figure import Figure  # optional dependency (sksep[plots])
    except ImportError:
        raise ImportError(
            f"plotting needs matplotlib, which is not installed; {_INSTALL_HINT}"
        ) from None

    class InlineFigure(Figure):
        """A Figure with a PNG representation, so Jupyter shows it without pyplot."""

        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return InlineFigure


def check_matplotlib():
    """Check that matplotlib, which every figure here needs, can be imported.

    Call it before long work whose last step draws a figure, so that a missing
    matplotlib is reported before the work, not after (``sksep separate --plot``
    does).

    Raises
    ------
    ImportError
        matplotlib is not installed; the message says how to install it.

    Examples
    --------
    >>> from sksep.plotting import check_matplotlib
    >>> check_matplotlib()   # silent when matplotlib is installed
    """
    _figure_class()


def _source_labels(source_names, n_sources, name="source_names"):
    if source_names is None:
        return [f"source{i}" for i in range(n_sources)]
    if isinstance(source_names, str) or len(source_names) != n_sources:
        raise InvalidInputError(
            f"{name}={source_names!r} must hold {n_sources} names, one per source"
        )
    return [str(name) for name in source_names]


def _mixture_and_grid(record_or_mixture, n_bins, sample_rate):
    """Mixture magnitude ``(n_frames, n_bins)`` and its grid, from the accepted inputs."""
    if isinstance(record_or_mixture, SpectrogramRecord):
        grid = record_or_mixture.grid
        if n_bins == grid.n_freq != grid.n_bins:  # masks on the STFT bins (mask_grid_)
            return np.abs(record_or_mixture.stft).T, linear_grid(grid)
        return record_or_mixture.magnitude, grid
    if isinstance(record_or_mixture, (str, bytes)) or record_or_mixture is None:
        raise InvalidAudioTypeError(
            f"record_or_mixture must be a SpectrogramRecord, a mono waveform (n_samples,) or a "
            f"magnitude (n_frames, n_bins), got {type(record_or_mixture).__name__}"
        )
    array = np.asarray(record_or_mixture)
    if array.ndim == 1:
        features = MelFeatures(sample_rate=sample_rate, n_mels=n_bins, deltas=False)
        record = features.fit_transform([array])[0]
        return record.magnitude, record.grid
    if array.ndim == 2:
        return array.astype(np.float32), FeatureGrid(sample_rate=sample_rate, n_mels=n_bins)
    raise InvalidInputError(
        f"record_or_mixture has shape {array.shape}; expected a SpectrogramRecord, a mono "
        f"waveform (n_samples,) or a magnitude (n_frames, n_bins)"
    )


def _frequency_axis(ax, grid, n_bins):
    """Label bin indices with the Hz of the bin centres (mel bins are not evenly spaced)."""
    centres = grid.bin_frequencies()
    ticks = [f for f in _FREQUENCY_TICKS if centres[0] <= f <= centres[-1]]
    ax.set_yticks(np.interp(ticks, centres, np.arange(n_bins)))
    ax.set_yticklabels([f"{f / 1000:g}k" if f >= 1000 else f"{f:g}" for f in ticks])
    ax.set_ylabel("frequency (Hz)")


def plot_masks(record_or_mixture, masks, *, source_names=None, sample_rate=16000):
    """Mixture log-spectrogram above one panel per source mask.

    Parameters
    ----------
    record_or_mixture : SpectrogramRecord, ndarray (n_samples,) or ndarray (n_frames, n_bins)
        The mixture: a record from :meth:`MelFeatures.transform` (its grid is
        used), a mono waveform (default :class:`MelFeatures` settings at
        ``sample_rate`` with as many mel bands as ``masks``), or a magnitude on
        the feature grid.
    masks : ndarray of shape (n_sources, n_frames, n_bins)
        Masks on the feature grid, values in [0, 1], e.g. from
        ``estimator.predict_masks(X)[0]`` or :class:`IdealBinaryMask`; with a record,
        masks on its ``n_freq`` STFT bins are shown over the STFT magnitude.
    source_names : list of str, optional
        Panel titles; default ``source0``, ``source1``...
    sample_rate : int, default=16000
        Hz, for waveform and magnitude inputs (a record knows its own).

    Returns
    -------
    figure : matplotlib.figure.Figure
        ``1 + n_sources`` image axes, each with its colour bar (``2 * (1 + n_sources)``
        axes in ``figure.axes``); time in seconds, frequency in Hz at the bin centres.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import IdealBinaryMask, MelFeatures
    >>> from sksep.plotting import plot_masks
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 16000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(0)])[0]
    >>> masks = IdealBinaryMask().masks(record, sources)
    >>> fig = plot_masks(record, masks, source_names=["vocals", "accompaniment"])
    >>> len(fig.axes)
    6
    """
    Figure = _figure_class()
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1000)
    masks = np.asarray(masks, dtype=np.float32)
    if masks.ndim != 3:
        raise InvalidInputError(
            f"masks has shape {masks.shape}; expected (n_sources, n_frames, n_bins)"
        )
    n_sources, n_frames, n_bins = masks.shape
    magnitude, grid = _mixture_and_grid(record_or_mixture, n_bins, sample_rate)
    if magnitude.shape != (n_frames, n_bins):
        raise InvalidInputError(
            f"masks has shape {masks.shape} but the mixture's feature grid is "
            f"{magnitude.shape} (n_frames, n_bins); expected masks of shape "
            f"(n_sources, {magnitude.shape[0]}, {magnitude.shape[1]})"
        )
    names = _source_labels(source_names, n_sources)

    seconds = n_frames * grid.hop_length / grid.sample_rate
    extent = (0.0, seconds, -0.5, n_bins - 0.5)
    level = 20 * np.log10(np.maximum(magnitude, 1e-10) / max(float(magnitude.max()), 1e-10))
    figure = Figure(figsize=(10, 1.2 + 2.1 * (1 + n_sources)), layout="constrained")
    axes = figure.subplots(1 + n_sources, 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    image = axes[0].imshow(level.T, origin="lower", aspect="auto", extent=extent,
                           cmap="magma", vmin=-80, vmax=0, interpolation="nearest")
    axes[0].set_title("mixture (dB below its loudest bin)", loc="left")
    figure.colorbar(image, ax=axes[0], label="dB", pad=0.01)
    for ax, mask, name in zip(axes[1:], masks, names):
        image = ax.imshow(mask.T, origin="lower", aspect="auto", extent=extent,
                          cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{name} mask", loc="left")
        figure.colorbar(image, ax=ax, label="mask", pad=0.01)
    for ax in axes:
        _frequency_axis(ax, grid, n_bins)
    axes[-1].set_xlabel("time (s)")
    return figure


def plot_embeddings(embedding, masks_or_labels, *, source_names=None, weights=None,
                    max_points=5000, random_state=0):
    """Embeddings of the time-frequency bins in 2-D (PCA), coloured by dominant source.

    The picture of Seetharaman et al. (2019), Fig. 2: when deep clustering has
    learned, bins dominated by different sources form separate clouds.

    Parameters
    ----------
    embedding : ndarray of shape (n_frames, n_bins, embedding_dim) or (n_points, embedding_dim)
        E.g. ``estimator.embed(X)[0]``.
    masks_or_labels : ndarray (n_sources, n_frames, n_bins) or integer ndarray (n_frames, n_bins)
        Source masks (the dominant source of a bin is the argmax, e.g. an ideal
        binary mask) or the source index of each bin.
    source_names : list of str, optional
        Legend entries; default ``source0``, ``source1``...
    weights : ndarray of shape (n_frames, n_bins), optional
        Only bins with positive weight are drawn, e.g. the loud bins of
        ``IdealBinaryMask().weights(record)``; default every bin.
    max_points : int, default=5000
        Draw a random subset of at most this many bins.
    random_state : int, default=0
        Seeds the subset and the PCA.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes.

    Examples
    --------
    With a trained separator, ``embedding = model.embed([record])[0]``, ``masks =
    IdealBinaryMask().masks(record, sources)`` and ``weights =
    IdealBinaryMask().weights(record)``. Here, two clouds of random embeddings:

    >>> import numpy as np
    >>> from sksep.plotting import plot_embeddings
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, size=(100, 150))           # (n_frames, n_bins)
    >>> embedding = rng.normal(size=(100, 150, 20)) + 3 * labels[..., None]
    >>> fig = plot_embeddings(embedding, labels, source_names=["vocals", "accompaniment"],
    ...                       max_points=2000)
    >>> len(fig.axes), fig.axes[0].get_title(loc="left")
    (1, 'Embeddings of 2000 bins, coloured by dominant source')
    """
    from sklearn.decomposition import PCA  # start-up: 0.2 s `sksep separate` does not need

    Figure = _figure_class()
    max_points = check_int(max_points, name="max_points", minimum=10)
    embedding = np.asarray(embedding, dtype=np.float32)
    if embedding.ndim not in (2, 3) or embedding.shape[-1] < 2:
        raise InvalidInputError(
            f"embedding has shape {embedding.shape}; expected (n_frames, n_bins, "
            f"embedding_dim) or (n_points, embedding_dim) with embedding_dim >= 2"
        )
    points = embedding.reshape(-1, embedding.shape[-1])
    assignment = np.asarray(masks_or_labels)
    if assignment.ndim == embedding.ndim and assignment.dtype.kind == "f":
        n_sources = assignment.shape[0]
        labels = assignment.argmax(axis=0).reshape(-1)
    elif assignment.ndim == embedding.ndim - 1 and assignment.dtype.kind in "iu":
        labels = assignment.reshape(-1)
        n_sources = int(labels.max()) + 1 if labels.size else 0
    else:
        raise InvalidInputError(
            f"masks_or_labels has shape {assignment.shape} and dtype {assignment.dtype}; "
            f"expected float masks (n_sources, {', '.join(map(str, embedding.shape[:-1]))}) "
            f"or integer labels ({', '.join(map(str, embedding.shape[:-1]))})"
        )
    if labels.shape[0] != points.shape[0]:
        raise InvalidInputError(
            f"masks_or_labels covers {labels.shape[0]} bins but embedding has "
            f"{points.shape[0]}; expected the same time-frequency grid"
        )
    keep = np.ones(len(points), dtype=bool)
    if weights is not None:
        weights = np.asarray(weights).reshape(-1)
        if weights.shape[0] != points.shape[0]:
            raise InvalidInputError(
                f"weights covers {weights.shape[0]} bins but embedding has {points.shape[0]}"
            )
        keep = weights > 0
    chosen = np.flatnonzero(keep)
    if chosen.size < 2:
        raise InvalidInputError("fewer than 2 bins to draw (are all weights zero?)")
    rng = np.random.default_rng(random_state)
    if chosen.size > max_points:
        chosen = np.sort(rng.choice(chosen, size=max_points, replace=False))
    pca = PCA(n_components=2, random_state=random_state)
    projected = pca.fit_transform(points[chosen])
    names = _source_labels(source_names, n_sources)

    figure = Figure(figsize=(6.4, 5.4), layout="constrained")
    ax = figure.subplots()
    for source, name in enumerate(names):
        selected = labels[chosen] == source
        ax.scatter(projected[selected, 0], projected[selected, 1], s=6, alpha=0.5,
                   label=f"{name} ({int(selected.sum())} bins)", linewidths=0)
    ratio = pca.explained_variance_ratio_
    ax.set_xlabel(f"principal component 1 ({100 * ratio[0]:.0f}% of variance)")
    ax.set_ylabel(f"principal component 2 ({100 * ratio[1]:.0f}% of variance)")
    subset = "loud " if weights is not None else ""
    ax.set_title(f"Embeddings of {chosen.size} {subset}bins, coloured by dominant source",
                 loc="left")
    ax.legend(markerscale=3, frameon=False)
    return figure


def _history_rows(history):
    if hasattr(history, "epoch_summary_"):
        history = history.epoch_summary_
    elif hasattr(history, "history_"):
        history = history.history_
    if isinstance(history, dict) or not hasattr(history, "__iter__"):
        raise InvalidParameterTypeError(
            f"history must be a skorch History, a list of dicts with 'epoch' and "
            f"'train_loss' (an estimator's epoch_summary_) or a fitted estimator, "
            f"got {type(history).__name__}"
        )
    # An epoch cut short (TimeBudget, Ctrl-C) has no training loss: leave it out.
    rows = [dict(row) for row in history if "train_loss" in row]
    if not rows:
        raise InvalidInputError(
            "history holds no epochs with a 'train_loss'; expected a trained model's history"
        )
    return rows


def plot_history(history):
    """Training and validation loss per epoch.

    Parameters
    ----------
    history : skorch History, list of dict, or fitted estimator
        ``estimator.history_``, ``estimator.epoch_summary_`` (kept in model
        files), or the estimator itself. Rows need ``"train_loss"`` and may have
        ``"epoch"`` and ``"valid_loss"``.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes; the epoch with the lowest validation loss (the one whose
        weights the separators keep) is marked.

    Examples
    --------
    >>> from sksep.plotting import plot_history
    >>> summary = [{"epoch": 1, "train_loss": 0.9, "valid_loss": 0.8},
    ...            {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.7},
    ...            {"epoch": 3, "train_loss": 0.5, "valid_loss": 0.75}]
    >>> fig = plot_history(summary)       # or plot_history(model), model.history_
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training loss', 'validation loss', 'best epoch (2)']
    """
    Figure = _figure_class()
    rows = _history_rows(history)
    epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(rows)])
    train = np.array([row["train_loss"] for row in rows], dtype=float)
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = figure.subplots()
    ax.plot(epochs, train, marker="o", markersize=3, label="training loss")
    if any("valid_loss" in row for row in rows):
        valid = np.array([row.get("valid_loss", np.nan) for row in rows], dtype=float)
        ax.plot(epochs, valid, marker="o", markersize=3, label="validation loss")
        if np.isfinite(valid).any():
            best = int(np.nanargmin(valid))
            ax.plot(epochs[best], valid[best], marker="*", markersize=14, color="black",
                    linestyle="none", label=f"best epoch ({epochs[best]})")
    from matplotlib.ticker import MaxNLocator  # optional dependency (sksep[plots])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training history", loc="left")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return figure
