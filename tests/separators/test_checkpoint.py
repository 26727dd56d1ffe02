"""Resumable training: interrupted fits resume from their checkpoint to the same model."""

import os

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import sksep
import sksep.separators._checkpoint
from fast_settings import make, neural_separator_names
from sksep.exceptions import InvalidInputError, ModelFileError


class InterruptAfter(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C would) once ``n_epochs`` epochs have ended."""

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= self.n_epochs:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def data(mir1k_train_small):
    """Three half-second clips: one is held out for validation (early stopping is on)."""
    X, Y, _ = mir1k_train_small
    return [x[:8000] for x in X[:3]], [y[:, :8000] for y in Y[:3]]


# Four epochs, with a validation clip and early stopping: their state must be resumed too.
RUN = dict(max_epochs=4, patience=3, validation_fraction=0.3)


def _estimator(name, **overrides):
    est = make(name, **{**RUN, **overrides})
    if "checkpoint" not in est.get_params():
        pytest.fail(f"add checkpoint=None and accelerator=None to {name}.__init__ (stored as "
                    f"self.checkpoint / self.accelerator and documented as in "
                    f"DeepClusteringSeparator); NeuralSeparator does the rest")
    return est


def _outputs(est, X):
    return est.predict(X[:1])[0]


@pytest.mark.parametrize("name", neural_separator_names())
def test_interrupted_fit_resumes_to_the_uninterrupted_result(name, data, tmp_path):
    X, Y = data
    path = tmp_path / "run.ckpt"
    reference = _estimator(name).fit(X, Y)

    interrupted = _estimator(name, checkpoint=path, callbacks=[InterruptAfter(2)]).fit(X, Y)
    assert len(interrupted.history_) == 2
    assert path.exists(), "an interrupted fit keeps its checkpoint"
    state = torch.load(path, weights_only=True)  # plain data only
    assert (state["stage"], state["stage_epochs"]) == (0, 2)

    resumed = _estimator(name, checkpoint=path).fit(X, Y)
    assert not path.exists(), "a completed fit deletes its checkpoint"
    assert [row["epoch"] for row in resumed.history_] == [1, 2, 3, 4]
    np.testing.assert_allclose(resumed.history_[:, "train_loss"],
                               reference.history_[:, "train_loss"], rtol=0, atol=0)
    assert resumed.best_epoch_ == reference.best_epoch_
    np.testing.assert_array_equal(_outputs(resumed, X), _outputs(reference, X))


class TestCurriculum:
    SETTINGS = dict(segment_frames=(20, 30), max_epochs=(2, 2))

    @pytest.fixture(scope="class")
    @classmethod
    def reference(cls, data):
        return _estimator("ChimeraSeparator", **cls.SETTINGS).fit(*data)

    @pytest.mark.parametrize("after, stage_and_epochs", [(2, (0, 2)), (3, (1, 1))],
                             ids=["at-stage-boundary", "inside-stage-2"])
    def test_resumes_in_the_right_stage(self, reference, data, tmp_path, after,
                                        stage_and_epochs):
        path = tmp_path / "run.ckpt"
        first = _estimator("ChimeraSeparator", **self.SETTINGS, checkpoint=path,
                           callbacks=[InterruptAfter(after)]).fit(*data)
        # An interrupt ends the whole fit, not only the current stage.
        assert len(first.history_) == after
        state = torch.load(path, weights_only=True)
        assert (state["stage"], state["stage_epochs"]) == stage_and_epochs
        resumed = _estimator("ChimeraSeparator", **self.SETTINGS, checkpoint=path).fit(*data)
        assert resumed.inference_frames_ == 30
        np.testing.assert_array_equal(_outputs(resumed, data[0]), _outputs(reference, data[0]))


class TestCutOffWrite:
    def test_previous_checkpoint_survives_and_resumes(self, data, tmp_path, monkeypatch):
        X, Y = data
        path = tmp_path / "run.ckpt"
        reference = _estimator("ChimeraSeparator").fit(X, Y)
        written = []
        real_write = sksep.separators._checkpoint._write_bytes

        def write_then_fail(target, payload):
            if written:  # the second epoch's write is cut off half-way (disk full)
                with open(target, "wb") as handle:
                    handle.write(payload[:len(payload) // 2])
                raise OSError(28, "No space left on device")
            written.append(target)
            real_write(target, payload)

        monkeypatch.setattr(sksep.separators._checkpoint, "_write_bytes", write_then_fail)
        with pytest.raises(OSError, match="(?i)no space left"):  # raw or DiskFullError
            _estimator("ChimeraSeparator", checkpoint=path).fit(X, Y)
        monkeypatch.undo()

        state = torch.load(path, weights_only=True)
        assert state["stage_epochs"] == 1, "the first epoch's checkpoint is intact"
        assert sorted(os.listdir(tmp_path)) == ["run.ckpt"], "no temporary file is left"
        resumed = _estimator("ChimeraSeparator", checkpoint=path).fit(X, Y)
        np.testing.assert_array_equal(_outputs(resumed, X), _outputs(reference, X))



def test_validation_data_run_resumes_and_is_told_apart(data, mir1k_train_small, tmp_path):
    """A fit with ``validation_data`` resumes to its uninterrupted result; a fit of the
    same clips that draws its split from ``validation_fraction`` instead is refused."""
    X, Y = data
    X_valid, Y_valid = [x[:8000] for x in mir1k_train_small[0][3:4]], \
        [y[:, :8000] for y in mir1k_train_small[1][3:4]]
    reference = _estimator("ChimeraSeparator").fit(X, Y, validation_data=(X_valid, Y_valid))
    path = tmp_path / "run.ckpt"
    _estimator("ChimeraSeparator", checkpoint=path, callbacks=[InterruptAfter(2)]).fit(
        X, Y, validation_data=(X_valid, Y_valid))
    with pytest.raises(InvalidInputError, match="other data or settings"):
        _estimator("ChimeraSeparator", checkpoint=path).fit(X + X_valid, Y + Y_valid)
    resumed = _estimator("ChimeraSeparator", checkpoint=path).fit(
        X, Y, validation_data=(X_valid, Y_valid))
    np.testing.assert_array_equal(_outputs(resumed, X), _outputs(reference, X))


class TestRefusedCheckpoints:
    def test_other_settings_are_refused_not_overwritten(self, data, tmp_path):
        X, Y = data
        path = tmp_path / "run.ckpt"
        _estimator("ChimeraSeparator", checkpoint=path, callbacks=[InterruptAfter(1)]).fit(X, Y)
        before = path.read_bytes()
        with pytest.raises(InvalidInputError, match=r"checkpoint=.*run\.ckpt' was written by a "
                           r"ChimeraSeparator fit with other data or settings"):
            _estimator("ChimeraSeparator", checkpoint=path, lr=0.01).fit(X, Y)
        with pytest.raises(InvalidInputError, match="other data or settings"):
            _estimator("ChimeraSeparator", checkpoint=path).fit(X[:2], Y[:2])
        with pytest.raises(InvalidInputError, match="written by a ChimeraSeparator fit .* "
                           "than this DeepClusteringSeparator fit"):
            _estimator("DeepClusteringSeparator", checkpoint=path).fit(X, Y)
        assert path.read_bytes() == before

    @pytest.mark.parametrize("content", [b"", b"not a checkpoint at all"],
                             ids=["zero-byte", "garbage"])
    def test_corrupt_file_is_refused(self, data, tmp_path, content):
        path = tmp_path / "run.ckpt"
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=r"is not a sksep training checkpoint"):
            _estimator("ChimeraSeparator", checkpoint=path).fit(*data)

    def test_model_file_is_not_a_checkpoint(self, data, tmp_path):
        model = _estimator("ChimeraSeparator", max_epochs=1).fit(*data)
        path = model.save(tmp_path / "model.sksep")
        with pytest.raises(ModelFileError, match="no sksep-checkpoint header"):
            _estimator("ChimeraSeparator", checkpoint=path).fit(*data)

    @pytest.mark.parametrize("checkpoint, error, match", [
        (3, TypeError, r"checkpoint=3 must be a file path \(str or os.PathLike\) or None"),
        (".", ValueError, r"checkpoint='.' is a directory; expected a file path"),
    ])
    def test_bad_checkpoint_parameter(self, data, checkpoint, error, match):
        with pytest.raises(error, match=match):
            _estimator("ChimeraSeparator", checkpoint=checkpoint).fit(*data)


def test_checkpoint_and_accelerator_are_not_saved_in_model_files(data, tmp_path):
    est = _estimator("ChimeraSeparator", max_epochs=1, checkpoint=tmp_path / "run.ckpt")
    path = est.fit(*data).save(tmp_path / "model.sksep")
    loaded = sksep.load(path)
    assert loaded.checkpoint is None and loaded.accelerator is None
