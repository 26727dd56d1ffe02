"""Tests of sksep.metrics: SI-SDR, BSS Eval, MIREX globals, permutations, reports, scorers."""

import builtins
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from sksep.exceptions import (InvalidAudioTypeError, InvalidInputError, InvalidParameterTypeError,
                              MissingProgramError)
from sksep.metrics import (best_permutation, bss_eval, format_report_table, get_scorer,
                           make_separation_scorer, mean_si_sdr_improvement, mirex_globals,
                           separation_report, separation_scores, si_sdr, si_sdr_improvement,
                           si_sdri_scorer)

MIR1K = Path(__file__).resolve().parents[3] / "shared" / "data" / "MIR-1K"


@pytest.fixture(autouse=True)
def seed():
    np.random.seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def mir1k_excerpt():
    """2 s of annar_1_01 at 16 kHz: sources ``(2, 32000)`` (vocals, accompaniment), mixture."""
    soundfile = pytest.importorskip("soundfile")
    path = MIR1K / "Wavfile" / "annar_1_01.wav"
    if not path.exists():
        pytest.skip(f"MIR-1K clip not found at {path}")
    audio, sample_rate = soundfile.read(path, start=16000, stop=48000)
    assert sample_rate == 16000
    accompaniment, vocals = audio[:, 0], audio[:, 1]
    sources = np.stack([vocals, accompaniment])
    return sources, sources.sum(axis=0)


def naive_si_sdr(reference, estimate, zero_mean=True):
    """The formula of Le Roux et al. written out, one 1-D pair at a time."""
    if zero_mean:
        reference = reference - sum(reference) / len(reference)
        estimate = estimate - sum(estimate) / len(estimate)
    alpha = sum(e * r for e, r in zip(estimate, reference)) / sum(r * r for r in reference)
    target = [alpha * r for r in reference]
    distortion = [e - t for e, t in zip(estimate, target)]
    return 10 * np.log10(sum(t * t for t in target) / sum(d * d for d in distortion))


def noisy(signal, snr_db, rng):
    """``signal`` plus white noise orthogonal to it (both zero-mean) at exactly ``snr_db``."""
    signal = signal - signal.mean()
    noise = rng.standard_normal(signal.shape)
    noise -= noise.mean()
    noise -= noise @ signal / (signal @ signal) * signal
    noise *= np.sqrt(signal @ signal / (noise @ noise) / 10 ** (snr_db / 10))
    return signal + noise


def noisy_clips(rng, lengths, noise):
    """Random two-source clips ``Y``, their estimates plus noise ``Y_pred``, mixtures ``X``."""
    Y = [rng.standard_normal((2, n)) for n in lengths]
    Y_pred = [y + noise * rng.standard_normal(y.shape) for y in Y]
    return Y, Y_pred, [y.sum(axis=0) for y in Y]


class Predictor:
    """A separator stub whose ``predict`` returns fixed estimates."""

    def __init__(self, Y_pred, permutation_invariant=False):
        self.Y_pred = Y_pred
        if permutation_invariant:
            self.permutation_invariant_ = True

    def predict(self, X):
        return self.Y_pred


