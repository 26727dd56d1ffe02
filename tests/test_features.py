import numpy as np
import pytest
from sklearn.base import clone

from sksep import IdealBinaryMask, MelFeatures, OracleMaskSeparator, WienerMask, apply_masks
from sksep._masks import ideal_binary_mask, loudness_weights, wiener_mask
from sksep.exceptions import InvalidAudioTypeError, InvalidInputError
from sksep.metrics import mean_si_sdr_improvement


@pytest.fixture(scope="module")
def clip(mir1k_test_clips):
    X, Y = mir1k_test_clips
    return X[0], Y[0]


class TestMelFeatures:
    def test_shapes_and_defaults(self, clip):
        x, _ = clip
        record = MelFeatures().fit_transform([x])[0]
        n_frames = 1 + len(x) // 128
        assert record.features.shape == (n_frames, 300)
        assert record.magnitude.shape == (n_frames, 150)
        assert record.stft.shape == (257, n_frames)
        assert record.features.dtype == np.float32
        assert record.sample_rate == 16000 and record.n_samples == len(x)

    def test_no_deltas_and_linear_grid(self, clip):
        x, _ = clip
        assert MelFeatures(deltas=False).fit_transform([x])[0].features.shape[1] == 150
        linear = MelFeatures(frequency_scale="linear", deltas=False).fit_transform([x])[0]
        assert linear.features.shape[1] == 257

    def test_n_mels_none_is_the_former_spelling_of_linear(self, clip):
        x, _ = clip
        linear = MelFeatures(frequency_scale="linear").fit_transform([x])[0]
        former = MelFeatures(n_mels=None).fit_transform([x])[0]
        assert linear.grid == former.grid and linear.grid.n_mels is None
        np.testing.assert_array_equal(linear.features, former.features)
        # the scale is a plain parameter: clone and grid search reach it
        assert clone(MelFeatures(frequency_scale="linear")).get_params()["frequency_scale"] \
            == "linear"

    def test_features_are_log_mel_of_librosa(self, clip):
        import librosa
        x, _ = clip
        record = MelFeatures(deltas=False, normalize_level=False).fit_transform([x])[0]
        mel = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=128,
                                             n_mels=150, power=1.0)
        np.testing.assert_allclose(record.features, np.log(mel.T + 1e-6), rtol=1e-4, atol=1e-4)

    def test_round_trip_with_unit_masks(self, clip):
        x, _ = clip
        record = MelFeatures().fit_transform([x])[0]
        ones = np.ones((1, record.n_frames, 150), dtype=np.float32)
        np.testing.assert_allclose(apply_masks(record, ones)[0], x, atol=1e-5)

    def test_masks_summing_to_one_sum_back_to_mixture(self, clip):
        x, _ = clip
        record = MelFeatures().fit_transform([x])[0]
        rng = np.random.default_rng(0)
        raw = rng.random((3, record.n_frames, 150)).astype(np.float32)
        estimates = apply_masks(record, raw / raw.sum(0))
        assert estimates.shape == (3, len(x))
        np.testing.assert_allclose(estimates.sum(0), x, atol=1e-5)

    def test_array_in_list_out(self, clip):
        x, _ = clip
        records = MelFeatures().fit_transform(np.stack([x[:8000], x[8000:16000]]))
        assert isinstance(records, list) and len(records) == 2

    @pytest.mark.parametrize("bad, error, match", [
        ([np.zeros(100, np.float32)], InvalidInputError, r"X\[0\] has 100 samples; expected at least 512"),
        ([np.full(1000, np.nan, np.float32)], InvalidInputError, "NaN"),
        ([np.zeros(1000, np.int16)], InvalidAudioTypeError, "integer dtype int16"),
        ([np.zeros((2, 1000), np.float32)], InvalidInputError, r"X\[0\] must be a 1-D float array, got shape \(2, 1000\)"),
        ([], InvalidInputError, "holds no clips"),
        ("song.wav", InvalidAudioTypeError, "X must be"),
    ])
    def test_bad_input(self, bad, error, match):
        with pytest.raises(error, match=match):
            MelFeatures().fit_transform(bad)

    @pytest.mark.parametrize("params, match", [
        ({"hop_length": 0}, "hop_length=0 must be an integer >= 1"),
        ({"n_mels": 1}, "n_mels=1"),
        ({"delta_width": 4}, "delta_width=4 must be an odd integer"),
        ({"fmax": 9000}, "fmax=9000"),
        ({"frequency_scale": "bark"}, "frequency_scale='bark' must be one of 'mel', 'linear'"),
        ({"n_fft": 512.0}, "n_fft=512.0 must be an integer"),
    ])
    def test_bad_params(self, params, match, clip):
        with pytest.raises(InvalidInputError, match=match):
            MelFeatures(**params).fit([clip[0]])


