"""Tests for sksep.separation: block-wise separation of long clips and of audio files."""

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sksep import ChimeraSeparator, MelFeatures
from sksep.exceptions import InvalidInputError
from sksep.separation import (_block_weights, block_layout, separate_audio, separate_file,
                              separate_long, separate_to_files)

RATE = 16000
MUSDB_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "MUSDB18-excerpts"


@pytest.fixture(scope="module")
def model(mir1k_train_small):
    """A tiny Chimera network: untrained quality, but real masks that sum to one."""
    X, Y, _ = mir1k_train_small
    return ChimeraSeparator(hidden_size=8, num_layers=1, embedding_dim=8, max_epochs=1,
                            random_state=0).fit(X[:3], Y[:3])


@pytest.fixture(scope="module")
def long_clip(mir1k_root):
    from sksep.datasets import load_mir1k
    data = load_mir1k(mir1k_root, "train", max_clips=1)
    return data.X[0][:7 * RATE + 123]  # 7 s and an odd number of samples


class TestBlockLayout:
    @pytest.mark.parametrize("n_samples", [32001, 44800, 99999, 112123, 300007])
    @pytest.mark.parametrize("block, overlap, alignment", [
        (32000, 8000, 12800), (32000, 8000, 128), (32000, 0, 128), (16000, 8000, 128)])
    def test_blocks_cover_and_weights_sum_to_one(self, n_samples, block, overlap, alignment):
        blocks, fades = block_layout(n_samples, block_samples=block, overlap_samples=overlap,
                                     alignment=alignment)
        assert blocks[0][0] == 0 and blocks[-1][1] == n_samples
        assert len(fades) == len(blocks) - 1
        assert all(start % alignment == 0 for start, _ in blocks)
        assert all(stop - start <= block + alignment for start, stop in blocks)
        for (start, stop), (next_start, _), (fade_start, fade_stop) in zip(
                blocks, blocks[1:], fades):
            assert stop - next_start >= overlap  # consecutive blocks overlap enough
            assert next_start <= fade_start <= fade_stop <= stop  # fade inside the overlap
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(fades))  # fades never overlap
        total = np.zeros(n_samples)
        for index, (start, stop) in enumerate(blocks):
            weights = _block_weights(index, blocks, fades)
            assert weights.min() >= 0 and weights.max() <= 1
            total[start:stop] += weights
        np.testing.assert_allclose(total, 1.0, atol=1e-12)

    def test_short_clip_is_one_block(self):
        assert block_layout(1000, block_samples=1000, overlap_samples=100,
                            alignment=128) == ([(0, 1000)], [])


