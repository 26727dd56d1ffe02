"""The per-clip training targets every neural separator builds (separators/_targets.py)."""

import numpy as np
import pytest

from sksep import IdealBinaryMask, MelFeatures, WienerMask
from sksep._masks import loudness_weights
from sksep._spectral import grid_magnitudes, grid_phase_sensitive_magnitudes
from sksep.separators._targets import clip_targets, unit_mean_square_scale


@pytest.fixture(scope="module")
def clip(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    sources = Y[0][:, :12_000]
    record = MelFeatures(n_mels=40).fit_transform([sources.sum(0)])[0]
    return record, sources


def _rms(array):
    return float(np.sqrt(np.mean(np.asarray(array, dtype=np.float64) ** 2)))


class TestUnitMeanSquareScale:
    def test_scaled_magnitudes_have_unit_mean_square(self):
        magnitude = np.random.default_rng(0).uniform(size=(20, 7)).astype(np.float32)
        scaled = magnitude / unit_mean_square_scale(magnitude)
        assert np.mean(scaled.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-5)

    def test_silence_is_not_divided_by_zero(self):
        assert unit_mean_square_scale(np.zeros((3, 4))) == pytest.approx(1e-8)


class TestClipTargets:
    def test_against_direct_computation_on_the_feature_grid(self, clip):
        record, sources = clip
        targets = clip_targets(record, sources, labels=IdealBinaryMask(),
                               weights=IdealBinaryMask(threshold_db=-30), mixture=True,
                               reference=WienerMask())
        magnitudes = grid_magnitudes(record.grid, sources)  # (C, T, F)
        power = magnitudes.astype(np.float64) ** 2
        np.testing.assert_array_equal(targets["labels"], magnitudes.argmax(0))
        np.testing.assert_array_equal(targets["weights"],
                                      loudness_weights(record.magnitude, threshold_db=-30))
        np.testing.assert_allclose(targets["mixture"], record.magnitude / _rms(record.magnitude),
                                   rtol=1e-5)
        np.testing.assert_allclose(targets["reference"],
                                   (power / power.sum(0)).transpose(1, 0, 2), rtol=1e-5)

    def test_layout_time_first_and_dtypes(self, clip):
        record, sources = clip
        n_frames, n_bins = record.magnitude.shape
        targets = clip_targets(record, sources, labels=IdealBinaryMask(),
                               weights=IdealBinaryMask(), mixture=True, reference="magnitudes")
        assert targets["labels"].shape == targets["weights"].shape == (n_frames, n_bins)
        assert targets["mixture"].shape == (n_frames, n_bins)
        assert targets["reference"].shape == (n_frames, 2, n_bins)
        assert targets["labels"].dtype == np.uint8
        for name in ("weights", "mixture", "reference"):
            assert targets[name].dtype == np.float32 and targets[name].flags.c_contiguous

    def test_only_what_is_asked_for(self, clip):
        record, sources = clip
        assert clip_targets(record, sources) == {}
        assert set(clip_targets(record, sources, labels=IdealBinaryMask())) == {"labels"}
        assert set(clip_targets(record, sources, reference=WienerMask(power=1.0))) == {
            "reference"}

    def test_magnitude_references_are_scaled_like_the_mixture(self, clip):
        record, sources = clip
        scale = _rms(record.magnitude)
        targets = clip_targets(record, sources, mixture=True, reference="magnitudes")
        magnitudes = grid_magnitudes(record.grid, sources).transpose(1, 0, 2)
        np.testing.assert_allclose(targets["reference"], magnitudes / scale, rtol=1e-5)
        in_phase = clip_targets(record, sources, reference="phase_sensitive")["reference"]
        expected = grid_phase_sensitive_magnitudes(record.grid, sources, record.stft)
        np.testing.assert_allclose(in_phase, expected.transpose(1, 0, 2) / scale,
                                   rtol=1e-4, atol=1e-6)

    def test_on_the_stft_grid(self, clip):
        record, sources = clip
        targets = clip_targets(record, sources, mixture=True, reference="magnitudes",
                               grid="stft")
        mixture = np.abs(record.stft).T  # (T, n_freq)
        scale = _rms(mixture)
        np.testing.assert_allclose(targets["mixture"], mixture / scale, rtol=1e-5)
        expected = np.abs(record.grid.stft(sources)).transpose(2, 0, 1) / scale
        np.testing.assert_allclose(targets["reference"], expected, rtol=1e-5, atol=1e-7)
        assert np.mean(targets["mixture"].astype(np.float64) ** 2) == pytest.approx(1, rel=1e-4)

    @pytest.mark.parametrize("grid", ["features", "stft"])
    def test_do_not_depend_on_the_level(self, clip, grid):
        record, sources = clip
        features = MelFeatures(n_mels=40)
        loud = features.fit_transform([1000 * sources.sum(0)])[0]
        settings = dict(labels=IdealBinaryMask(), mixture=True, reference="magnitudes",
                        grid=grid)
        quiet_targets = clip_targets(record, sources, **settings)
        loud_targets = clip_targets(loud, 1000 * sources, **settings)
        np.testing.assert_array_equal(loud_targets["labels"], quiet_targets["labels"])
        for name in ("mixture", "reference"):
            np.testing.assert_allclose(loud_targets[name], quiet_targets[name],
                                       rtol=1e-4, atol=1e-6)

    def test_labels_of_many_sources(self, clip):
        record, _ = clip
        n_samples = record.n_samples
        sources = np.random.default_rng(0).normal(size=(300, n_samples)).astype(np.float32)
        labels = clip_targets(record, sources, labels=IdealBinaryMask())["labels"]
        assert labels.dtype == np.int64 and labels.max() > 255

    def test_bad_settings(self, clip):
        record, sources = clip
        with pytest.raises(ValueError, match="grid='mel' must be 'features' or 'stft'"):
            clip_targets(record, sources, mixture=True, grid="mel")
        with pytest.raises(ValueError, match="reference='ratio' must be a mask target"):
            clip_targets(record, sources, reference="ratio")


class TestSeparatorsUseThem:
    """Each separator's targets are clip_targets with its settings."""

    def test_each_separator_asks_for_its_targets(self, clip):
        from sksep import (ChimeraSeparator, ClassConditionalSeparator, ConvMaskSeparator,
                           DeepClusteringSeparator, UNetSeparator)
        record, sources = clip
        expected = {
            ChimeraSeparator(): {"labels", "weights", "mixture", "reference"},
            ChimeraSeparator(alpha=1.0): {"labels", "weights", "mixture"},
            DeepClusteringSeparator(): {"labels", "weights", "mixture"},
            ClassConditionalSeparator(): {"labels", "weights", "mixture", "reference"},
            ClassConditionalSeparator(covariance_type=None): {"mixture", "reference"},
            ConvMaskSeparator(): {"reference"},
            ConvMaskSeparator(objective="nll"): {"labels"},
            UNetSeparator(): {"reference"},
            UNetSeparator(hybrid=True): {"labels", "weights", "mixture", "reference"},
        }
        for separator, names in expected.items():
            assert set(separator._clip_targets(record, sources)) == names, separator
        ratio = ConvMaskSeparator()._clip_targets(record, sources)["reference"]
        np.testing.assert_allclose(ratio.sum(1), 1.0, rtol=1e-5)
