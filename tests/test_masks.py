"""Mask targets and the ratio masks of sksep/_masks.py."""

import numpy as np
import pytest

from sksep import IdealBinaryMask, MelFeatures, WienerMask
from sksep._masks import ideal_binary_mask, wiener_mask
from sksep._spectral import grid_magnitudes
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