class TestSeparateLong:
    def test_short_clip_equals_predict(self, model, long_clip):
        clip = long_clip[:RATE + 17]
        np.testing.assert_array_equal(separate_long(model, clip, block_seconds=2.0),
                                      model.predict([clip])[0])

    @pytest.mark.parametrize("n_samples", [RATE + 1, 3 * RATE + 77, 5 * RATE + 1001])
    def test_output_as_long_as_input(self, model, long_clip, n_samples):
        # 1 s blocks with a 0.25 s overlap are shorter than one 0.8 s network segment
        # plus the overlap, so this also covers starts aligned to the STFT hop only.
        estimates = separate_long(model, long_clip[:n_samples], block_seconds=1.0,
                                  overlap_seconds=0.25)
        assert estimates.shape == (2, n_samples) and estimates.dtype == np.float32

    @pytest.mark.parametrize("normalize_level", [False, True])
    def test_long_clip_matches_whole_clip_prediction(self, mir1k_train_small, long_clip,
                                                     normalize_level):
        X, Y, _ = mir1k_train_small
        model = ChimeraSeparator(hidden_size=8, num_layers=1, embedding_dim=8, max_epochs=1,
                                 random_state=0,
                                 features=MelFeatures(normalize_level=normalize_level))
        model.fit(X[:3], Y[:3])
        whole = model.predict([long_clip])[0]
        estimates = separate_long(model, long_clip, block_seconds=2.0, overlap_seconds=0.5)
        assert estimates.shape == whole.shape
        blocks, fades = block_layout(len(long_clip), block_samples=2 * RATE,
                                     overlap_samples=RATE // 2,
                                     alignment=model.grid_.hop_length * model.inference_frames_)
        assert len(blocks) > 3
        in_fade = np.zeros(len(long_clip), dtype=bool)
        for start, stop in fades:
            in_fade[start:stop] = True
        difference = np.abs(estimates - whole).max(axis=0)
        if normalize_level:
            # Each block is brought to the reference level on its own, as a clip of its
            # own would be: close to the whole clip's prediction, not equal.
            assert difference[~in_fade].max() < 0.02 * np.abs(whole).max()
        else:
            # Away from the cross-fades each sample comes from one block whose STFT frames
            # and network segments are those of the whole clip: the same numbers.
            assert difference[~in_fade].max() < 1e-5
        # In the fades one block is near its edge (padding, less context): close, not equal.
        assert difference[in_fade].max() < 0.1 * np.abs(whole).max()

    def test_estimates_sum_to_mixture(self, model, long_clip):
        estimates = separate_long(model, long_clip, block_seconds=2.0, overlap_seconds=0.5)
        np.testing.assert_allclose(estimates.sum(axis=0), long_clip, atol=2e-6)

    def test_progress_bar_without_tqdm(self, model, long_clip, monkeypatch):
        expected = separate_long(model, long_clip, block_seconds=3.0, overlap_seconds=0.5,
                                 progress=True)
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import now raises ImportError
        np.testing.assert_array_equal(
            separate_long(model, long_clip, block_seconds=3.0, overlap_seconds=0.5,
                          progress=True), expected)

    def test_overlap_is_at_most_half_a_block(self, model, long_clip):
        np.testing.assert_array_equal(
            separate_long(model, long_clip, block_seconds=2.0, overlap_seconds=1.5),
            separate_long(model, long_clip, block_seconds=2.0, overlap_seconds=1.0))

    def test_bad_arguments(self, model, long_clip):
        with pytest.raises(InvalidInputError, match="block_seconds=0.1 .* too short"):
            separate_long(model, long_clip, block_seconds=0.1, overlap_seconds=0.0)
        with pytest.raises(InvalidInputError, match="audio must be a 1-D"):
            separate_long(model, np.stack([long_clip, long_clip]))
        with pytest.raises(InvalidInputError, match="block_seconds=0"):
            separate_long(model, long_clip, block_seconds=0)
        with pytest.raises(InvalidInputError, match="is not fitted"):
            separate_long(ChimeraSeparator(), long_clip)


class _ShuffledOrderSeparator:
    """Stub of an unnamed separator: 30 % / 70 % of each block, in a random order."""

    permutation_invariant_ = True

    def __init__(self):
        from sksep import FeatureGrid
        self.grid_ = FeatureGrid()
        self.rng = np.random.default_rng(0)
        self.orders = []

    def predict(self, X):
        order = self.rng.permutation(2)
        self.orders.append(order)
        return [np.stack([0.3 * X[0], 0.7 * X[0]])[order]]


def test_unnamed_sources_keep_one_order_across_blocks(long_clip):
    separator = _ShuffledOrderSeparator()
    estimates = separate_long(separator, long_clip, block_seconds=1.0, overlap_seconds=0.25)
    assert len({tuple(order) for order in separator.orders}) == 2  # the stub did shuffle
    loud = np.abs(long_clip) > 1e-3
    ratios = estimates[:, loud] / long_clip[loud]
    assert np.allclose(ratios, ratios[:, :1], atol=1e-5)  # one source stays one source


