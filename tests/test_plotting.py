"""Tests for sksep.plotting: each figure has the expected panels and saves to PNG."""

import sys

import numpy as np
import pytest

from sksep import ChimeraSeparator, IdealBinaryMask, MelFeatures
from sksep.exceptions import InvalidAudioTypeError, InvalidInputError, InvalidParameterTypeError
from sksep.plotting import plot_embeddings, plot_history, plot_masks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAMES = ["vocals", "accompaniment"]


@pytest.fixture(scope="module")
def clip(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return X[0], Y[0]


@pytest.fixture(scope="module")
def record(clip):
    return MelFeatures().fit_transform([clip[0]])[0]


@pytest.fixture(scope="module")
def model(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return ChimeraSeparator(hidden_size=8, num_layers=1, embedding_dim=8, max_epochs=2,
                            random_state=0).fit(X[:3], Y[:3])


def _saves_png(figure, path):
    figure.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


class TestPlotMasks:
    def test_record_and_ideal_masks(self, record, clip, tmp_path):
        masks = IdealBinaryMask().masks(record, clip[1])
        figure = plot_masks(record, masks, source_names=NAMES)
        assert len(figure.axes) == 6  # mixture + 2 masks, each with its colour bar
        titles = [ax.get_title(loc="left") for ax in figure.axes]
        assert "vocals mask" in titles and "accompaniment mask" in titles
        assert figure.axes[2].get_xlabel() == "time (s)"  # the image axes come first
        assert figure.axes[0].get_ylabel() == "frequency (Hz)"
        _saves_png(figure, tmp_path / "masks.png")

    def test_waveform_and_magnitude_inputs(self, record, clip, model):
        masks = model.predict_masks([clip[0]])[0]
        assert len(plot_masks(clip[0], masks).axes) == 6
        assert len(plot_masks(record.magnitude, masks[:1]).axes) == 4

    def test_bad_shapes(self, record):
        with pytest.raises(InvalidInputError, match=r"masks has shape \(2, 10, 150\) but"):
            plot_masks(record, np.zeros((2, 10, 150)))
        with pytest.raises(InvalidInputError, match="expected \\(n_sources, n_frames, n_bins\\)"):
            plot_masks(record, np.zeros((10, 150)))
        with pytest.raises(InvalidInputError, match="source_names=\\['a'\\] must hold 2 names"):
            plot_masks(record, np.zeros((2,) + record.magnitude.shape), source_names=["a"])
        with pytest.raises(InvalidAudioTypeError, match="must be a SpectrogramRecord"):
            plot_masks("song.wav", np.zeros((2,) + record.magnitude.shape))


class TestPlotEmbeddings:
    def test_loud_bins_coloured_by_source(self, model, record, clip, tmp_path):
        embedding = model.embed([record])[0]
        masks = IdealBinaryMask().masks(record, clip[1])
        weights = IdealBinaryMask().weights(record)
        figure = plot_embeddings(embedding, masks, source_names=NAMES, weights=weights,
                                 max_points=500)
        assert len(figure.axes) == 1
        assert sum(len(c.get_offsets()) for c in figure.axes[0].collections) == 500
        _saves_png(figure, tmp_path / "embeddings.png")

    def test_integer_labels(self, model, record):
        embedding = model.embed([record])[0]
        labels = np.zeros(embedding.shape[:2], dtype=np.int64)
        labels[:, 75:] = 1
        assert len(plot_embeddings(embedding, labels).axes) == 1

    def test_bad_labels(self, model, record):
        embedding = model.embed([record])[0]
        with pytest.raises(InvalidInputError, match="masks_or_labels has shape"):
            plot_embeddings(embedding, np.zeros(5))


class TestPlotHistory:
    def test_history_and_epoch_summary(self, model, tmp_path):
        for history in (model.history_, model.epoch_summary_, model):
            figure = plot_history(history)
            assert len(figure.axes) == 1
            labels = [line.get_label() for line in figure.axes[0].get_lines()]
            assert labels[:2] == ["training loss", "validation loss"]
        _saves_png(figure, tmp_path / "history.png")

    def test_bad_history(self):
        with pytest.raises(InvalidInputError, match="no epochs with a 'train_loss'"):
            plot_history([])
        with pytest.raises(InvalidParameterTypeError, match="must be a skorch History"):
            plot_history(3)


def test_missing_matplotlib_names_the_extra(record, monkeypatch):
    from sksep.plotting import check_matplotlib
    check_matplotlib()
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'sksep\[plots\]'"):
        plot_masks(record, np.zeros((2,) + record.magnitude.shape))
    with pytest.raises(ImportError, match=r"plotting needs matplotlib, which is not installed; "
                                          r"pip install 'sksep\[plots\]'"):
        check_matplotlib()


def test_figures_render_inline_and_skip_interrupted_epochs():
    from sksep.plotting import plot_history
    figure = plot_history([{"epoch": 1, "train_loss": 1.0, "valid_loss": 1.2},
                           {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.9},
                           {"epoch": 3, "dur": 1.0}])  # cut short by TimeBudget
    assert figure._repr_png_().startswith(b"\x89PNG")
    assert len(figure.axes[0].get_lines()[0].get_xdata()) == 2
    assert all(float(t).is_integer() for t in figure.axes[0].get_xticks())
