"""Full-band separation: a model's masks mapped onto the song's own STFT (issue 17)."""

from pathlib import Path

import librosa
import numpy as np
import pytest

import sksep
from sksep import FeatureGrid
from sksep._fullband import (frequency_projection, masks_on_song_grid, multichannel_wiener,
                             separate_full_band, song_grid, time_interpolation)
from sksep.audio_io import load_audio
from sksep.exceptions import InvalidInputError

MUSDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "MUSDB18-excerpts"
RATES = [16000, 22050, 44100, 48000]


@pytest.fixture(scope="module")
def model():
    return sksep.load("chimera-mir1k")


@pytest.fixture(scope="module")
def song():
    """Three seconds of a real 44.1 kHz stereo MUSDB song."""
    folder = sorted(p for p in MUSDB.iterdir() if p.is_dir())[0]
    audio, rate = load_audio(folder / "mixture.flac", mono=False)
    assert rate == 44100 and audio.shape[0] == 2
    return audio[:, 10 * rate:13 * rate], rate


def _random_masks(n_sources, n_frames, n_bins, seed=0):
    masks = np.random.default_rng(seed).random((n_sources, n_frames, n_bins)).astype(np.float32)
    return masks / masks.sum(axis=0)


class TestMapping:
    @pytest.mark.parametrize("rate", RATES)
    @pytest.mark.parametrize("n_mels", [150, None])
    def test_masks_stay_in_range_and_sum_to_one(self, rate, n_mels):
        grid = FeatureGrid(n_mels=n_mels)
        target = song_grid(grid, rate)
        masks = _random_masks(3, 126, grid.n_bins)
        out = masks_on_song_grid(masks, grid, target, 1 + rate // target.hop_length)
        assert out.shape == (3, target.n_freq, 1 + rate // target.hop_length)
        assert out.min() >= 0 and out.max() <= 1 + 1e-6
        np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)

    def test_same_rate_gives_the_models_own_projection(self):
        grid = FeatureGrid()
        np.testing.assert_allclose(frequency_projection(grid, song_grid(grid, 16000)),
                                   grid.projection(), atol=1e-6)

    @pytest.mark.parametrize("rule", ["top", "octave"])
    def test_bins_above_the_models_nyquist(self, rule):
        grid = FeatureGrid()
        target = song_grid(grid, 44100)
        projection = frequency_projection(grid, target, high_band=rule)
        freqs = librosa.fft_frequencies(sr=44100, n_fft=target.n_fft)
        high = projection[freqs > 8000]
        centres = grid.bin_frequencies()
        expected = np.zeros(150)
        if rule == "top":
            expected[-1] = 1.0
        else:
            expected[centres >= 4000] = 1.0 / np.sum(centres >= 4000)
        np.testing.assert_allclose(high, np.broadcast_to(expected, high.shape), atol=1e-6)

    def test_linear_model_grid_is_interpolated(self):
        grid = FeatureGrid(n_mels=None)
        # 32 kHz, 1024-point STFT: the model's bins are the song's first 257
        same = frequency_projection(grid, song_grid(grid, 32000))
        np.testing.assert_allclose(same[:257], np.eye(257), atol=1e-6)
        # 48 kHz: a mask rising linearly with frequency is read off at each bin's frequency
        target = song_grid(grid, 48000)
        ramp = frequency_projection(grid, target) @ np.linspace(0, 1, 257)
        freqs = librosa.fft_frequencies(sr=48000, n_fft=target.n_fft)
        np.testing.assert_allclose(ramp, np.minimum(freqs / 8000, 1.0), atol=1e-5)

    def test_time_interpolation(self):
        low, high, fraction = time_interpolation(3, 0.008, 5, 0.004)
        np.testing.assert_array_equal(low, [0, 0, 1, 1, 2])
        np.testing.assert_array_equal(high, [1, 1, 2, 2, 2])
        np.testing.assert_allclose(fraction, [0, 0.5, 0, 0.5, 0])

    def test_bad_masks_and_rule(self):
        grid = FeatureGrid()
        target = song_grid(grid, 44100)
        with pytest.raises(InvalidInputError, match=r"masks must have shape \(n_sources, "
                                                    r"n_frames, 150\), got \(2, 10, 40\)"):
            masks_on_song_grid(np.zeros((2, 10, 40)), grid, target, 5)
        with pytest.raises(InvalidInputError, match="high_band='left' must be one of"):
            frequency_projection(grid, target, high_band="left")


class TestSeparateFullBand:
    def test_stems_keep_rate_length_channels_and_sum_to_the_song(self, model, song):
        audio, rate = song
        stems = separate_full_band(model, model.grid_, audio, rate)
        assert stems.shape == (2,) + audio.shape and stems.dtype == np.float32
        np.testing.assert_allclose(stems.sum(axis=0), audio, atol=1e-5)

    def test_stems_keep_the_band_above_8_khz(self, model, song):
        audio, rate = song
        stems = separate_full_band(model, model.grid_, audio, rate)
        freqs = librosa.fft_frequencies(sr=rate, n_fft=2048)

        def high_energy(x):
            return float((np.abs(librosa.stft(x, n_fft=2048))[..., freqs > 8000, :] ** 2).sum())

        assert high_energy(audio) > 0
        assert high_energy(stems[1]) > 0.05 * high_energy(audio)  # accompaniment: cymbals
        assert high_energy(stems.sum(0)) == pytest.approx(high_energy(audio), rel=1e-3)

    def test_a_source_panned_left_stays_in_the_left_channel(self, model, mir1k_test_clips):
        X, Y = mir1k_test_clips
        vocals, accompaniment = (librosa.resample(s[:48000], orig_sr=16000, target_sr=44100)
                                 for s in Y[1])
        stereo = np.stack([vocals + accompaniment, accompaniment])  # vocals hard left
        stems = separate_full_band(model, model.grid_, stereo, 44100)
        left, right = (float(np.sum(stems[0, c] ** 2)) for c in (0, 1))
        assert left > 4 * right, (left, right)


class TestWienerPostFilter:
    def test_stems_still_sum_to_the_song(self, model, song):
        audio, rate = song
        stems = separate_full_band(model, model.grid_, audio, rate, wiener_iterations=1)
        assert stems.shape == (2, *audio.shape)
        np.testing.assert_allclose(stems.sum(axis=0), audio, atol=2e-3)
        plain = separate_full_band(model, model.grid_, audio, rate)
        assert np.abs(stems - plain).max() > 1e-3  # the filter changed the stems

    def test_a_source_in_one_channel_stays_there(self):
        # Source 0 only in the left channel, source 1 in both: the spatial covariance
        # the EM estimates keeps source 0 out of the right channel.
        rng = np.random.default_rng(0)
        left = rng.standard_normal((1, 2, 64, 40)) + 1j * rng.standard_normal((1, 2, 64, 40))
        left[:, :, 1] = 0
        both = rng.standard_normal((1, 2, 64, 40)) + 1j * rng.standard_normal((1, 2, 64, 40))
        sources = np.concatenate([left, both]).transpose(0, 2, 1, 3)  # (S, C, F, T)
        spectra = sources.sum(axis=0)
        masked = 0.5 * spectra[None].repeat(2, axis=0)  # uninformative start
        masked[0] = np.abs(sources[0]) / (np.abs(sources[0]) + np.abs(sources[1]) + 1e-9) * spectra
        masked[1] = spectra - masked[0]
        refined = multichannel_wiener(masked, spectra, 3)
        assert refined.shape == masked.shape
        right_energy = np.mean(np.abs(refined[0, 1]) ** 2) / np.mean(np.abs(spectra[1]) ** 2)
        assert right_energy < 0.05

    @pytest.mark.parametrize("iterations, match", [
        (-1, "wiener_iterations=-1 must be an integer >= 0"),
        (11, "wiener_iterations=11 must be an integer <= 10"),
        (1.5, "wiener_iterations=1.5 must be an integer"),
    ])
    def test_bad_iterations(self, model, song, iterations, match):
        audio, rate = song
        with pytest.raises((InvalidInputError, TypeError), match=match):
            separate_full_band(model, model.grid_, audio, rate, wiener_iterations=iterations)


def test_separate_audio_refuses_bad_wiener_iterations(model, song):
    from sksep.separation import separate_audio
    audio, rate = song
    with pytest.raises(InvalidInputError, match="wiener_iterations=11 must be an integer <= 10"):
        separate_audio(model, audio, rate, wiener_iterations=11)
