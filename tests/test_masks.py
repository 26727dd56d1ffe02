"""Mask targets and the ratio masks of sksep/_masks.py."""

import dataclasses

import numpy as np
import pytest

from sksep import IdealBinaryMask, MelFeatures, PhaseSensitiveMask, WienerMask
from sksep._masks import ideal_binary_mask, phase_sensitive_mask, wiener_mask
from sksep._spectral import grid_magnitudes, linear_grid
from sksep.exceptions import InvalidInputError


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    sources = rng.normal(scale=0.1, size=(3, 8000)).astype(np.float32)
    record = MelFeatures(n_mels=32).fit_transform([sources.sum(0)])[0]
    return record, sources


class TestMasksFromMagnitudes:
    @pytest.mark.parametrize("target", [IdealBinaryMask(), WienerMask(), WienerMask(power=1)])
    def test_same_masks_as_from_the_record(self, clip, target):
        record, sources = clip
        magnitudes = grid_magnitudes(record.grid, sources)
        np.testing.assert_array_equal(target.masks_from_magnitudes(magnitudes),
                                      target.masks(record, sources))

    def test_are_the_pure_functions(self, clip):
        record, sources = clip
        magnitudes = grid_magnitudes(record.grid, sources)
        np.testing.assert_array_equal(IdealBinaryMask().masks_from_magnitudes(magnitudes),
                                      ideal_binary_mask(magnitudes))
        np.testing.assert_array_equal(WienerMask(power=1.5).masks_from_magnitudes(magnitudes),
                                      wiener_mask(magnitudes, power=1.5))

    def test_settings_are_validated(self, clip):
        record, sources = clip
        magnitudes = grid_magnitudes(record.grid, sources)
        with pytest.raises(InvalidInputError, match="power"):
            WienerMask(power=0).masks_from_magnitudes(magnitudes)


class TestRatioMask:
    def test_normalize_masks(self):  # moved from test_conv.py: normalize_masks is wiener_mask
        masks = np.array([[[0.2, 0.0]], [[0.6, 0.0]]])
        normalized = wiener_mask(masks, power=1.0)
        np.testing.assert_allclose(normalized[:, 0, 0], [0.25, 0.75])
        np.testing.assert_allclose(normalized[:, 0, 1], [0.5, 0.5])

    def test_sums_to_one_and_keeps_proportions(self):
        masks = np.random.default_rng(0).uniform(size=(3, 5, 4))
        ratio = wiener_mask(masks, power=1.0)
        assert ratio.dtype == np.float32
        np.testing.assert_allclose(ratio.sum(0), 1.0, rtol=1e-6)
        np.testing.assert_allclose(ratio, masks / masks.sum(0), rtol=1e-6)


class TestPhaseSensitiveMask:
    """Checked against its definition, clip(|S_c| / |X| cos(theta_c - theta_X), 0, 1),
    written out bin by bin."""

    @staticmethod
    def _reference(spectra, mixture):
        mask = np.zeros(spectra.shape)
        for c, t, f in np.ndindex(*spectra.shape):
            s, x = spectra[c, t, f], mixture[t, f]
            if abs(x) > 1e-12:
                value = abs(s) / abs(x) * np.cos(np.angle(s) - np.angle(x))
                mask[c, t, f] = min(max(value, 0.0), 1.0)
        return mask

    def test_matches_its_definition(self):
        rng = np.random.default_rng(1)
        spectra = rng.normal(size=(3, 5, 7)) + 1j * rng.normal(size=(3, 5, 7))
        mixture = spectra.sum(axis=0)
        mask = phase_sensitive_mask(spectra, mixture)
        assert mask.dtype == np.float32 and mask.shape == (3, 5, 7)
        np.testing.assert_allclose(mask, self._reference(spectra, mixture), atol=1e-6)
        # Truncation happens: out-of-phase bins give 0, louder-than-mixture ones 1.
        assert (mask == 0).any() and (mask == 1).any()

    def test_silent_bins_are_finite(self):
        # A silent source gets 0; a silent mixture bin is divided by eps, not by 0.
        spectra = np.array([[[0.0, 1.0]], [[0.0, -1.0]]], dtype=complex)
        mask = phase_sensitive_mask(spectra, spectra.sum(axis=0))
        np.testing.assert_array_equal(mask, [[[0.0, 1.0]], [[0.0, 0.0]]])

    def test_target_on_the_linear_grid_is_the_function(self, clip):
        record, sources = clip
        grid = linear_grid(record.grid)
        linear = dataclasses.replace(record, magnitude=np.abs(record.stft).T, grid=grid)
        spectra = np.transpose(grid.stft(sources), (0, 2, 1))
        np.testing.assert_allclose(PhaseSensitiveMask().masks(linear, sources),
                                   phase_sensitive_mask(spectra, record.stft.T), atol=1e-5)

    def test_target_on_the_mel_grid(self, clip):
        record, sources = clip
        spectra = record.grid.stft(sources)  # (C, n_freq, T)
        in_phase = np.abs(spectra) * np.cos(np.angle(spectra) - np.angle(record.stft)[None])
        expected = np.clip(record.grid.to_grid(in_phase) / record.magnitude[None], 0, 1)
        mask = PhaseSensitiveMask().masks(record, sources)
        np.testing.assert_allclose(mask, expected, atol=1e-5)
        assert mask.shape == (3,) + record.magnitude.shape

    def test_needs_phases(self, clip):
        record, sources = clip
        with pytest.raises(InvalidInputError, match="needs the sources' phases"):
            PhaseSensitiveMask().masks_from_magnitudes(grid_magnitudes(record.grid, sources))

    @pytest.mark.parametrize("spectra, mixture, message", [
        (np.ones((2, 3), complex), np.ones((2, 3), complex), "source_spectra must have shape"),
        (np.ones((2, 3, 4), complex), np.ones((3, 5), complex),
         r"mixture_spectrum must have shape \(n_frames, n_bins\) = \(3, 4\)"),
        (np.full((1, 1, 1), "a"), np.ones((1, 1), complex), "source_spectra must be a numeric"),
    ])
    def test_input_is_validated(self, spectra, mixture, message):
        with pytest.raises(InvalidInputError, match=message):
            phase_sensitive_mask(spectra, mixture)

    def test_eps_is_validated(self):
        with pytest.raises(InvalidInputError, match="eps=0.0 must be > 0"):
            phase_sensitive_mask(np.ones((1, 1, 1), complex), np.ones((1, 1), complex), eps=0.0)