class TestSiSdr:
    @pytest.mark.parametrize("zero_mean", [True, False])
    def test_matches_naive_formula(self, rng, zero_mean):
        reference = rng.standard_normal((3, 500)) + 0.3
        estimate = reference + rng.uniform(0.1, 2.0, (3, 1)) * rng.standard_normal((3, 500))
        got = si_sdr(reference, estimate, zero_mean=zero_mean)
        expected = [naive_si_sdr(r, e, zero_mean) for r, e in zip(reference, estimate)]
        assert got.shape == (3,) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-9)

    def test_scale_invariant(self, rng):
        reference = rng.standard_normal(2000)
        estimate = reference + 0.5 * rng.standard_normal(2000)
        assert si_sdr(reference, 3.7 * estimate) == pytest.approx(si_sdr(reference, estimate),
                                                                   abs=1e-9)
        # eps, added to the reference energy, breaks the invariance only by about eps / energy
        assert si_sdr(0.01 * reference, estimate) == pytest.approx(si_sdr(reference, estimate),
                                                                    rel=1e-6)

    @pytest.mark.parametrize("snr_db", [-5.0, 0.0, 12.5, 30.0])
    def test_orthogonal_noise_gives_its_snr(self, rng, snr_db):
        reference = rng.standard_normal(8000)
        estimate = noisy(reference, snr_db, rng)
        assert si_sdr(reference, estimate) == pytest.approx(snr_db, abs=1e-6)

    def test_random_noise_gives_about_its_snr(self, rng):
        reference = rng.standard_normal(16000)
        estimate = reference + 10 ** (-15 / 20) * rng.standard_normal(16000)
        assert si_sdr(reference, estimate) == pytest.approx(15.0, abs=0.2)

    def test_silent_inputs_are_finite(self, rng):
        signal = rng.standard_normal(1000)
        silence = np.zeros(1000)
        assert si_sdr(signal, silence) == pytest.approx(0.0)
        assert si_sdr(silence, silence) == pytest.approx(0.0)
        silent_reference = si_sdr(silence, signal)
        assert np.isfinite(silent_reference) and silent_reference < -80

    def test_constant_reference_with_zero_mean_is_finite(self, rng):
        assert np.isfinite(si_sdr(np.ones(100), rng.standard_normal(100)))

    def test_offset_ignored_only_with_zero_mean(self, rng):
        reference = rng.standard_normal(1000)
        shifted = reference + 5.0
        assert si_sdr(reference, shifted) > 100
        assert si_sdr(reference, shifted, zero_mean=False) < 10

    def test_broadcasts_one_estimate_against_many_references(self, rng):
        references = rng.standard_normal((2, 3, 400))
        mixture = references.sum(axis=(0, 1))
        got = si_sdr(references, mixture)
        assert got.shape == (2, 3)
        assert got[1, 2] == pytest.approx(si_sdr(references[1, 2], mixture))

    def test_float32_input_gives_float64(self, rng):
        reference = rng.standard_normal(100).astype(np.float32)
        value = si_sdr(reference, reference + np.float32(0.1))
        assert isinstance(value, np.float64)

    def test_different_lengths_raise(self):
        with pytest.raises(InvalidInputError,
                           match=r"reference has 100 samples .* estimate has 99"):
            si_sdr(np.ones(100), np.ones(99))

    def test_shapes_that_do_not_broadcast_raise(self):
        with pytest.raises(InvalidInputError, match=r"\(2, 10\) and estimate of shape \(3, 10\)"):
            si_sdr(np.ones((2, 10)), np.ones((3, 10)))

    def test_nan_raises(self):
        estimate = np.ones(10)
        estimate[3] = np.nan
        with pytest.raises(InvalidInputError, match="estimate contains 1 NaN or infinite"):
            si_sdr(np.ones(10), estimate)

    def test_integer_audio_raises(self):
        with pytest.raises(InvalidAudioTypeError, match="reference has integer dtype"):
            si_sdr(np.ones(10, dtype=np.int16), np.ones(10))

    def test_scalar_and_bad_eps_raise(self):
        with pytest.raises(InvalidInputError, match="reference must be an array"):
            si_sdr(1.0, np.ones(10))
        with pytest.raises(InvalidInputError, match="eps=0.0 must be > 0"):
            si_sdr(np.ones(10), np.ones(10), eps=0.0)


class TestSiSdrImprovement:
    def test_zero_when_estimate_is_mixture(self, rng):
        sources = rng.standard_normal((3, 1000))
        mixture = sources.sum(axis=0)
        np.testing.assert_array_equal(
            si_sdr_improvement(sources, np.tile(mixture, (3, 1)), mixture), np.zeros(3))

    def test_is_difference_of_si_sdr(self, rng):
        sources = rng.standard_normal((2, 1000))
        mixture = sources.sum(axis=0)
        estimates = sources + 0.3 * rng.standard_normal((2, 1000))
        np.testing.assert_allclose(
            si_sdr_improvement(sources, estimates, mixture, zero_mean=False),
            si_sdr(sources, estimates, zero_mean=False)
            - si_sdr(sources, mixture, zero_mean=False))


class TestBestPermutation:
    def test_recovers_shuffled_order(self, rng):
        sources = rng.standard_normal((4, 3000))
        order = [2, 0, 3, 1]
        estimates = sources[order] + 0.3 * rng.standard_normal((4, 3000))
        perm = best_permutation(sources, estimates)
        assert perm == (1, 3, 0, 2)
        assert all(type(index) is int for index in perm)
        np.testing.assert_array_equal(estimates[list(perm)][0], estimates[1])

    def test_custom_metric(self, rng):
        sources = rng.standard_normal((2, 500))
        def negative_error(reference, estimate):
            return -np.sum((reference - estimate) ** 2)
        assert best_permutation(sources, sources[::-1], metric=negative_error) == (1, 0)

    def test_non_finite_metric_raises(self, rng):
        sources = rng.standard_normal((2, 50))
        with pytest.raises(InvalidInputError, match="gave non-finite scores"):
            best_permutation(sources, sources, metric=lambda r, e: np.nan)

    def test_shape_mismatch_raises(self):
        with pytest.raises(InvalidInputError, match=r"got shapes \(2, 50\) and \(3, 50\)"):
            best_permutation(np.ones((2, 50)), np.ones((3, 50)))


