import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from fast_settings import overfit_losses
from sksep import ConvMaskSeparator, MelFeatures
from sksep.inference import framewise
from sksep.nn.context_cnn import ContextCNN, context_windows
from sksep.exceptions import InvalidInputError

TINY = dict(channels=4, hidden_size=16, fc_layers=1, max_epochs=2, segment_frames=32,
            batch_size=4, random_state=0)
LINEAR = dict(n_mels=None, n_fft=1024, hop_length=256, deltas=False)


class TestContextWindows:
    def test_windows_hold_each_frames_neighbours(self):
        frames = torch.arange(2 * 9 * 1 * 3, dtype=torch.float32).reshape(2, 9, 1, 3)
        windows = context_windows(frames, context=2)  # 5 frames of 9 - 4 centres
        assert windows.shape == (2 * 5, 1, 5, 3)
        for b in range(2):
            for n in range(5):
                torch.testing.assert_close(windows[b * 5 + n, 0], frames[b, n:n + 5, 0])

    def test_output_of_a_frame_depends_only_on_its_context(self):
        module = ContextCNN(12, 12, 2, context=2, conv_layers=1, channels=2, hidden_size=8).eval()
        features = torch.randn(1, 20, 12)
        changed = features.clone()
        changed[0, 10] += 1.0
        delta = (module(changed) - module(features)).abs().amax(dim=(0, 1, 3))
        assert torch.all(delta[8:13] > 0)  # frames 8..12 see frame 10
        assert torch.all(delta[:8] == 0) and torch.all(delta[13:] == 0)

    @pytest.mark.parametrize("chunk", [1, 7, 64])
    def test_framewise_is_seamless_and_exact(self, chunk):
        module = ContextCNN(24, 12, 2, context=3, conv_layers=2, channels=2, hidden_size=8).eval()
        features = np.random.default_rng(0).normal(size=(50, 24)).astype(np.float32)
        with torch.no_grad():
            whole = module(torch.from_numpy(features)[None])[0].numpy()
        np.testing.assert_allclose(framewise(module, features, chunk), whole, atol=1e-5)

    def test_dnn_and_log_softmax_output(self):
        module = ContextCNN(10, 10, 3, context=2, conv_layers=0, output="log_softmax")
        assert not any(isinstance(m, torch.nn.Conv2d) for m in module.modules())
        outputs = module(torch.randn(2, 7, 10))
        assert outputs.shape == (2, 3, 7, 10)
        torch.testing.assert_close(outputs.exp().sum(1), torch.ones(2, 7, 10))


class TestOverfitOneBatch:
    """Each variant drives its loss well below where it started on one real batch."""

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return [x[:8192] for x in X[:2]], [y[:, :8192] for y in Y[:2]]

    @pytest.mark.parametrize("params, ratio", [
        ({"objective": "mse"}, 0.5),
        ({"objective": "nll"}, 0.5),
        ({"objective": "mse", "conv_layers": 0}, 0.5),
    ])
    def test_variants(self, batch, params, ratio):
        settings = {**TINY, "max_epochs": 30, "lr": 3e-3, "hidden_size": 128,
                    "segment_frames": 33, "batch_size": 1, **params}
        first, best = overfit_losses(ConvMaskSeparator(**settings), *batch)
        assert best < ratio * first, (first, best)


