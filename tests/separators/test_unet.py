import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sksep import MelFeatures, UNetSeparator, WienerMask
from sksep.nn.unet import HybridUNetNetwork, UNet, UNetMaskNetwork
from sksep.inference import patchwise
from sksep.exceptions import InvalidInputError

TINY = dict(channels=4, depth=2, segment_frames=32, batch_size=4, max_epochs=2, random_state=0)
HYBRID = dict(hybrid=True, hidden_size=8, num_layers=1, embedding_dim=4)


class _Pointwise(torch.nn.Module):
    """A stand-in network whose output at a frame depends on that frame only."""

    def forward(self, features):  # (B, T, F) -> (B, 2, T, F)
        vocal = torch.sigmoid(features)
        return torch.stack([vocal, 1 - vocal], dim=1)


class _PatchRamp(torch.nn.Module):
    """Outputs each frame's position inside its patch: the worst case for seams."""

    def forward(self, features):
        batch, length, n_bins = features.shape
        ramp = torch.linspace(0, 1, length)[None, None, :, None]
        return ramp.expand(batch, 1, length, n_bins)


class TestPatchStitching:
    @pytest.mark.parametrize("n_frames", [1, 17, 127, 128, 129, 300, 1001])
    def test_any_length_comes_back_exactly(self, n_frames):
        features = np.random.default_rng(n_frames).normal(size=(n_frames, 6)).astype(np.float32)
        stitched = patchwise(_Pointwise(), features, 128, hop=64)
        assert stitched.shape == (2, n_frames, 6)
        with torch.no_grad():
            whole = _Pointwise()(torch.from_numpy(features)[None])[0].numpy()
        np.testing.assert_allclose(stitched, whole, atol=1e-6)

    def test_no_seams_between_patches(self):
        features = np.zeros((1000, 4), np.float32)
        stitched = patchwise(_PatchRamp(), features, 128, hop=64)[0, :, 0]
        butted = patchwise(_PatchRamp(), features, 128, hop=128)[0, :, 0]
        # Without overlap, each patch boundary is a jump of the full ramp height ...
        assert np.abs(np.diff(butted)).max() > 0.9
        # ... cross-faded, neighbouring frames differ by little more than a ramp step.
        assert np.abs(np.diff(stitched)).max() < 0.05

    def test_predict_at_exact_length_for_odd_clip_lengths(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = UNetSeparator(**TINY).fit(X[:2], Y[:2])
        clips = [X[2][:5_555], X[3][:16_000 + 37], X[4]]
        for clip, estimate, masks in zip(clips, est.predict(clips), est.predict_masks(clips)):
            assert estimate.shape == (2, len(clip))
            assert masks.shape == (2, 1 + len(clip) // 128, 128)
            np.testing.assert_allclose(masks.sum(0), 1.0, atol=1e-5)


class TestModules:
    @pytest.mark.parametrize("shape", [(128, 128), (37, 50), (16, 16)])
    def test_unet_keeps_any_image_size(self, shape):
        unet = UNet(3, 2, channels=4, depth=4)
        assert unet(torch.randn(2, 3, *shape)).shape == (2, 2, *shape)
        assert len(unet.down) == 4 and len(unet.up) == 4

    def test_mask_network_reads_deltas_as_channels(self):
        network = UNetMaskNetwork(2 * 20, 20, 3, channels=4, depth=2)
        masks = network(torch.randn(2, 24, 40))
        assert network.unet.down[0][0].in_channels == 2
        assert masks.shape == (2, 3, 24, 20)
        torch.testing.assert_close(masks.sum(1), torch.ones(2, 24, 20))

    def test_hybrid_stacks_the_chimera_masks_as_channels(self):
        network = HybridUNetNetwork(20, 20, 2, channels=4, depth=2, hidden_size=8,
                                    num_layers=1, embedding_dim=5)
        masks, embedding, chimera_masks = network(torch.randn(2, 24, 20))
        assert network.unet.down[0][0].in_channels == 1 + 2  # spectrogram + two masks
        assert masks.shape == chimera_masks.shape == (2, 2, 24, 20)
        assert embedding.shape == (2, 24, 20, 5)


class TestOverfitOneBatch:
    """Both networks drive their loss well below where it started on one real batch."""

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return [x[:8192] for x in X[:2]], [y[:, :8192] for y in Y[:2]]

    @staticmethod
    def _fit(batch, **params):
        settings = {**TINY, "channels": 8, "max_epochs": 30, "lr": 3e-3, "dropout": 0.0,
                    "validation_fraction": 0.0, "patience": None, **params}
        est = UNetSeparator(**settings).fit(*batch)
        return est, est.history_[:, "train_loss"]

    def test_unet(self, batch):
        _, losses = self._fit(batch)
        # BCE cannot go below the entropy of the soft target: measure the excess over it.
        records = MelFeatures(n_mels=128, deltas=False).fit_transform(batch[0])
        target = np.concatenate([WienerMask().masks(r, y).ravel()
                                 for r, y in zip(records, batch[1])]).clip(1e-7, 1 - 1e-7)
        floor = float(np.mean(-(target * np.log(target) + (1 - target) * np.log(1 - target))))
        assert min(losses) - floor < 0.5 * (losses[0] - floor), (losses[0], min(losses), floor)

    def test_uh_net(self, batch):
        _, losses = self._fit(batch, **{**HYBRID, "hidden_size": 16, "embedding_dim": 8})
        assert min(losses) < 0.5 * losses[0], (losses[0], min(losses))


class TestComposition:
    def test_pipeline_and_grid_search(self, mir1k_train_small):
        X, Y, songs = mir1k_train_small
        X, Y = [x[:16384] for x in X], [y[:, :16384] for y in Y]
        pipe = Pipeline([("features", MelFeatures(n_mels=64, deltas=False)),
                         ("separator", UNetSeparator(**{**TINY, **HYBRID, "hybrid": False,
                                                        "max_epochs": 1}))])
        estimates = pipe.fit(X, Y).predict(X)
        assert [e.shape for e in estimates] == [y.shape for y in Y]
        search = GridSearchCV(pipe, {"separator__hybrid": [False, True],
                                     "separator__channels": [2, 4]},
                              cv=GroupKFold(2), error_score="raise")
        search.fit(X, Y, groups=songs)
        assert set(search.best_params_) == {"separator__hybrid", "separator__channels"}
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    def test_mask_target_reachable_by_grid_search(self):
        pipe = Pipeline([("separator", UNetSeparator(mask_target=WienerMask()))])
        pipe.set_params(separator__mask_target__power=1.0)
        assert pipe.get_params()["separator__mask_target__power"] == 1.0

    def test_clone_pickle_save_reproducibility_and_griffinlim(self, mir1k_train_small, tmp_path):
        X, Y, _ = mir1k_train_small
        X, Y = [x[:16384] for x in X], [y[:, :16384] for y in Y]
        est = UNetSeparator(**TINY, **HYBRID)
        assert clone(est).get_params() == est.get_params()
        est.fit(X[:2], Y[:2])
        out = est.predict(X[2:3])[0]
        np.testing.assert_allclose(out.sum(0), X[2], atol=1e-5)  # mixture phase: null sum
        restored = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(restored.predict(X[2:3])[0], out)
        loaded = UNetSeparator.load(est.save(tmp_path / "uh-net.sksep"))
        np.testing.assert_array_equal(loaded.predict(X[2:3])[0], out)
        again = UNetSeparator(**TINY, **HYBRID).fit(X[:2], Y[:2]).predict(X[2:3])[0]
        np.testing.assert_array_equal(again, out)
        other = UNetSeparator(**{**TINY, "random_state": 1}, **HYBRID).fit(X[:2], Y[:2])
        assert not np.array_equal(other.predict(X[2:3])[0], out)
        est.set_params(phase="griffinlim")
        griffin_lim = est.predict(X[2:3])[0]
        assert griffin_lim.shape == out.shape and np.all(np.isfinite(griffin_lim))
        assert not np.allclose(griffin_lim, out)


class TestBadInput:
    def test_predict_before_fit(self, mir1k_train_small):
        with pytest.raises(NotFittedError):
            UNetSeparator().predict(mir1k_train_small[0])

    def test_wrong_number_of_sources_at_score(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = UNetSeparator(**{**TINY, "max_epochs": 1}).fit(X[:2], Y[:2])
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 1 sources; expected 2"):
            est.score(X[:1], [Y[0][:1]])

    @pytest.mark.parametrize("params, match", [
        ({"phase": "random"}, "phase='random' must be one of 'mixture', 'griffinlim'"),
        ({"overlap": 1.0}, "overlap=1.0 must be < 1"),
        ({"depth": 0}, "depth=0 must be an integer >= 1"),
        ({"hybrid": "yes"}, "hybrid='yes' must be one of True, False"),
        ({"rnn_type": "transformer"}, "rnn_type='transformer' must be one of 'gru', 'lstm'"),
        ({"mask_target": "ratio"}, "mask_target='ratio' must be a mask target"),
        ({"alpha": 2.0}, "alpha=2.0 must be <= 1"),
    ])
    def test_bad_params(self, params, match, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=match):
            UNetSeparator(**{**TINY, **params}).fit(X[:2], Y[:2])
