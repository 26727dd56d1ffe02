import numpy as np
import pytest

from sksep.exceptions import InvalidAudioTypeError, InvalidInputError, InvalidParameterTypeError
from sksep.metrics import mask_iou, mask_psnr


def _naive_iou(estimated, ideal, threshold):
    on_estimated = {i for i, v in enumerate(np.ravel(estimated)) if v > threshold}
    on_ideal = {i for i, v in enumerate(np.ravel(ideal)) if v > threshold}
    union = on_estimated | on_ideal
    return len(on_estimated & on_ideal) / len(union) if union else 1.0


class TestMaskIoU:
    @pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
    def test_matches_set_definition(self, threshold):
        rng = np.random.default_rng(0)
        estimated = rng.uniform(size=(2, 30, 16))
        ideal = (rng.uniform(size=(2, 30, 16)) > 0.5).astype(float)
        assert mask_iou(estimated, ideal, threshold=threshold) == pytest.approx(
            _naive_iou(estimated, ideal, threshold))

    def test_perfect_and_disjoint(self):
        ideal = np.array([[1.0, 0.0], [0.0, 1.0]])
        assert mask_iou(ideal, ideal) == 1.0
        assert mask_iou(1 - ideal, ideal) == 0.0

    def test_threshold_is_strict(self):
        assert mask_iou(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == 0.5

    def test_both_empty_is_perfect_agreement(self):
        assert mask_iou(np.zeros(5), np.zeros(5)) == 1.0

    def test_lists_are_pooled_over_all_bins(self):
        rng = np.random.default_rng(1)
        estimated = [rng.uniform(size=(10, 8)), rng.uniform(size=(25, 8))]
        ideal = [rng.uniform(size=(10, 8)), rng.uniform(size=(25, 8))]
        pooled = mask_iou(estimated, ideal)
        flat = mask_iou(np.concatenate([e.ravel() for e in estimated]),
                        np.concatenate([i.ravel() for i in ideal]))
        assert pooled == pytest.approx(flat)

    def test_bad_inputs(self):
        with pytest.raises(InvalidInputError, match=r"estimated has shape \(2, 3\) but ideal "
                                                    r"has \(3, 2\)"):
            mask_iou(np.zeros((2, 3)), np.zeros((3, 2)))
        with pytest.raises(InvalidInputError, match=r"estimated\[1\] has shape"):
            mask_iou([np.zeros(3), np.zeros(4)], [np.zeros(3), np.zeros(5)])
        with pytest.raises(InvalidInputError, match="estimated has 2 mask arrays but ideal has 1"):
            mask_iou([np.zeros(3), np.zeros(3)], [np.zeros(3)])
        with pytest.raises(InvalidInputError, match="ideal contains NaN"):
            mask_iou(np.zeros(3), np.array([0.0, np.nan, 1.0]))
        with pytest.raises(InvalidParameterTypeError, match="threshold='high' must be a real number"):
            mask_iou(np.zeros(3), np.zeros(3), threshold="high")
        with pytest.raises(InvalidAudioTypeError, match="estimated must be an array of masks"):
            mask_iou(None, np.zeros(3))


class TestMaskPSNR:
    def test_matches_formula(self):
        rng = np.random.default_rng(0)
        ideal = rng.uniform(size=(2, 40, 16))
        estimated = np.clip(ideal + rng.normal(scale=0.05, size=ideal.shape), 0, 1)
        expected = 10 * np.log10(1.0 / np.mean((estimated - ideal) ** 2))
        assert mask_psnr(estimated, ideal) == pytest.approx(expected)

    def test_known_value_and_equal_masks(self):
        ideal = np.full((4, 4), 0.5)
        assert mask_psnr(ideal + 0.1, ideal) == pytest.approx(20.0)
        assert mask_psnr(ideal, ideal) == float("inf")

    def test_better_masks_score_higher(self):
        ideal = np.linspace(0, 1, 100)
        assert mask_psnr(0.9 * ideal, ideal) > mask_psnr(0.5 * ideal, ideal)

    def test_masks_must_be_in_unit_interval(self):
        with pytest.raises(InvalidInputError, match=r"estimated has values in \[0, 2\]; "
                                                    r"expected masks in \[0, 1\]"):
            mask_psnr(np.array([0.0, 2.0]), np.array([0.0, 1.0]))