class TestMeanSiSdrImprovement:
    @pytest.fixture
    def clips(self, rng):
        """Two clips of 4000 and 12000 samples, separated well and badly."""
        Y = [rng.standard_normal((2, 4000)), rng.standard_normal((2, 12000))]
        X = [y.sum(axis=0) for y in Y]
        Y_pred = [Y[0] + 0.05 * rng.standard_normal((2, 4000)),
                  Y[1] + 0.8 * rng.standard_normal((2, 12000))]
        return Y, Y_pred, X

    def test_length_weighted_mean(self, clips):
        Y, Y_pred, X = clips
        short = si_sdr_improvement(Y[0], Y_pred[0], X[0])
        long = si_sdr_improvement(Y[1], Y_pred[1], X[1])
        expected = (4000 * short.sum() + 12000 * long.sum()) / (2 * 4000 + 2 * 12000)
        got = mean_si_sdr_improvement(Y, Y_pred, X)
        assert type(got) is float
        assert got == pytest.approx(expected, rel=1e-12)
        unweighted = np.mean(np.concatenate([short, long]))
        assert abs(got - unweighted) > 1.0  # the weighting matters here

    def test_arrays_and_lists_agree(self, rng):
        Y = rng.standard_normal((3, 2, 1000))
        X = Y.sum(axis=1)
        Y_pred = Y + 0.2 * rng.standard_normal(Y.shape)
        assert mean_si_sdr_improvement(Y, Y_pred, X) == pytest.approx(
            mean_si_sdr_improvement(list(Y), list(Y_pred), list(X)), rel=1e-12)

    def test_permutation_invariant_handles_swapped_estimates(self, clips):
        Y, Y_pred, X = clips
        swapped = [y[::-1] for y in Y_pred]
        in_order = mean_si_sdr_improvement(Y, Y_pred, X)
        assert mean_si_sdr_improvement(Y, swapped, X, permutation_invariant=True) == \
            pytest.approx(in_order)
        assert mean_si_sdr_improvement(Y, swapped, X) < in_order - 10

    def test_silent_reference_left_out(self, rng):
        Y = [rng.standard_normal((3, 4000)), rng.standard_normal((3, 12000))]
        Y[1][2] = 0.0
        X = [y.sum(axis=0) for y in Y]
        Y_pred = [y + 0.3 * rng.standard_normal(y.shape) for y in Y]
        short = si_sdr_improvement(Y[0], Y_pred[0], X[0])
        long = si_sdr_improvement(Y[1], Y_pred[1], X[1])
        assert si_sdr(Y[1][2], Y_pred[1][2]) < -100  # meaningless for a silent reference
        expected = (4000 * short.sum() + 12000 * long[:2].sum()) / (3 * 4000 + 2 * 12000)
        got = mean_si_sdr_improvement(Y, Y_pred, X)
        assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-12)

    def test_source_that_is_the_whole_mixture_left_out(self, clips):
        Y, Y_pred, X = clips
        Y = [Y[0], np.stack([Y[1][0], np.zeros(12000)])]  # clip 1: no second source
        X = [X[0], Y[1][0]]
        assert si_sdr_improvement(Y[1][0], Y_pred[1][0], X[1]) < -50
        expected = si_sdr_improvement(Y[0], Y_pred[0], X[0]).mean()
        assert mean_si_sdr_improvement(Y, Y_pred, X) == pytest.approx(expected, rel=1e-12)

    def test_single_source_against_a_richer_mixture(self, clips):
        Y, Y_pred, X = clips  # Y holds only the first source; X still has both
        got = mean_si_sdr_improvement([y[:1] for y in Y], [p[:1] for p in Y_pred], X)
        short = si_sdr_improvement(Y[0][0], Y_pred[0][0], X[0])
        long = si_sdr_improvement(Y[1][0], Y_pred[1][0], X[1])
        assert got == pytest.approx((4000 * short + 12000 * long) / 16000, rel=1e-12)

    def test_all_silent_raises(self):
        Y = [np.zeros((2, 100))]
        with pytest.raises(InvalidInputError, match="every reference source is silent"):
            mean_si_sdr_improvement(Y, Y, [np.zeros(100)])

    def test_clip_count_mismatch_raises(self, clips):
        Y, Y_pred, X = clips
        with pytest.raises(InvalidInputError, match="Y_pred has 1 clips but X has 2"):
            mean_si_sdr_improvement(Y, Y_pred[:1], X)

    def test_source_count_mismatch_raises(self, clips):
        Y, Y_pred, X = clips
        Y_pred = [y[:1] for y in Y_pred]
        with pytest.raises(InvalidInputError, match=r"Y_pred\[0\] has 1 sources; expected 2"):
            mean_si_sdr_improvement(Y, Y_pred, X)

    def test_length_mismatch_raises(self, clips):
        Y, Y_pred, X = clips
        Y_pred = [Y_pred[0][:, :3999], Y_pred[1]]
        with pytest.raises(InvalidInputError,
                           match=r"Y_pred\[0\] has 3999 samples but its mixture X\[0\] has 4000"):
            mean_si_sdr_improvement(Y, Y_pred, X)

    def test_nan_raises(self, clips):
        Y, Y_pred, X = clips
        Y_pred = [Y_pred[0].copy(), Y_pred[1]]
        Y_pred[0][1, 7] = np.nan
        with pytest.raises(InvalidInputError, match=r"Y_pred\[0\] contains 1 NaN"):
            mean_si_sdr_improvement(Y, Y_pred, X)

    def test_bad_permutation_flag_raises(self, clips):
        with pytest.raises(InvalidInputError, match="permutation_invariant='yes' must be True"):
            mean_si_sdr_improvement(*clips, permutation_invariant="yes")


