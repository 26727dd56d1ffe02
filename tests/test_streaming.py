"""Tests for separating a song block by block into stem files (sksep.separation.separate_to_files)
and for the streaming stitching loop under it (sksep.inference.overlap_add_stream)."""

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sksep.audio_io
import sksep.separation
from sksep.inference import crossfade_window, overlap_add, overlap_add_stream, segment_starts
from sksep.audio_io import AudioReader, AudioWriter
from sksep.exceptions import DiskFullError, InvalidInputError, InvalidParameterTypeError
from sksep.separation import StemFile, block_layout, separate_file, separate_to_files

from fast_settings import make

MUSDB_MIXTURE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "MUSDB18-excerpts"
                 / "AM Contra - Heart Peripheral" / "mixture.flac")
RATE = 44100
SONG_SAMPLES = 20 * RATE + 7  # 20 s and an odd number of samples
#: 6 s blocks cross-faded over 1 s: four blocks over the 20 s song.
BLOCKS = dict(block_seconds=6.0, overlap_seconds=1.0)
#: Largest error of a 16-bit PCM sample: half of one step of 2 / 65536, and float rounding.
PCM_16_ERROR = 0.5 / 32768 + 1e-7


@pytest.fixture(scope="module")
def model(mir1k_train_small):
    """A tiny Chimera network (fast settings): untrained quality, masks that sum to one."""
    X, Y, _ = mir1k_train_small
    return make("ChimeraSeparator").fit(X[:3], Y[:3])


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """20 s of a real MUSDB mixture, stereo 44.1 kHz 16-bit FLAC, and its samples
    ``(2, n_samples)``."""
    audio, rate = sf.read(MUSDB_MIXTURE, frames=SONG_SAMPLES, dtype="float32")
    assert rate == RATE and audio.shape == (SONG_SAMPLES, 2)
    path = tmp_path_factory.mktemp("song") / "song.flac"
    sf.write(path, audio, rate, subtype="PCM_16")
    return path, sf.read(path, dtype="float32")[0].T


@pytest.fixture(scope="module")
def in_memory(model, song):
    """The stems of the in-memory path, ``(n_sources, 2, n_samples)``."""
    estimates, rate = separate_file(model, song[0], **BLOCKS)
    assert rate == RATE
    return estimates


def _targets(folder, suffix=".wav"):
    return {name: folder / f"{name}{suffix}" for name in ("source0", "source1")}


def _read(path):
    return sf.read(path, dtype="float32", always_2d=True)[0].T


def test_the_song_has_several_blocks(model, song):
    blocks, _ = block_layout(SONG_SAMPLES, block_samples=6 * RATE, overlap_samples=RATE,
                             alignment=256)
    assert len(blocks) == 4


