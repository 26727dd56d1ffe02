"""Separation does not depend on the input's level (DESIGN.md, "How the pieces meet").

Features are computed from each clip scaled to a fixed RMS level, so masks, and with
them SI-SDRi, are the same for a clip and the same clip scaled by any gain.
"""

import numpy as np
import pytest

import sksep
from fast_settings import is_oracle, make, separator_names
from sksep import MelFeatures
from sksep._features import REFERENCE_RMS, level_gain
from sksep._validation import MAX_ABS_LEVEL
from sksep.exceptions import InvalidInputError
from sksep.metrics import si_sdr_improvement

N = 8000  # half a second at 16 kHz
GAINS = [0.03, 0.3, 3.0, 30.0]  # with 1: a 60 dB range


@pytest.fixture(scope="module")
def clips(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return [x[:N] for x in X[:3]], [y[:, :N] for y in Y[:3]]


class TestLevelGain:
    def test_brings_a_clip_to_the_reference_rms(self, clips):
        x = clips[0][0]
        scaled = x * level_gain(x)
        assert np.sqrt(np.mean(scaled.astype(np.float64) ** 2)) == pytest.approx(REFERENCE_RMS)

    def test_silence_keeps_gain_one(self):
        assert level_gain(np.zeros(1000, np.float32)) == 1.0


class TestFeatures:
    @pytest.mark.parametrize("gain", GAINS + [1e6, 1e-5])
    def test_features_do_not_depend_on_gain(self, clips, gain):
        x = clips[0][0]
        reference = MelFeatures().fit_transform([x])[0]
        scaled = MelFeatures().fit_transform([x * np.float32(gain)])[0]
        np.testing.assert_allclose(scaled.features, reference.features, atol=2e-3)
        # the record keeps the clip's own level for resynthesis
        np.testing.assert_allclose(scaled.magnitude, gain * reference.magnitude,
                                   rtol=1e-4, atol=1e-6 * gain)

    def test_without_normalisation_features_follow_the_level(self, clips):
        x = clips[0][0]
        features = MelFeatures(normalize_level=False)
        quiet, loud = (features.fit_transform([x * g])[0].features for g in (1.0, 10.0))
        # log magnitudes move by log(10) where the floor does not matter
        assert np.median(loud[:, :150] - quiet[:, :150]) == pytest.approx(np.log(10), abs=0.01)

    def test_bad_parameter(self, clips):
        with pytest.raises(InvalidInputError, match="normalize_level='yes' must be one of"):
            MelFeatures(normalize_level="yes").fit(clips[0][:1])


@pytest.mark.parametrize("name", [n for n in separator_names() if not is_oracle(n)])
def test_every_separator_masks_do_not_depend_on_gain(name, clips):
    X, Y = clips
    est = make(name, validation_fraction=0.0).fit(X, Y)
    reference = est.predict_masks(X[:1])[0]
    for gain in GAINS:
        masks = est.predict_masks([X[0] * np.float32(gain)])[0]
        np.testing.assert_allclose(masks, reference, atol=1e-3, err_msg=f"gain {gain}")


def test_shipped_model_si_sdri_within_a_tenth_of_a_db_over_60_db(mir1k_test_clips):
    model = sksep.load("chimera-mir1k")
    X, Y = mir1k_test_clips
    x, vocals = X[0][:48000], Y[0][0][:48000]
    scores = []
    for gain in [1.0] + GAINS:
        estimate = model.predict([x * np.float32(gain)])[0][0] / gain
        scores.append(si_sdr_improvement(vocals, estimate, x))
    assert max(scores) - min(scores) < 0.1, scores
    assert min(scores) > 0.0, scores  # and it separates


def test_non_representable_level_is_refused_before_any_work(clips):
    x = clips[0][0]
    with pytest.raises(InvalidInputError,
                       match=r"X\[0\] peaks at 3e\+38, a level float32 spectra cannot represent"):
        MelFeatures().fit_transform([x / np.abs(x).max() * np.float32(3e38)])
    # the limit itself is accepted
    loud = x / np.abs(x).max() * np.float32(MAX_ABS_LEVEL)
    assert np.all(np.isfinite(MelFeatures().fit_transform([loud])[0].features))


def test_stereo_batch_with_samples_first_gets_a_hint(clips):
    x = clips[0][0]
    with pytest.raises(InvalidInputError, match=r"stereo with samples first\? mix down with "
                                                r"X.mean\(axis=2\)"):
        MelFeatures().fit_transform(np.stack([x, x], axis=-1)[None])
