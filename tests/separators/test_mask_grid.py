"""Masks on the linear STFT grid from mel features: ChimeraSeparator(mask_grid="stft")."""

import numpy as np
import pytest
import torch

from fast_settings import overfit_losses
from sksep import ChimeraSeparator, FeatureGrid, MelFeatures, WienerMask, apply_masks
from sksep._spectral import linear_grid, on_feature_grid
from sksep.exceptions import InvalidInputError
from sksep.nn.recurrent import ChimeraNetwork, LinearGridMaskHead, MaskInferenceHead
from sksep.plotting import plot_masks
from sksep.separation import separate_audio
from sksep.separators._targets import clip_targets

TINY = dict(hidden_size=16, num_layers=1, embedding_dim=8, max_epochs=2, segment_frames=50,
            batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    sources = rng.normal(scale=0.1, size=(2, 8000)).astype("float32")
    sources[0] *= np.sin(np.linspace(0, 20, 8000)).astype("float32")  # unlike the other
    record = MelFeatures().fit_transform([sources.sum(0)])[0]
    return record, sources


class TestGrids:
    def test_linear_grid_keeps_the_stft(self):
        grid = FeatureGrid(sample_rate=8000, n_fft=256, hop_length=64, n_mels=40, fmin=50.0)
        linear = linear_grid(grid)
        assert (linear.sample_rate, linear.n_fft, linear.hop_length, linear.window) == (
            8000, 256, 64, "hann")
        assert linear.n_mels is None and linear.n_bins == grid.n_freq == 129
        assert linear_grid(linear) == linear

    def test_on_feature_grid_keeps_sums_and_ranges(self):
        grid = FeatureGrid()
        rng = np.random.default_rng(1)
        masks = rng.random((2, 7, grid.n_freq)).astype("float32")
        masks /= masks.sum(axis=0)
        mel = on_feature_grid(masks, grid)
        assert mel.shape == (2, 7, grid.n_bins)
        np.testing.assert_allclose(mel.sum(axis=0), 1.0, atol=1e-5)
        assert mel.min() >= 0.0 and mel.max() <= 1.0
        # A mask that is constant along frequency stays that constant.
        np.testing.assert_allclose(on_feature_grid(np.full((1, 3, grid.n_freq), 0.3), grid),
                                   0.3, atol=1e-6)

    def test_on_feature_grid_is_the_filterbank_mean(self):
        grid = FeatureGrid(n_mels=20)  # every band wider than an STFT bin
        masks = np.random.default_rng(2).random((1, 4, grid.n_freq)).astype("float32")
        filterbank = grid.filterbank()
        naive = np.einsum("ctk,bk->ctb", masks, filterbank) / filterbank.sum(axis=1)
        np.testing.assert_allclose(on_feature_grid(masks, grid), naive, rtol=1e-5)

    def test_on_feature_grid_rejects_other_bins(self):
        with pytest.raises(InvalidInputError, match="257 STFT bins"):
            on_feature_grid(np.ones((2, 3, 150)), FeatureGrid())

    def test_apply_masks_on_the_stft_grid(self, clip):
        record, sources = clip
        ones = np.ones((1, record.stft.shape[1], record.grid.n_freq), dtype="float32")
        estimate = apply_masks(record, ones, grid=linear_grid(record.grid))[0]
        np.testing.assert_allclose(estimate, sources.sum(0), atol=1e-5)
        with pytest.raises(InvalidInputError, match="must have shape"):
            apply_masks(record, ones)  # STFT-grid masks read as feature-grid masks
        with pytest.raises(InvalidInputError, match="grid="):
            apply_masks(record, ones, grid=FeatureGrid(n_fft=1024))


class TestTargets:
    def test_mask_target_on_the_stft_grid(self, clip):
        record, sources = clip
        targets = clip_targets(record, sources, mixture=True, reference=WienerMask(),
                               grid="stft")
        spectra = np.abs(record.grid.stft(sources))  # (C, n_freq, T)
        naive = spectra ** 2 / np.maximum((spectra ** 2).sum(0), 1e-20)
        assert targets["reference"].shape == (record.stft.shape[1], 2, record.grid.n_freq)
        np.testing.assert_allclose(targets["reference"], naive.transpose(2, 0, 1), atol=1e-4)
        assert targets["mixture"].shape == (record.stft.shape[1], record.grid.n_freq)

    def test_phase_sensitive_on_the_stft_grid(self, clip):
        record, sources = clip
        targets = clip_targets(record, sources, mixture=True, reference="phase_sensitive",
                               grid="stft")
        spectra = record.grid.stft(sources)
        naive = np.abs(spectra) * np.cos(np.angle(spectra) - np.angle(record.stft)[None])
        mixture = np.abs(record.stft).T
        scale = np.sqrt(np.mean(mixture ** 2))
        np.testing.assert_allclose(targets["reference"] * scale, naive.transpose(2, 0, 1),
                                   atol=1e-4)

    def test_labels_stay_on_the_feature_grid(self, clip):
        from sksep import IdealBinaryMask

        record, sources = clip
        targets = clip_targets(record, sources, labels=IdealBinaryMask(),
                               weights=IdealBinaryMask(), reference=WienerMask(), grid="stft")
        assert targets["labels"].shape == targets["weights"].shape == record.magnitude.shape


class TestNetwork:
    def test_head_starts_as_the_feature_grid_head(self):
        torch.manual_seed(0)
        grid = FeatureGrid(n_mels=40)
        head = LinearGridMaskHead(40, grid.n_freq, 12, 5, 2)
        head.set_frequency_map(grid.projection())
        z, hidden = torch.randn(3, 6, 40, 5), torch.randn(3, 6, 12)
        mel_logits = head.feature_logits(z)  # (batch, C, T, F)
        expected = torch.softmax(mel_logits @ torch.as_tensor(grid.projection()).T, dim=1)
        torch.testing.assert_close(head(z, hidden), expected)
        assert head(z, hidden).shape == (3, 2, 6, grid.n_freq)

    def test_detail_layer_reaches_the_masks(self):
        torch.manual_seed(0)
        head = LinearGridMaskHead(10, 33, 12, 5, 2)
        z, hidden = torch.randn(2, 4, 10, 5), torch.randn(2, 4, 12)
        head(z, hidden).sum(dim=(0, 2, 3))[0].backward()
        assert head.detail.weight.grad.abs().sum() > 0
        assert head.frequency_map.grad.abs().sum() > 0

    def test_network_shapes(self):
        network = ChimeraNetwork(30, 20, 2, embedding_dim=4, hidden_size=6, num_layers=1,
                                 n_mask_bins=65)
        embedding, masks = network(torch.randn(2, 9, 30))
        assert embedding.shape == (2, 9, 20, 4) and masks.shape == (2, 2, 9, 65)
        torch.testing.assert_close(network.masks(torch.ones(1, 9, 30)),
                                   network(torch.ones(1, 9, 30))[1])
        assert isinstance(ChimeraNetwork(30, 20, 2, hidden_size=6, num_layers=1,
                                         n_mask_bins=20).mask_head, MaskInferenceHead)


class TestSeparator:
    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return ChimeraSeparator(mask_grid="stft", **TINY).fit(X[:3], Y[:3]), X, Y

    def test_masks_and_estimates_on_the_stft_grid(self, fitted):
        est, X, _ = fitted
        masks = est.predict_masks(X[:1])[0]
        assert est.mask_grid_ == linear_grid(est.grid_)
        assert masks.shape[0] == 2 and masks.shape[2] == est.grid_.n_freq
        np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-5)
        estimates = est.predict(X[:1])[0]
        np.testing.assert_allclose(estimates.sum(axis=0), X[0], atol=1e-4)

    def test_starts_as_the_feature_grid_head(self, mir1k_train_small):
        # With no training the STFT-grid masks are the feature-grid logits spread over the
        # STFT bins: close to the feature-grid separator's masks, spread the same way.
        X, Y, _ = mir1k_train_small
        settings = {**TINY, "max_epochs": 1, "lr": 1e-12}
        stft = ChimeraSeparator(mask_grid="stft", **settings).fit(X[:2], Y[:2])
        mel = ChimeraSeparator(**settings).fit(X[:2], Y[:2])
        spread = mel.predict_masks(X[:1])[0] @ mel.grid_.projection().T
        np.testing.assert_allclose(stft.predict_masks(X[:1])[0], spread, atol=0.05)

    def test_learns(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        batch = [x[:8000] for x in X[:2]], [y[:, :8000] for y in Y[:2]]
        settings = {**TINY, "max_epochs": 60, "lr": 3e-3, "hidden_size": 32, "alpha": 0.0}
        first, best = overfit_losses(ChimeraSeparator(mask_grid="stft", **settings), *batch)
        assert best < 0.5 * first, (first, best)

    def test_dc_head_predicts_on_the_feature_grid(self, fitted):
        est, X, _ = fitted
        dc = est.set_params(head="dc")
        try:
            assert dc.mask_grid_ == dc.grid_
            assert dc.predict_masks(X[:1])[0].shape[2] == dc.grid_.n_bins
            assert dc.predict(X[:1])[0].shape == (2, len(X[0]))
        finally:
            est.set_params(head="mi")

    def test_save_and_load(self, fitted, tmp_path):
        est, X, _ = fitted
        est.save(tmp_path / "stft.sksep")
        loaded = ChimeraSeparator.load(tmp_path / "stft.sksep")
        assert loaded.mask_grid == "stft"
        np.testing.assert_allclose(loaded.predict(X[:1])[0], est.predict(X[:1])[0],
                                   atol=1e-6)

    def test_full_band_song(self, fitted):
        est, _, _ = fitted
        audio = np.random.default_rng(3).normal(scale=0.1, size=(2, 44100)).astype("float32")
        stems = separate_audio(est, audio, 44100, progress=False)
        assert stems.shape == (2, 2, 44100)
        np.testing.assert_allclose(stems.sum(axis=0), audio, atol=1e-4)

    def test_plot(self, fitted):
        est, X, _ = fitted
        record = est.features_.transform([X[0]])[0]
        figure = plot_masks(record, est.predict_masks([record])[0])
        assert len(figure.axes) == 6

    def test_rejects_unknown_grid(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match="mask_grid='mel'"):
            ChimeraSeparator(mask_grid="mel", **TINY).fit(X[:1], Y[:1])