class TestBssEval:
    def test_perfect_estimate_scores_very_high(self, rng):
        sources = rng.standard_normal((2, 8000))
        scores = bss_eval(sources, sources.copy())
        assert set(scores) == {"sdr", "sir", "sar"}
        assert scores["sdr"].shape == (2,) and scores["sdr"].dtype == np.float64
        assert np.all(scores["sdr"] > 60)

    def test_mixture_of_equal_noises_is_near_0db(self, rng):
        sources = rng.standard_normal((2, 16000))
        mixture = sources.sum(axis=0)
        scores = bss_eval(sources, np.stack([mixture, mixture]))
        np.testing.assert_allclose(scores["sdr"], 0.0, atol=0.3)

    def test_silent_reference_gives_nan_and_others_unchanged(self, rng):
        references = rng.standard_normal((3, 8000))
        references[1] = 0.0
        estimates = references + 0.2 * rng.standard_normal((3, 8000))
        scores = bss_eval(references, estimates)
        without_silent = bss_eval(references[[0, 2]], estimates[[0, 2]])
        for key in ("sdr", "sir", "sar"):
            assert np.isnan(scores[key][1])
            np.testing.assert_allclose(scores[key][[0, 2]], without_silent[key])
            assert np.all(np.isfinite(without_silent[key]))

    def test_all_silent_references_give_nan(self):
        scores = bss_eval(np.zeros((2, 100)), np.ones((2, 100)))
        assert np.all(np.isnan(scores["sdr"]))

    def test_zero_estimate_is_all_distortion(self, rng):
        sources = rng.standard_normal((2, 8000))
        estimates = np.stack([sources[0] + 0.1 * sources[1], np.zeros(8000)])
        scores = bss_eval(sources, estimates)
        assert scores["sdr"][1] == 0.0
        assert np.isnan(scores["sir"][1]) and np.isnan(scores["sar"][1])
        assert scores["sdr"][0] == pytest.approx(20.0, abs=0.1)

    def test_single_reference_has_no_sir(self, rng):
        source = rng.standard_normal((1, 4000))
        scores = bss_eval(source, source + 0.1 * rng.standard_normal((1, 4000)))
        assert np.isnan(scores["sir"][0])
        assert scores["sdr"][0] == pytest.approx(20.0, abs=0.5)

    def test_multichannel(self, rng):
        sources = rng.standard_normal((2, 4000, 2))
        scores = bss_eval(sources, sources + 0.1 * rng.standard_normal(sources.shape))
        assert scores["sdr"].shape == (2,)
        np.testing.assert_allclose(scores["sdr"], 20.0, atol=0.5)

    def test_real_audio_leakage(self, mir1k_excerpt):
        sources, mixture = mir1k_excerpt
        vocals, accompaniment = sources
        power_ratio = 10 * np.log10(np.sum(vocals**2) / np.sum(accompaniment**2))
        mixture_scores = bss_eval(sources, np.stack([mixture, mixture]), sample_rate=16000)
        assert mixture_scores["sdr"][0] == pytest.approx(power_ratio, abs=0.01)
        assert mixture_scores["sdr"][1] == pytest.approx(-power_ratio, abs=0.01)
        leaky = np.stack([vocals + 0.1 * accompaniment, accompaniment + 0.1 * vocals])
        scores = bss_eval(sources, leaky, sample_rate=16000)
        assert scores["sdr"][0] == pytest.approx(20 + power_ratio, abs=0.01)
        assert np.all(scores["sir"] > 15) and np.all(scores["sar"] > 60)

    def test_shape_mismatch_raises(self):
        with pytest.raises(InvalidInputError,
                           match=r"references has shape \(2, 100\) but estimates has shape "
                                 r"\(2, 99\)"):
            bss_eval(np.ones((2, 100)), np.ones((2, 99)))

    def test_one_dimensional_raises(self):
        with pytest.raises(InvalidInputError,
                           match=r"references must be a 2-D .* got shape \(100,\)"):
            bss_eval(np.ones(100), np.ones(100))

    def test_bad_sample_rate_raises(self):
        with pytest.raises(InvalidInputError, match="sample_rate=-1 must be > 0"):
            bss_eval(np.ones((1, 10)), np.ones((1, 10)), sample_rate=-1)

    def test_missing_museval_raises_import_error(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "museval", None)
        monkeypatch.delitem(sys.modules, "museval.metrics", raising=False)
        with pytest.raises(ImportError, match=r"pip install 'sksep\[eval\]'"):
            bss_eval(np.ones((1, 10)), np.ones((1, 10)))

    def test_missing_ffmpeg_raises_missing_program_error(self, monkeypatch):
        real_import = builtins.__import__

        def failing_import(name, *args, **kwargs):
            if name.startswith("museval"):
                raise RuntimeError("ffmpeg or ffprobe could not be found!")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", failing_import)
        with pytest.raises(MissingProgramError, match="install ffmpeg"):
            bss_eval(np.ones((1, 10)), np.ones((1, 10)))