class TestSameStemsAsInMemory:
    def test_float_stems_equal_separate_file(self, model, song, in_memory, tmp_path):
        written = separate_to_files(model, song[0], _targets(tmp_path), subtype="FLOAT",
                                    **BLOCKS)
        assert list(written) == ["source0", "source1"]
        for index, (name, stem) in enumerate(written.items()):
            assert stem == StemFile(tmp_path / f"{name}.wav",
                                    pytest.approx(np.abs(in_memory[index]).max()), "FLOAT")
            audio = _read(stem.path)
            assert audio.shape == (2, SONG_SAMPLES)
            # The same blocks through the same loop: the same numbers.
            np.testing.assert_allclose(audio, in_memory[index], rtol=0, atol=1e-6)

    def test_float_stems_sum_to_the_song(self, model, song, tmp_path):
        written = separate_to_files(model, song[0], _targets(tmp_path), subtype="FLOAT",
                                    **BLOCKS)
        total = sum(_read(stem.path) for stem in written.values())
        np.testing.assert_allclose(total, song[1], rtol=0, atol=1e-5)
        # Full band: the stems keep what lies above the model's 8 kHz.
        spectrum = np.abs(np.fft.rfft(_read(written["source1"].path)[0]))
        frequencies = np.fft.rfftfreq(SONG_SAMPLES, 1 / RATE)
        assert spectrum[frequencies > 8500].max() > 1e-2 * spectrum.max()

    def test_pcm_16_stems_within_quantisation(self, model, song, in_memory, tmp_path):
        written = separate_to_files(model, song[0], _targets(tmp_path, ".flac"), **BLOCKS)
        for index, stem in enumerate(written.values()):
            assert stem.subtype == sf.info(stem.path).subtype == "PCM_16"
            np.testing.assert_allclose(_read(stem.path), in_memory[index], rtol=0,
                                       atol=PCM_16_ERROR)

    def test_one_block_song(self, model, song, tmp_path):
        written = separate_to_files(model, song[0], {1: tmp_path / "b.wav"}, subtype="FLOAT")
        estimates, _ = separate_file(model, song[0])  # 20 s: one 60 s block
        np.testing.assert_allclose(_read(written[1].path), estimates[1], rtol=0, atol=1e-6)
        assert [p.name for p in tmp_path.iterdir()] == ["b.wav"]

    @pytest.mark.skipif("MP3" not in sf.available_formats(), reason="libsndfile without MP3")
    def test_mp3_song(self, model, song, tmp_path):
        # Read straight on, never seeking (libsndfile's MP3 seek is not sample-exact).
        path = tmp_path / "song.mp3"
        sf.write(path, song[1][:, :5 * RATE].T, RATE)
        options = dict(block_seconds=2.0, overlap_seconds=0.5)
        written = separate_to_files(model, path, {0: tmp_path / "a.wav"}, subtype="FLOAT",
                                    **options)
        estimates, _ = separate_file(model, path, **options)
        np.testing.assert_allclose(_read(written[0].path), estimates[0], rtol=0, atol=1e-6)

    def test_mono_song_gives_mono_stems(self, model, song, tmp_path):
        path = tmp_path / "mono.wav"
        sf.write(path, song[1][0, :5 * RATE], RATE, subtype="FLOAT")
        written = separate_to_files(model, path, {"source0": tmp_path / "a.wav"},
                                    subtype="FLOAT", block_seconds=2.0, overlap_seconds=0.5)
        estimates, _ = separate_file(model, path, block_seconds=2.0, overlap_seconds=0.5)
        assert sf.info(written["source0"].path).channels == 1
        np.testing.assert_allclose(_read(written["source0"].path), estimates[0], rtol=0,
                                   atol=1e-6)


class TestWritesAsItGoes:
    def test_each_stretch_is_written_before_the_next_block_is_read(self, model, song,
                                                                  tmp_path, monkeypatch):
        events = []
        read, write = AudioReader.read, AudioWriter.write

        def logged_read(self, start, stop):
            events.append(("read", start, stop))
            return read(self, start, stop)

        def logged_write(self, audio):
            write(self, audio)
            events.append(("wrote", self.path.name, self.n_samples))

        monkeypatch.setattr(AudioReader, "read", logged_read)
        monkeypatch.setattr(AudioWriter, "write", logged_write)
        separate_to_files(model, song[0], _targets(tmp_path), **BLOCKS)

        blocks, _ = block_layout(SONG_SAMPLES, block_samples=6 * RATE, overlap_samples=RATE,
                                 alignment=256)
        reads = [i for i, event in enumerate(events) if event[0] == "read"]
        assert [events[i][1:] for i in reads] == blocks
        for (start, _), i in zip(blocks[1:], reads[1:]):
            # Before a block is read, both stems are written up to where it starts.
            written = {event[1]: event[2] for event in events[:i] if event[0] == "wrote"}
            assert written == {"source0.wav": start, "source1.wav": start}

    def test_reader_holds_at_most_two_blocks(self, song):
        blocks, _ = block_layout(SONG_SAMPLES, block_samples=6 * RATE, overlap_samples=RATE,
                                 alignment=256)
        with AudioReader(song[0]) as reader:
            for start, stop in blocks:
                window = reader.read(start, stop)
                assert window.shape == (2, stop - start)
                assert reader._held.shape[1] <= 2 * 6 * RATE
                np.testing.assert_array_equal(window, song[1][:, start:stop])