class TestSeparateFile:
    def test_stereo_44k_file(self, model, tmp_path):
        mixture = next(MUSDB_ROOT.glob("*/mixture.flac"))
        audio, rate = sf.read(mixture, frames=3 * 44100 + 5, dtype="float32")
        path = tmp_path / "song.flac"
        sf.write(path, audio, rate)
        estimates, file_rate = separate_file(model, path, source_names=("vocals", "acc"),
                                             block_seconds=2.0)
        assert file_rate == 44100
        assert estimates.shape == (2, 2, 3 * 44100 + 5) and estimates.dtype == np.float32
        # Full band: the stems keep what lies above the model's 8 kHz, and with masks
        # that sum to one they add up to the song, channel by channel, at every frequency.
        spectrum = np.abs(np.fft.rfft(estimates[1, 0]))
        frequencies = np.fft.rfftfreq(estimates.shape[-1], 1 / 44100)
        assert spectrum[frequencies > 8500].max() > 1e-2 * spectrum.max()
        np.testing.assert_allclose(estimates.sum(axis=0), audio.T, atol=1e-5)

    def test_mono_file_and_bad_names(self, model, tmp_path, long_clip):
        path = tmp_path / "mono.wav"
        sf.write(path, long_clip[:RATE], RATE)
        estimates, rate = separate_file(model, path)
        assert rate == RATE and estimates.shape == (2, 1, RATE)
        with pytest.raises(InvalidInputError, match="names 3 sources; the model separates 2"):
            separate_file(model, path, source_names=("a", "b", "c"))

    def test_too_short_file(self, model, tmp_path):
        path = tmp_path / "short.wav"
        sf.write(path, np.zeros(100, dtype=np.float32), RATE)
        with pytest.raises(InvalidInputError, match="short.wav' holds 100 samples"):
            separate_file(model, path)


class TestBlocksInThreads:
    """``n_jobs``: several blocks of one song at once, in threads of one torch thread."""

    @pytest.fixture(scope="class")
    @classmethod
    def stereo_song(cls):
        rng = np.random.default_rng(3)
        return rng.uniform(-0.2, 0.2, (2, 9 * 44100 + 7)).astype(np.float32)

    def test_same_stems_as_one_block_at_a_time(self, model, stereo_song):
        import torch
        threads = torch.get_num_threads()
        one = separate_audio(model, stereo_song, 44100, block_seconds=2.0, overlap_seconds=0.5)
        two = separate_audio(model, stereo_song, 44100, block_seconds=2.0, overlap_seconds=0.5,
                             n_jobs=2)
        every = separate_audio(model, stereo_song, 44100, block_seconds=2.0,
                               overlap_seconds=0.5, n_jobs=-1)
        np.testing.assert_allclose(two, one, atol=1e-5)
        np.testing.assert_allclose(every, one, atol=1e-5)
        assert torch.get_num_threads() == threads  # restored

    def test_blocks_really_run_in_other_threads(self, model, stereo_song, monkeypatch):
        import threading

        from sksep import separation
        seen = set()
        real = separation.separate_full_band

        def spy(*args, **kwargs):
            seen.add(threading.current_thread().name)
            return real(*args, **kwargs)

        monkeypatch.setattr(separation, "separate_full_band", spy)
        separate_audio(model, stereo_song, 44100, block_seconds=2.0, overlap_seconds=0.5,
                       n_jobs=3)
        assert len(seen) > 1 and all(name.startswith("sksep-block") for name in seen)

    def test_prediction_leaves_the_rnn_weights_alone(self, model, stereo_song):
        # Moving the network, even to where it is, rebuilds each LSTM's flat weights; a
        # block's forward pass in another thread then read them half rebuilt (zip error).
        import torch
        lstms = [m for m in model.net_.module_.modules() if isinstance(m, torch.nn.RNNBase)]
        refs = [lstm._flat_weight_refs for lstm in lstms]
        separate_audio(model, stereo_song, 44100, block_seconds=2.0, n_jobs=2)
        assert lstms and all(lstm._flat_weight_refs is ref for lstm, ref in zip(lstms, refs))

    def test_files_are_the_same(self, model, stereo_song, tmp_path):
        path = tmp_path / "song.wav"
        sf.write(path, stereo_song.T, 44100, subtype="FLOAT")
        stems = {}
        for n_jobs in (None, 2):
            targets = {0: tmp_path / f"{n_jobs}" / "a.wav", 1: tmp_path / f"{n_jobs}" / "b.wav"}
            separate_to_files(model, path, targets, block_seconds=2.0, subtype="FLOAT",
                              n_jobs=n_jobs)
            stems[n_jobs] = [sf.read(target, dtype="float32")[0] for target in targets.values()]
        np.testing.assert_allclose(stems[2], stems[None], atol=1e-5)

    @pytest.mark.parametrize("value, error", [(0, "n_jobs=0"), (1.5, "n_jobs"),
                                              ("2", "n_jobs")])
    def test_bad_n_jobs(self, model, stereo_song, value, error):
        with pytest.raises((InvalidInputError, TypeError), match=error):
            separate_audio(model, stereo_song, 44100, n_jobs=value)