class TestMirexGlobals:
    @pytest.fixture
    def clips(self, rng):
        Y = [rng.standard_normal((2, n)) for n in (3000, 9000)]
        X = [y.sum(axis=0) for y in Y]
        Y_pred = [Y[0] + 0.1 * rng.standard_normal((2, 3000)),
                  Y[1] + 0.5 * rng.standard_normal((2, 9000))]
        return Y, Y_pred, X

    def test_globals_are_length_weighted_by_hand(self, clips):
        Y, Y_pred, X = clips
        scores = mirex_globals(Y, Y_pred, X, source_names=["vocals", "accompaniment"])
        per_clip = [bss_eval(y, p) for y, p in zip(Y, Y_pred)]
        mixture_sdr = [bss_eval(y, np.stack([x, x]))["sdr"] for y, x in zip(Y, X)]
        nsdr = [per_clip[i]["sdr"] - mixture_sdr[i] for i in range(2)]
        np.testing.assert_allclose(scores["GNSDR"], (3000 * nsdr[0] + 9000 * nsdr[1]) / 12000)
        for key in ("sir", "sar"):
            expected = (3000 * per_clip[0][key] + 9000 * per_clip[1][key]) / 12000
            np.testing.assert_allclose(scores["G" + key.upper()], expected)
        np.testing.assert_allclose(scores["per_clip"]["nsdr"], np.stack(nsdr))
        np.testing.assert_array_equal(scores["per_clip"]["lengths"], [3000, 9000])
        assert scores["per_clip"]["sdr"].shape == (2, 2)
        assert scores["source_names"] == ["vocals", "accompaniment"]
        assert np.all(scores["GNSDR"] > 5)

    def test_parallel_equals_serial(self, clips):
        Y, Y_pred, X = clips
        Y_pred = [Y_pred[0], np.stack([Y_pred[1][0], np.zeros(9000)])]  # a zero estimate too
        serial = mirex_globals(Y, Y_pred, X)
        parallel = mirex_globals(Y, Y_pred, X, n_jobs=2)
        for key in ("GNSDR", "GSIR", "GSAR"):
            np.testing.assert_array_equal(parallel[key], serial[key])
        for key in ("sdr", "sir", "sar", "nsdr", "lengths"):
            np.testing.assert_array_equal(parallel["per_clip"][key], serial["per_clip"][key])

    def test_clip_with_a_silent_source_left_out_where_undefined(self, clips):
        Y, Y_pred, X = clips
        Y = [Y[0], np.stack([Y[1][0], np.zeros(9000)])]  # clip 1: no second source
        X = [X[0], Y[1][0]]
        scores = mirex_globals(Y, Y_pred, X)
        per_clip = scores["per_clip"]
        assert np.all(np.isnan([per_clip[key][1, 1] for key in ("sdr", "sir", "sar", "nsdr")]))
        # source 0 is the whole mixture: no improvement to measure, no interference
        assert np.isnan(per_clip["nsdr"][1, 0]) and np.isnan(per_clip["sir"][1, 0])
        assert np.isfinite(per_clip["sdr"][1, 0]) and np.isfinite(per_clip["sar"][1, 0])
        np.testing.assert_allclose(scores["GNSDR"], per_clip["nsdr"][0])
        np.testing.assert_allclose(scores["GSIR"], per_clip["sir"][0])
        assert scores["GSAR"][0] == pytest.approx(
            (3000 * per_clip["sar"][0, 0] + 9000 * per_clip["sar"][1, 0]) / 12000)
        for key in ("GNSDR", "GSIR", "GSAR"):
            assert np.all(np.isfinite(scores[key]))

    def test_source_silent_everywhere_gives_nan(self, rng):
        Y = [rng.standard_normal((3, 500))]
        Y[0][2] = 0.0
        scores = mirex_globals(Y, [Y[0] + 0.1], [Y[0].sum(axis=0)])
        assert np.all(np.isfinite(scores["GNSDR"][:2])) and np.isnan(scores["GNSDR"][2])

    def test_real_audio(self, mir1k_excerpt):
        sources, mixture = mir1k_excerpt
        X = [mixture]
        unchanged = mirex_globals([sources], [np.stack([mixture, mixture])], X)
        np.testing.assert_allclose(unchanged["GNSDR"], 0.0, atol=1e-9)
        vocals, accompaniment = sources
        leaky = np.stack([vocals + 0.1 * accompaniment, accompaniment + 0.1 * vocals])
        scores = mirex_globals([sources], [leaky], X, source_names=["vocals", "accompaniment"])
        np.testing.assert_allclose(scores["GNSDR"], 20.0, atol=0.01)

    def test_default_and_bad_source_names(self, clips):
        with pytest.raises(InvalidInputError,
                           match=r"source_names=\['vocals'\] must be 2 strings"):
            mirex_globals(*clips, source_names=["vocals"])
        with pytest.raises(InvalidInputError, match="must not repeat a name"):
            mirex_globals(*clips, source_names=["a", "a"])
        with pytest.raises(InvalidInputError, match="n_jobs=0"):
            mirex_globals(*clips, n_jobs=0)

    def test_clip_count_mismatch_raises(self, clips):
        Y, Y_pred, X = clips
        with pytest.raises(InvalidInputError, match="Y_true has 2 clips but X has 1"):
            mirex_globals(Y, Y_pred, X[:1])