class TestNullSum:
    """The estimated streams sum to the mixture to float precision (Roma et al.'s null-sum test)."""

    @pytest.mark.parametrize("objective", ["mse", "nll"])
    def test_magnitude_bin_weights_reach_the_targets(self, objective, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = ConvMaskSeparator(objective=objective, bin_weights="magnitude",
                                **{**TINY, "max_epochs": 1}).fit(X[:1], Y[:1])
        record = est._as_records(X[:1])[0][0]
        weights = est._clip_targets(record, Y[0])["weights"]
        np.testing.assert_allclose(weights, record.magnitude / record.magnitude.mean(), rtol=1e-5)
        plain = ConvMaskSeparator(objective=objective, **{**TINY, "max_epochs": 1})
        assert "weights" not in plain._clip_targets(record, Y[0])
        assert np.isfinite(est.history_[-1, "train_loss"])

    @pytest.mark.parametrize("objective", ["mse", "nll"])
    def test_streams_sum_to_mixture_on_real_clips(self, objective, mir1k_train_small,
                                                  mir1k_test_clips):
        X, Y, _ = mir1k_train_small
        est = ConvMaskSeparator(objective=objective, **TINY).fit(X[:2], Y[:2])
        test_X, _ = mir1k_test_clips
        clips = [test_X[0], test_X[5][:20000]]
        masks = est.predict_masks(clips)
        for mask in masks:
            assert mask.min() >= 0 and mask.max() <= 1
            np.testing.assert_allclose(mask.sum(0), 1.0, atol=1e-6)
        if objective == "nll":
            assert set(np.unique(masks[0])) <= {0.0, 1.0}
        for estimate, mixture in zip(est.predict(clips), clips):
            assert estimate.shape == (2, len(mixture))
            assert np.abs(estimate.sum(0) - mixture).max() < 1e-5 * max(1.0, np.abs(mixture).max())


class TestComposition:
    def test_pipeline_and_grid_search(self, mir1k_train_small):
        X, Y, songs = mir1k_train_small
        X, Y = [x[:16384] for x in X], [y[:, :16384] for y in Y]
        pipe = Pipeline([("features", MelFeatures(**LINEAR)),
                         ("separator", ConvMaskSeparator(**{**TINY, "max_epochs": 1}))])
        estimates = pipe.fit(X, Y).predict(X)
        assert [e.shape for e in estimates] == [y.shape for y in Y]
        assert np.isfinite(pipe.score(X, Y))
        search = GridSearchCV(pipe, {"separator__objective": ["mse", "nll"],
                                     "separator__conv_layers": [0, 1]},
                              cv=GroupKFold(2), error_score="raise")
        search.fit(X, Y, groups=songs)
        assert set(search.best_params_) == {"separator__objective", "separator__conv_layers"}
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    def test_clone_pickle_save_and_array_in_array_out(self, mir1k_train_small, tmp_path):
        X, Y, _ = mir1k_train_small
        est = ConvMaskSeparator(**TINY)
        assert clone(est).get_params() == est.get_params()
        pickle.dumps(est)
        X_arr, Y_arr = np.stack(X[:2]), np.stack(Y[:2])
        est.fit(X_arr, Y_arr)
        out = est.predict(X_arr)
        assert isinstance(out, np.ndarray) and out.shape == Y_arr.shape
        restored = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(restored.predict(X_arr), out)
        loaded = ConvMaskSeparator.load(est.save(tmp_path / "cnn.sksep"))
        np.testing.assert_array_equal(loaded.predict(X_arr), out)

    def test_default_features_and_context(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        cnn = ConvMaskSeparator(**{**TINY, "max_epochs": 1}).fit(X[:2], Y[:2])
        assert cnn.grid_.n_mels is None and cnn.grid_.n_bins == 513
        assert cnn.net_.module_.context == 5
        dnn = ConvMaskSeparator(**{**TINY, "max_epochs": 1}, conv_layers=0).fit(X[:2], Y[:2])
        assert dnn.net_.module_.context == 2
        wide = ConvMaskSeparator(**{**TINY, "max_epochs": 1}, conv_layers=0, context=4)
        assert wide.fit(X[:2], Y[:2]).net_.module_.context == 4

    def test_mel_features_with_deltas_become_channels(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = ConvMaskSeparator(**{**TINY, "max_epochs": 1},
                                features=MelFeatures(n_mels=32, deltas=True)).fit(X[:2], Y[:2])
        assert est.net_.module_.n_channels == 2
        assert est.predict_masks(X[:1])[0].shape == (2, 1 + len(X[0]) // 128, 32)


class TestReproducibility:
    def test_same_random_state_same_predictions(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X, Y = [x[:16384] for x in X], [y[:, :16384] for y in Y]
        a = ConvMaskSeparator(**TINY).fit(X[:2], Y[:2]).predict(X[2:3])[0]
        b = ConvMaskSeparator(**TINY).fit(X[:2], Y[:2]).predict(X[2:3])[0]
        np.testing.assert_array_equal(a, b)
        c = ConvMaskSeparator(**{**TINY, "random_state": 1}).fit(X[:2], Y[:2]).predict(X[2:3])[0]
        assert not np.array_equal(a, c)


class TestBadInput:
    def test_predict_before_fit(self, mir1k_train_small):
        with pytest.raises(NotFittedError):
            ConvMaskSeparator().predict(mir1k_train_small[0])

    def test_bad_audio(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=r"X\[0\] has 600 samples; expected at "
                                                    r"least 1024"):
            ConvMaskSeparator(**TINY).fit([X[0][:600]], [Y[0][:, :600]])
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 31999 samples but its "
                                                    r"mixture X\[0\] has 32000"):
            ConvMaskSeparator(**TINY).fit(X[:1], [Y[0][:, :-1]])

    @pytest.mark.parametrize("params, match", [
        ({"objective": "sdr"}, "objective='sdr' must be one of 'mse', 'nll'"),
        ({"kernel_size": 4}, "kernel_size=4 must be an odd integer"),
        ({"context": -1}, "context=-1 must be an integer >= 0"),
        ({"conv_layers": 1.5}, "conv_layers=1.5 must be an integer"),
        ({"hidden_size": 0}, "hidden_size=0 must be an integer >= 1"),
        ({"dropout": 1.0}, "dropout=1.0 must be <= 0.95"),
        ({"bin_weights": "loudness"}, "bin_weights='loudness' must be one of None, 'magnitude'"),
    ])
    def test_bad_params(self, params, match, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=match):
            ConvMaskSeparator(**{**TINY, **params}).fit(X[:2], Y[:2])