class TestNothingLeftBehind:
    @pytest.mark.parametrize("error", [RuntimeError("network failed"), KeyboardInterrupt()])
    def test_error_in_the_third_block(self, model, song, tmp_path, monkeypatch, error):
        separate_block = sksep.separation.separate_full_band
        calls = []

        def failing(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise error
            return separate_block(*args, **kwargs)

        monkeypatch.setattr(sksep.separation, "separate_full_band", failing)
        out = tmp_path / "out"
        with pytest.raises(type(error)):
            separate_to_files(model, song[0], _targets(out), **BLOCKS)
        assert len(calls) == 3  # two blocks were written to the temporary files
        assert not out.exists()  # nor the folder made for them

    def test_failed_overwrite_keeps_old_files(self, model, song, tmp_path, monkeypatch):
        targets = _targets(tmp_path)
        for path in targets.values():
            path.write_bytes(b"old stem")
        monkeypatch.setattr(sksep.separation, "separate_full_band",
                            lambda *args, **kwargs: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            separate_to_files(model, song[0], targets, overwrite=True, **BLOCKS)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["source0.wav", "source1.wav"]
        assert all(path.read_bytes() == b"old stem" for path in targets.values())

    def test_refuses_to_overwrite_before_separating(self, model, song, tmp_path, monkeypatch):
        targets = _targets(tmp_path)
        targets["source1"].write_bytes(b"old stem")
        monkeypatch.setattr(sksep.separation, "separate_full_band",
                            lambda *args, **kwargs: pytest.fail("separated anyway"))
        with pytest.raises(FileExistsError,
                           match="source1.wav' already exists; pass overwrite=True to replace"):
            separate_to_files(model, song[0], targets, **BLOCKS)
        assert [p.name for p in tmp_path.iterdir()] == ["source1.wav"]

    def test_overwrite_replaces(self, model, song, tmp_path, in_memory):
        targets = _targets(tmp_path)
        targets["source0"].write_bytes(b"old stem")
        separate_to_files(model, song[0], targets, overwrite=True, subtype="FLOAT", **BLOCKS)
        np.testing.assert_allclose(_read(targets["source0"]), in_memory[0], rtol=0, atol=1e-6)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["source0.wav", "source1.wav"]

    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
    def test_full_disk(self, model, song, tmp_path, monkeypatch):
        # The second stem's temporary file is a link to /dev/full: every write fails
        # with ENOSPC, as on a full disk.
        reserve = sksep.audio_io.reserve_temporary

        def on_a_full_disk(path):
            temporary = reserve(path)
            if path.name == "source1.wav":
                temporary.unlink()
                temporary.symlink_to("/dev/full")
            return temporary

        monkeypatch.setattr(sksep.audio_io, "reserve_temporary", on_a_full_disk)
        with pytest.raises(DiskFullError, match=r"^the disk is full: '.*source1.wav' was not "
                                                r"written \(no space left in '"):
            separate_to_files(model, song[0], _targets(tmp_path), **BLOCKS)
        assert list(tmp_path.iterdir()) == []

    def test_full_disk_reported_by_the_os(self, model, song, tmp_path, monkeypatch):
        def full(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(sf.SoundFile, "write", full)
        with pytest.raises(DiskFullError, match="source0.wav' was not written"):
            separate_to_files(model, song[0], _targets(tmp_path), **BLOCKS)
        assert list(tmp_path.iterdir()) == []


class TestOptions:
    def test_stems_by_name_and_index(self, model, song, tmp_path, in_memory):
        written = separate_to_files(model, song[0], {"vocals": tmp_path / "v" / "vocals.wav"},
                                    source_names=("accompaniment", "vocals"), subtype="FLOAT",
                                    **BLOCKS)
        assert [p.name for p in tmp_path.iterdir()] == ["v"]  # the folder is created
        np.testing.assert_allclose(_read(written["vocals"].path), in_memory[1], rtol=0,
                                   atol=1e-6)

    def test_subtype_chosen_by_peak(self, model, song, tmp_path, in_memory):
        peaks = []

        def by_peak(peak):
            peaks.append(peak)
            return "FLOAT" if len(peaks) == 1 else "PCM_24"

        written = separate_to_files(model, song[0], _targets(tmp_path), subtype=by_peak,
                                    **BLOCKS)
        # Chosen once each stem is complete, in the order of stem_paths.
        np.testing.assert_allclose(peaks, np.abs(in_memory).max(axis=(1, 2)), rtol=1e-6)
        assert [stem.subtype for stem in written.values()] == ["FLOAT", "PCM_24"]
        assert [sf.info(stem.path).subtype for stem in written.values()] == ["FLOAT", "PCM_24"]
        np.testing.assert_allclose(_read(written["source0"].path), in_memory[0], rtol=0,
                                   atol=1e-6)
        np.testing.assert_allclose(_read(written["source1"].path), in_memory[1], rtol=0,
                                   atol=2 ** -23 + 1e-7)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["source0.wav", "source1.wav"]

    def test_other_formats(self, model, song, tmp_path, in_memory):
        targets = {0: tmp_path / "a.ogg", 1: tmp_path / "b.flac"}
        written = separate_to_files(model, song[0], targets, subtype="PCM_24", **BLOCKS)
        assert [sf.info(path).subtype for path in targets.values()] == ["VORBIS", "PCM_24"]
        assert [stem.subtype for stem in written.values()] == ["VORBIS", "PCM_24"]
        assert sf.info(targets[0]).frames == SONG_SAMPLES
        np.testing.assert_allclose(_read(targets[1]), in_memory[1], rtol=0,
                                   atol=2 ** -23 + 1e-7)

    def test_progress_bar(self, model, song, tmp_path, in_memory):
        written = separate_to_files(model, song[0], {1: tmp_path / "b.wav"}, subtype="FLOAT",
                                    progress=True, **BLOCKS)
        np.testing.assert_allclose(_read(written[1].path), in_memory[1], rtol=0, atol=1e-6)

    @pytest.mark.parametrize("kwargs, error, message", [
        (dict(stem_paths=["a.wav"]), InvalidParameterTypeError,
         r"stem_paths=\['a.wav'\] must be a non-empty mapping of source \(name or index\) to "
         r"output file path"),
        (dict(stem_paths={}), InvalidParameterTypeError, "stem_paths={} must be a non-empty"),
        (dict(stem_paths={"drums": "d.wav"}), InvalidInputError,
         r"stem_paths key 'drums' is not a source of the model; expected one of the model's "
         r"sources 'source0', 'source1' or a source index from 0 to 1"),
        (dict(stem_paths={2: "c.wav"}), InvalidInputError, "stem_paths key 2 is not a source"),
        (dict(stem_paths={0: 3}), InvalidParameterTypeError,
         "stem_paths\\[0\\]=3 must be a str or os.PathLike file path"),
        (dict(stem_paths={0: "same.wav", 1: "same.wav"}), InvalidInputError,
         r"stem_paths\[1\] and stem_paths\[0\] are the same file 'same.wav'"),
        (dict(stem_paths={0: "a.wav", "source0": "b.wav"}), InvalidInputError,
         "stem_paths names source 0 twice"),
        (dict(source_names=("a", "b", "c")), InvalidInputError,
         "names 3 sources; the model separates 2"),
        (dict(source_names="ab"), InvalidParameterTypeError,
         "source_names='ab' must be a sequence of str"),
        (dict(block_seconds=0), InvalidInputError, "block_seconds=0 must be > 0.0"),
        (dict(block_seconds=0.1, overlap_seconds=0.0), InvalidInputError,
         "block_seconds=0.1 .* leaves blocks too short"),
        (dict(overlap_seconds=-1), InvalidInputError, "overlap_seconds=-1 must be >= 0.0"),
        (dict(high_band="middle"), InvalidInputError,
         "high_band='middle' must be one of 'top', 'octave'"),
        (dict(wiener_iterations=11), InvalidInputError,
         "wiener_iterations=11 must be an integer <= 10"),
        (dict(progress="yes"), InvalidInputError, "progress='yes' must be one of True, False"),
        (dict(overwrite="yes"), InvalidInputError, "overwrite='yes' must be one of True, False"),
        (dict(subtype=16), InvalidParameterTypeError,
         r"subtype=16 must be a str, None or a callable subtype\(peak\)"),
        (dict(subtype="FLOAT", stem_paths={0: "a.flac"}), InvalidInputError,
         "subtype='FLOAT' cannot be stored in a FLAC file"),
        (dict(stem_paths={0: "a.m4a"}), InvalidInputError,
         r"has extension '.m4a'; expected one of .wav, .flac, .ogg, .mp3"),
        (dict(subtype=lambda peak: "FLOAT", stem_paths={0: "a.flac"}), InvalidInputError,
         "subtype='FLOAT' cannot be stored in a FLAC file"),
    ])
    def test_bad_arguments(self, model, song, tmp_path, monkeypatch, kwargs, error, message):
        monkeypatch.chdir(tmp_path)
        kwargs = {"stem_paths": {0: "a.wav"}, **kwargs}
        with pytest.raises(error, match=message):
            separate_to_files(model, song[0], **kwargs)
        assert list(tmp_path.iterdir()) == []

    def test_bad_songs(self, model, tmp_path):
        with pytest.raises(FileNotFoundError, match="nope.wav' does not exist"):
            separate_to_files(model, tmp_path / "nope.wav", {0: tmp_path / "a.wav"})
        short = tmp_path / "short.wav"
        sf.write(short, np.zeros(100, dtype=np.float32), 16000)
        with pytest.raises(InvalidInputError, match="short.wav' holds 100 samples"):
            separate_to_files(model, short, {0: tmp_path / "a.wav"})
        text = tmp_path / "notes.wav"
        text.write_text("not audio\n" * 20)
        with pytest.raises(InvalidInputError, match="notes.wav' is not a readable audio file"):
            separate_to_files(model, text, {0: tmp_path / "a.wav"})
        with pytest.raises(InvalidInputError, match="is not fitted"):
            separate_to_files(make("ChimeraSeparator"), short, {0: tmp_path / "a.wav"})
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.wav", "short.wav"]

    def test_nan_in_the_song(self, model, song, tmp_path):
        audio = song[1][:, :8 * RATE].copy()
        audio[1, 7 * RATE] = np.nan  # in the second block
        path = tmp_path / "nan.wav"
        sf.write(path, audio.T, RATE, subtype="FLOAT")
        out = tmp_path / "out"
        with pytest.raises(InvalidInputError, match="nan.wav' contains NaN or infinite samples"):
            separate_to_files(model, path, _targets(out), **BLOCKS)
        assert not out.exists()  # nor the folder made for the stems


def _weights(segments, window):
    return lambda index: window(segments[index][1] - segments[index][0])


class TestOverlapAddStream:
    """The streaming loop hands back, stretch by stretch, exactly overlap_add's result."""

    @pytest.mark.parametrize("n_frames, length, hop, weighted, normalize, batch_size", [
        (250, 100, None, False, True, 1),      # tiling segments, the last one at the end
        (300, 128, 64, True, True, 3),         # cross-faded patches, normalised
        (1000, 128, 96, True, False, 2),       # weights as they are
        (64, 100, None, False, True, 1),       # one segment
    ])
    def test_concatenated_stretches_are_overlap_add(self, n_frames, length, hop, weighted,
                                                    normalize, batch_size):
        signal = np.random.default_rng(0).normal(size=(n_frames, 3)).astype(np.float32)
        segments = [(start, min(start + length, n_frames))
                    for start in segment_starts(n_frames, length, hop)]
        options = dict(output_axis=0, normalize=normalize, batch_size=batch_size,
                       weights=_weights(segments, crossfade_window) if weighted else None)

        def apply(batch):  # depends on the place in the segment: overlaps differ
            return np.tanh(batch) * np.arange(batch.shape[1])[None, :, None]

        expected = overlap_add(apply, signal, segments, **options)
        stretches = list(overlap_add_stream(apply, lambda start, stop: signal[start:stop],
                                            n_frames, segments, **options))
        starts = [start for start, _, _ in stretches]
        assert starts == [0] + [stop for _, stop, _ in stretches[:-1]]
        assert stretches[-1][1] == n_frames
        joined = np.concatenate([piece for _, _, piece in stretches])
        assert joined.dtype == expected.dtype
        np.testing.assert_array_equal(joined, expected)

    def test_stretch_yielded_as_soon_as_final(self):
        signal = np.arange(12.0)
        reads = []

        def read(start, stop):
            reads.append(start)
            return signal[start:stop]

        stream = overlap_add_stream(np.square, read, 12, [(0, 6), (4, 10), (8, 12)],
                                    weights=lambda index: np.full(4 if index == 2 else 6, 0.5),
                                    normalize=True)
        assert next(stream)[:2] == (0, 4) and reads == [0]  # before the next segment is read
        assert next(stream)[:2] == (4, 8) and reads == [0, 4]
        start, stop, last = next(stream)
        assert (start, stop) == (8, 12)
        np.testing.assert_array_equal(last, signal[8:] ** 2)

    def test_reorder_and_tuples(self):
        signal = np.linspace(-1, 1, 24)
        flips = iter([False, True, False, True])

        def swapped_every_other(batch):
            pieces = np.stack([0.25 * batch, 0.75 * batch], axis=1)
            return (pieces[:, ::-1] if next(flips) else pieces), batch * 2

        def reorder(previous, current):
            order = [0, 1] if np.allclose(previous[0][0], current[0][0, :previous[0].shape[-1]]
                                          ) else [1, 0]
            return current[0][order], current[1]

        segments = [(0, 8), (6, 14), (12, 20), (18, 24)]
        stretches = list(overlap_add_stream(swapped_every_other, lambda a, b: signal[a:b], 24,
                                            segments, output_axis=-1, reorder=reorder))
        sources = np.concatenate([piece[0] for _, _, piece in stretches], axis=-1)
        np.testing.assert_allclose(sources, np.stack([0.25 * signal, 0.75 * signal]))