class TestMasks:
    def test_ideal_binary_mask_is_one_hot_argmax(self):
        magnitudes = np.random.default_rng(0).random((3, 4, 5))
        mask = ideal_binary_mask(magnitudes)
        assert np.all(mask.sum(0) == 1)
        np.testing.assert_array_equal(mask.argmax(0), magnitudes.argmax(0))

    def test_wiener_mask_sums_to_one_and_handles_silence(self):
        magnitudes = np.random.default_rng(0).random((2, 4, 5))
        magnitudes[:, 0, 0] = 0
        mask = wiener_mask(magnitudes)
        np.testing.assert_allclose(mask.sum(0), 1, atol=1e-6)
        assert mask[0, 0, 0] == pytest.approx(0.5)
        np.testing.assert_allclose(mask[0, 1, 1], magnitudes[0, 1, 1] ** 2 / (magnitudes[:, 1, 1] ** 2).sum(), rtol=1e-5)

    def test_loudness_weights_threshold(self):
        magnitude = np.array([[1.0, 0.1, 0.011, 0.009, 0.0]])
        np.testing.assert_array_equal(loudness_weights(magnitude, threshold_db=-40), [[1, 1, 1, 0, 0]])
        assert loudness_weights(np.zeros((2, 3))).sum() == 0

    def test_targets_on_real_clip(self, clip):
        x, y = clip
        record = MelFeatures().fit_transform([x])[0]
        ibm = IdealBinaryMask(threshold_db=-30)
        assert ibm.masks(record, y).shape == (2, record.n_frames, 150)
        weights = ibm.weights(record)
        assert 0.05 < weights.mean() < 0.9
        assert IdealBinaryMask(threshold_db=-60).weights(record).mean() > weights.mean()
        np.testing.assert_allclose(WienerMask().masks(record, y).sum(0), 1, atol=1e-5)


def _stft_oracle_si_sdri(X, Y, mask):
    """Oracle masks computed directly on the linear STFT grid (no mel projection)."""
    separator = OracleMaskSeparator(mask=mask, features=MelFeatures(n_mels=None)).fit(X, Y)
    return separator.score(X, Y)


class TestOracle:
    @pytest.mark.parametrize("mask", ["binary", "wiener"])
    def test_mel_oracle_close_to_stft_oracle_on_real_clips(self, mir1k_test_clips, mask):
        X, Y = mir1k_test_clips
        mel = OracleMaskSeparator(mask=mask).fit(X, Y).score(X, Y)
        direct = _stft_oracle_si_sdri(X, Y, mask)
        assert mel > 9.0, mel
        assert direct - mel < 2.0, (direct, mel)

    def test_per_source_improvement_positive(self, mir1k_test_clips):
        X, Y = mir1k_test_clips
        oracle = OracleMaskSeparator(mask="wiener").fit(X, Y)
        estimates = oracle.predict(X, Y)
        for source in range(2):
            improvement = mean_si_sdr_improvement([y[source:source + 1] for y in Y],
                                                  [e[source:source + 1] for e in estimates], X)
            assert improvement > 8.0

    def test_predict_structure_and_null_sum(self, mir1k_test_clips):
        X, Y = mir1k_test_clips
        estimates = OracleMaskSeparator(mask="wiener").fit(X, Y).predict(X[:2], Y[:2])
        assert isinstance(estimates, list) and estimates[0].shape == Y[0].shape
        np.testing.assert_allclose(estimates[0].sum(0), X[0], atol=1e-5)

    def test_bad_mask_name(self, mir1k_test_clips):
        X, Y = mir1k_test_clips
        with pytest.raises(InvalidInputError, match="mask='ratio' must be one of 'binary', 'wiener'"):
            OracleMaskSeparator(mask="ratio").fit(X, Y)