class TestSeparationReport:
    def test_matches_the_underlying_metrics(self, rng):
        Y = [rng.standard_normal((2, n)) for n in (2000, 6000)]
        X = [y.sum(axis=0) for y in Y]
        Y_pred = [y + 0.3 * rng.standard_normal(y.shape) for y in Y]
        report = separation_report(Y, Y_pred, X, source_names=["vocals", "accompaniment"])
        assert list(report) == ["vocals", "accompaniment"]
        globals_ = mirex_globals(Y, Y_pred, X)
        for j, name in enumerate(report):
            assert set(report[name]) == {"SI-SDRi", "GNSDR", "GSIR", "GSAR"}
            assert all(type(value) is float for value in report[name].values())
            assert report[name]["GNSDR"] == pytest.approx(globals_["GNSDR"][j])
            expected = (2000 * si_sdr_improvement(Y[0][j], Y_pred[0][j], X[0])
                        + 6000 * si_sdr_improvement(Y[1][j], Y_pred[1][j], X[1])) / 8000
            assert report[name]["SI-SDRi"] == pytest.approx(expected)

    def test_without_bss_and_permutation_invariant(self, rng):
        Y = [rng.standard_normal((2, 1000))]
        X = [Y[0].sum(axis=0)]
        Y_pred = [Y[0][::-1] + 0.1 * rng.standard_normal((2, 1000))]
        report = separation_report(Y, Y_pred, X, bss=False, permutation_invariant=True)
        assert list(report) == ["source0", "source1"]
        assert set(report["source0"]) == {"SI-SDRi"}
        assert report["source0"]["SI-SDRi"] > 15


