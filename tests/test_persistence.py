import os
import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import sksep
import sksep.callbacks
from sksep import ChimeraSeparator, DeepClusteringSeparator, MelFeatures, OracleMaskSeparator
from sksep.callbacks import TimeBudget
from sksep.exceptions import ModelFileError
from sksep.metrics import si_sdr_improvement

TINY = dict(hidden_size=8, num_layers=1, embedding_dim=6, max_epochs=1, segment_frames=50,
            random_state=0)


@pytest.fixture(scope="module")
def data(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return X[:3], Y[:3]


@pytest.fixture(scope="module")
def chimera(data):
    est = ChimeraSeparator(**TINY, features=MelFeatures(n_mels=64)).fit(*data)
    est.source_names_ = ("vocals", "accompaniment")
    return est


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


class TestSaveLoad:
    def test_round_trip_predicts_identically(self, chimera, data, tmp_path):
        path = chimera.save(tmp_path / "model.sksep")
        loaded = sksep.load(path)
        assert type(loaded) is ChimeraSeparator
        assert loaded.get_params()["features"].n_mels == 64
        assert loaded.source_names_ == ("vocals", "accompaniment")
        np.testing.assert_array_equal(loaded.predict(data[0][:1])[0], chimera.predict(data[0][:1])[0])
        assert loaded.score(*data) == pytest.approx(chimera.score(*data))
        assert loaded.epoch_summary_ == chimera.epoch_summary_

    def test_half_precision_is_smaller_and_close(self, chimera, data, tmp_path):
        full = chimera.save(tmp_path / "full.sksep")
        half = chimera.save(tmp_path / "half.sksep", half=True)
        assert os.path.getsize(half) < 0.7 * os.path.getsize(full)
        a = sksep.load(half).predict(data[0][:1])[0]
        b = chimera.predict(data[0][:1])[0]
        assert np.abs(a - b).max() < 1e-2 * np.abs(b).max()

    def test_deep_clustering_and_oracle(self, data, tmp_path):
        dc = DeepClusteringSeparator(**TINY).fit(*data)
        loaded = sksep.load(dc.save(tmp_path / "dc.sksep"))
        np.testing.assert_array_equal(loaded.predict(data[0][:1])[0], dc.predict(data[0][:1])[0])
        oracle = OracleMaskSeparator(mask="wiener").fit(*data)
        assert sksep.load(oracle.save(tmp_path / "o.sksep")).score(*data) == pytest.approx(oracle.score(*data))

    def test_refuses_to_overwrite(self, chimera, tmp_path):
        path = chimera.save(tmp_path / "model.sksep")
        before = path.read_bytes()
        with pytest.raises(FileExistsError, match="overwrite=True"):
            chimera.save(path)
        assert path.read_bytes() == before
        chimera.save(path, overwrite=True)

    def test_interrupted_write_leaves_nothing(self, chimera, tmp_path, monkeypatch):
        path = tmp_path / "model.sksep"

        def broken(self, data):
            with open(self, "wb") as handle:
                handle.write(data[:100])
            raise OSError("disk full")

        monkeypatch.setattr(type(path), "write_bytes", broken)
        with pytest.raises(OSError, match="disk full"):
            chimera.save(path)
        assert list(tmp_path.iterdir()) == []

    def test_malicious_pickle_is_refused_without_running(self, tmp_path):
        marker = tmp_path / "pwned"
        torch.save({"format": "sksep-model", "x": _Payload(str(marker))}, tmp_path / "evil.sksep")
        with pytest.raises(ModelFileError, match="run code"):
            sksep.load(tmp_path / "evil.sksep")
        assert not marker.exists()
        plain = tmp_path / "evil.pkl"
        plain.write_bytes(pickle.dumps(_Payload(str(marker))))
        with pytest.raises(ModelFileError):
            sksep.load(plain)
        assert not marker.exists()

    @pytest.mark.parametrize("content, match", [
        (b"", "not a sksep model file"),
        (b"hello world", "not a sksep model file"),
    ])
    def test_not_a_model(self, tmp_path, content, match):
        path = tmp_path / "x.sksep"
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=match):
            sksep.load(path)

    def test_truncated_and_foreign_and_versioned(self, chimera, tmp_path):
        good = chimera.save(tmp_path / "good.sksep").read_bytes()
        (tmp_path / "cut.sksep").write_bytes(good[: len(good) // 2])
        with pytest.raises(ModelFileError, match="truncated"):
            sksep.load(tmp_path / "cut.sksep")
        torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
        with pytest.raises(ModelFileError, match="no sksep-model header"):
            sksep.load(tmp_path / "foreign.pt")
        payload = torch.load(tmp_path / "good.sksep", weights_only=True)
        payload["format_version"] = 99
        torch.save(payload, tmp_path / "future.sksep")
        with pytest.raises(ModelFileError, match="format version 99"):
            sksep.load(tmp_path / "future.sksep")

    def test_missing_file_and_unknown_name(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            sksep.load(tmp_path / "nothing.sksep")
        with pytest.raises(FileNotFoundError, match="neither a shipped model"):
            sksep.load("no-such-model")
        with pytest.raises(TypeError, match="must be a shipped model name or a file path"):
            sksep.load(3)

    def test_save_before_fit(self, tmp_path):
        from sklearn.exceptions import NotFittedError
        with pytest.raises(NotFittedError):
            ChimeraSeparator().save(tmp_path / "m.sksep")


class TestShippedModels:
    def test_every_registered_model_loads_and_separates(self, mir1k_test_clips):
        # All ten clips: the first three are the hardest (chimera-mir1k 3.7 dB on them,
        # 7.3 dB on the ten), too few to tell a weak model from a broken one.
        models = sksep.available_models()
        assert "chimera-mir1k" in models
        from sksep._spectral import resample

        for name, entry in models.items():
            model = sksep.load(name)
            assert type(model).__name__ == entry["estimator"]
            assert entry["size_mb"] < 20
            # predict reads clips at the model's rate (hourglass-mir1k: 8 kHz)
            rate = entry["sample_rate"]
            X, Y = [[resample(a, orig_sr=16000, target_sr=rate) for a in part]
                    for part in mir1k_test_clips]
            estimates = model.predict(X)
            assert [e.shape for e in estimates] == [y.shape for y in Y]
            assert model.score(X, Y) > 4.0, name

    def test_shipped_class_conditional_models_query_by_example(self, mir1k_test_clips,
                                                               mir1k_train_small):
        """An isolated training vocal extracts the vocals of unseen test mixtures."""
        models = {name: entry for name, entry in sksep.available_models().items()
                  if entry["estimator"] == "ClassConditionalSeparator"}
        assert models, "no class-conditional model is shipped"
        X, Y = mir1k_test_clips
        _, examples, _ = mir1k_train_small
        for name in models:
            extracted = sksep.load(name).query(examples[3][0], X[3:6])
            toward = [[si_sdr_improvement(y[s], e, x) for s in (0, 1)]
                      for x, y, e in zip(X[3:6], Y[3:6], extracted)]
            vocals, accompaniment = np.mean(toward, axis=0)
            assert vocals > 3.0 and vocals > accompaniment + 10.0, (name, toward)


class _Clock:
    """A fake ``time.monotonic`` for :mod:`sksep.callbacks`: moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _AdvanceClock(Callback):
    """Move the fake clock ``seconds`` ahead after the first training batch of epoch
    ``epoch`` (put it before the ``TimeBudget`` it drives)."""

    def __init__(self, clock, epoch, seconds):
        self.clock, self.epoch, self.seconds = clock, epoch, seconds

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) == 1:
            self.clock.now += self.seconds


class TestTimeBudget:
    """What a budget means, tested without depending on how fast the machine is."""

    BUDGETED = dict(TINY, max_epochs=5, batch_size=4, validation_fraction=0.0, patience=None)

    @pytest.fixture
    def clock(self, monkeypatch):
        clock = _Clock()
        monkeypatch.setattr(sksep.callbacks, "monotonic", clock)
        return clock

    @pytest.mark.parametrize("seconds", [1e-9, 0.5])
    def test_budget_shorter_than_an_epoch_keeps_exactly_the_first(self, data, clock, seconds):
        # The clock passes the budget during the first epoch: that epoch still completes.
        est = ChimeraSeparator(**self.BUDGETED, callbacks=[_AdvanceClock(clock, 1, 10.0),
                                                           TimeBudget(seconds)]).fit(*data)
        assert [row["epoch"] for row in est.epoch_summary_] == [1]
        assert est.best_epoch_ == 1

    def test_stops_within_one_batch_of_the_budget_and_keeps_the_best(self, data, clock):
        est = ChimeraSeparator(**self.BUDGETED, callbacks=[_AdvanceClock(clock, 3, 10.0),
                                                           TimeBudget(5.0)]).fit(*data)
        assert len(est.history_) == 3
        assert len(est.history_[-1]["batches"]) == 1  # epoch 3 cut after its first batch
        losses = [row["train_loss"] for row in est.epoch_summary_[:2]]
        assert est.best_epoch_ == 1 + int(np.argmin(losses))

    def test_budget_not_reached(self, data, clock):
        est = ChimeraSeparator(**{**self.BUDGETED, "max_epochs": 3},
                               callbacks=[TimeBudget(5.0)]).fit(*data)
        assert len(est.epoch_summary_) == 3

    def test_real_clock_tiny_budget(self, data):
        # No fake clock: any machine takes more than a nanosecond per epoch.
        est = ChimeraSeparator(**self.BUDGETED, callbacks=[TimeBudget(1e-9)]).fit(*data)
        assert len(est.epoch_summary_) == 1 and est.best_epoch_ == 1

    def test_bad_budget(self, data):
        with pytest.raises(ValueError, match="seconds=0 must be > 0"):
            ChimeraSeparator(**TINY, callbacks=[TimeBudget(0)]).fit(*data)