class TestSeparationScores:
    @pytest.fixture
    def clips(self, rng):
        return noisy_clips(rng, (2000, 6000), noise=0.3)

    def test_every_clip_and_the_report(self, clips):
        Y, Y_pred, X = clips
        scores = separation_scores(Y, Y_pred, X, source_names=["vocals", "accompaniment"])
        assert set(scores) == {"per_clip", "overall", "lengths", "source_names"}
        assert list(scores["per_clip"]) == ["SI-SDRi", "SDR", "SIR", "SAR", "NSDR"]
        assert all(table.shape == (2, 2) and table.dtype == np.float64
                   for table in scores["per_clip"].values())
        np.testing.assert_array_equal(scores["lengths"], [2000, 6000])
        assert scores["source_names"] == ["vocals", "accompaniment"]
        for i in range(2):
            np.testing.assert_allclose(scores["per_clip"]["SI-SDRi"][i],
                                       si_sdr_improvement(Y[i], Y_pred[i], X[i]))
        globals_ = mirex_globals(Y, Y_pred, X)
        for key in ("sdr", "sir", "sar", "nsdr"):
            np.testing.assert_array_equal(scores["per_clip"][key.upper()],
                                          globals_["per_clip"][key])
        assert scores["overall"] == separation_report(
            Y, Y_pred, X, source_names=["vocals", "accompaniment"])

    def test_without_bss_and_permutation_invariant(self, clips):
        Y, Y_pred, X = clips
        swapped = [y[::-1] for y in Y_pred]
        scores = separation_scores(Y, swapped, X, bss=False, permutation_invariant=True)
        assert list(scores["per_clip"]) == ["SI-SDRi"]
        assert set(scores["overall"]["source0"]) == {"SI-SDRi"}
        ordered = separation_scores(Y, Y_pred, X, bss=False)
        np.testing.assert_array_equal(scores["per_clip"]["SI-SDRi"],
                                      ordered["per_clip"]["SI-SDRi"])

    def test_undefined_entries_are_nan(self, clips):
        Y, Y_pred, X = clips
        Y = [Y[0], np.stack([Y[1][0], np.zeros(6000)])]  # clip 1: no second source
        X = [X[0], Y[1][0]]
        table = separation_scores(Y, Y_pred, X, bss=False)["per_clip"]["SI-SDRi"]
        assert np.all(np.isfinite(table[0])) and np.all(np.isnan(table[1]))

    def test_bad_arguments(self, clips):
        with pytest.raises(InvalidInputError, match=r"source_names=\['vocals'\] must be 2"):
            separation_scores(*clips, source_names=["vocals"])
        with pytest.raises(InvalidParameterTypeError, match="bss='no' must be True or False"):
            separation_scores(*clips, bss="no")


class TestFormatReportTable:
    def test_one_row_per_label(self):
        reports = {
            "mixture": {"vocals": {"SI-SDRi": 0.0, "GNSDR": 0.0},
                        "accompaniment": {"SI-SDRi": 0.0, "GNSDR": 0.0}},
            "oracle": {"vocals": {"SI-SDRi": 12.345, "GNSDR": float("nan")},
                       "accompaniment": {"SI-SDRi": 9.0}},
        }
        lines = format_report_table(reports, floatfmt=".1f").splitlines()
        assert len(lines) == 4
        header = [cell.strip() for cell in lines[0].strip("|").split("|")]
        assert header == ["", "vocals SI-SDRi", "vocals GNSDR", "accompaniment SI-SDRi",
                          "accompaniment GNSDR"]
        oracle = [cell.strip() for cell in lines[3].strip("|").split("|")]
        assert oracle == ["oracle", "12.3", "nan", "9.0", ""]
        assert set(lines[1]) <= {"|", "-", ":"}

    def test_bad_input_raises(self):
        with pytest.raises(InvalidInputError, match="reports must be a non-empty dict"):
            format_report_table({})
        with pytest.raises(InvalidInputError, match=r"reports\['model'\] must be a dict"):
            format_report_table({"model": 3.0})
        with pytest.raises(InvalidInputError, match="floatfmt='%d' is not a valid"):
            format_report_table({"m": {"v": {"SI-SDRi": 1.0}}}, floatfmt="%d")


class TestScorers:
    @pytest.fixture
    def data(self, rng):
        Y, Y_pred, X = noisy_clips(rng, (2000, 5000), noise=0.2)
        return X, Y, Y_pred

    def test_si_sdri_scorer_is_mean_si_sdr_improvement(self, data):
        X, Y, Y_pred = data
        score = si_sdri_scorer(Predictor(Y_pred), X, Y)
        assert type(score) is float
        assert score == mean_si_sdr_improvement(Y, Y_pred, X)

    def test_si_sdri_scorer_honours_permutation_invariant_attribute(self, data):
        X, Y, Y_pred = data
        swapped = [y[::-1] for y in Y_pred]
        expected = mean_si_sdr_improvement(Y, Y_pred, X)
        assert si_sdri_scorer(Predictor(swapped), X, Y) < expected - 10
        assert si_sdri_scorer(Predictor(swapped, permutation_invariant=True), X, Y) == \
            pytest.approx(expected)

        class Pipeline:  # sklearn's Pipeline keeps its estimators in `steps`
            steps = [("separator", Predictor(swapped, permutation_invariant=True))]

            def predict(self, X):
                return self.steps[-1][1].predict(X)

        assert si_sdri_scorer(Pipeline(), X, Y) == pytest.approx(expected)

    @pytest.mark.parametrize("metric", ["si_sdri", "gnsdr", "gsir", "gsar"])
    def test_every_metric_returns_a_float(self, data, metric):
        X, Y, Y_pred = data
        score = make_separation_scorer(metric)(Predictor(Y_pred), X, Y)
        assert type(score) is float and np.isfinite(score)
        assert score == get_scorer(metric)(Predictor(Y_pred), X, Y)

    def test_source_selects_one_source(self, data):
        X, Y, Y_pred = data
        report = separation_report(Y, Y_pred, X)
        for j in range(2):
            assert make_separation_scorer("si_sdri", source=j)(Predictor(Y_pred), X, Y) == \
                pytest.approx(report[f"source{j}"]["SI-SDRi"])
            assert make_separation_scorer("gnsdr", source=j)(Predictor(Y_pred), X, Y) == \
                pytest.approx(report[f"source{j}"]["GNSDR"])
        assert make_separation_scorer("gsir")(Predictor(Y_pred), X, Y) == pytest.approx(
            np.mean([report[name]["GSIR"] for name in report]))

    def test_explicit_permutation_invariance(self, data):
        X, Y, Y_pred = data
        scorer = make_separation_scorer("si_sdri", permutation_invariant=True)
        assert scorer(Predictor([y[::-1] for y in Y_pred]), X, Y) == pytest.approx(
            mean_si_sdr_improvement(Y, Y_pred, X))

    def test_scorer_pickles(self, data):
        X, Y, Y_pred = data
        scorer = pickle.loads(pickle.dumps(make_separation_scorer("si_sdri", source=1)))
        assert repr(scorer) == \
            "make_separation_scorer('si_sdri', source=1, permutation_invariant=False)"
        assert np.isfinite(scorer(Predictor(Y_pred), X, Y))

    def test_unknown_name_raises(self):
        with pytest.raises(ValueError, match=r"scorer name 'nope' is not known; expected one "
                                             r"of 'si_sdri', 'gnsdr', 'gsir', 'gsar'"):
            get_scorer("nope")
        with pytest.raises(InvalidInputError, match="metric='sdr' must be one of"):
            make_separation_scorer("sdr")

    def test_bad_source_raises(self, data):
        X, Y, Y_pred = data
        with pytest.raises(InvalidInputError, match="source=-1 must be an integer >= 0"):
            make_separation_scorer(source=-1)
        with pytest.raises(InvalidInputError, match="source=2 is out of range: Y has 2 sources"):
            make_separation_scorer(source=2)(Predictor(Y_pred), X, Y)

    def test_wrong_prediction_structure_raises(self, data):
        X, Y, Y_pred = data
        with pytest.raises(InvalidInputError, match="Y_pred has 1 clips but X has 2"):
            si_sdri_scorer(Predictor(Y_pred[:1]), X, Y)

    def test_undefined_score_raises(self, rng):
        Y = [np.stack([rng.standard_normal(300), np.zeros(300)])]
        X = [Y[0].sum(axis=0)]
        scorer = make_separation_scorer("si_sdri", source=1)
        with pytest.raises(InvalidInputError,
                           match="si_sdri is undefined for source 1 in every clip"):
            scorer(Predictor([Y[0] + 0.1]), X, Y)
