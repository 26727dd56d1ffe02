"""Tests for sksep.datasets on the real data in ../shared/data and on tiny synthetic folders
(MUSDB18's ``.stem.mp4`` files are written here from synthetic stems with stempeg)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.model_selection import GroupKFold

from sksep.datasets import (load_mir1k, load_musdb, load_stems_folder, make_remix,
                            remove_silence, stems_folder_layout)
from sksep.exceptions import InvalidInputError, InvalidParameterTypeError, MissingProgramError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
MIR1K = SHARED / "MIR-1K"
MUSDB = SHARED / "MUSDB18-excerpts"
MUSDB_SONGS = ["AM Contra - Heart Peripheral", "Al James - Schoolboy Facination",
               "Angels In Amplifiers - I'm Alright"]
MUSDB_LENGTH = 1306624  # samples at 44.1 kHz, every stem of every song


@pytest.fixture(scope="module")
def mir1k_train():
    return load_mir1k(MIR1K, "train")


@pytest.fixture(scope="module")
def mir1k_test():
    return load_mir1k(MIR1K, "test")


@pytest.fixture(scope="module")
def musdb():
    return load_musdb(MUSDB)


def _write(path, audio, sample_rate=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_24" if path.suffix == ".flac" else "FLOAT"
    sf.write(path, np.asarray(audio, dtype=np.float32).T, sample_rate, subtype=subtype)


def _noise(seed, n=800, scale=0.1):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


#: The four sources of a synthetic stem file: a stereo tone each (Hz, left; right is 1.5x).
STEM_TONES = {"vocals": 330.0, "drums": 110.0, "bass": 55.0, "other": 660.0}

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe are not on PATH: .stem.mp4 files can be neither written nor read")


def synthetic_stems(seconds=1.0, rate=44100):
    """``{source: (2, n) float32}``: a tone per source, a louder left channel."""
    t = np.arange(int(seconds * rate)) / rate
    return {name: np.stack([0.2 * np.sin(2 * np.pi * hz * t),
                            0.1 * np.sin(2 * np.pi * 1.5 * hz * t)]).astype(np.float32)
            for name, hz in STEM_TONES.items()}


def write_stem_file(path, stems, rate=44100, order=("mixture", "drums", "bass", "other",
                                                     "vocals")):
    """Write ``stems`` (``{source: (2, n)}``) as a MUSDB18 stem file: AAC streams in
    ``order``, the mixture being the sum of the sources."""
    import stempeg

    streams = {"mixture": np.sum(list(stems.values()), axis=0), **stems}
    data = np.stack([streams[name].T for name in order]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    stempeg.write_stems(str(path), data, sample_rate=rate,
                        writer=stempeg.StreamsWriter(codec="aac", bitrate=256000))
    return path


def _snr_db(reference, estimate):
    return 10 * np.log10(np.sum(reference ** 2) / np.sum((reference - estimate) ** 2))


def _copy_clips(target, names):
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(MIR1K / "Wavfile" / f"{name}.wav", target / f"{name}.wav")


class TestLoadMir1k:
    def test_train_is_huang_training_set(self, mir1k_train):
        assert len(mir1k_train.X) == len(mir1k_train.Y) == len(mir1k_train.names) == 175
        assert set(mir1k_train.singers) == {"abjones", "amy"}
        assert np.sum(mir1k_train.singers == "abjones") == 43
        assert mir1k_train.source_names == ("vocals", "accompaniment")
        assert mir1k_train.sample_rate == 16000

    def test_test_has_other_singers(self, mir1k_train, mir1k_test):
        assert len(mir1k_test.X) == 90
        assert set(mir1k_test.singers) == {"annar", "heycat", "tammy"}
        assert not set(mir1k_train.names) & set(mir1k_test.names)
        assert not set(mir1k_train.groups) & set(mir1k_test.groups)

    def test_all(self):
        data = load_mir1k(MIR1K, "all", max_clips=200)
        assert len(data.X) == 200 and data.names[0] == "abjones_1_01"

    def test_mixture_is_exact_sum_of_sources(self, mir1k_train, mir1k_test):
        for data in (mir1k_train, mir1k_test):
            for x, y in zip(data.X, data.Y):
                assert x.dtype == y.dtype == np.float32
                assert x.ndim == 1 and y.shape == (2, x.size)
                np.testing.assert_array_equal(x, y.sum(axis=0))

    @pytest.mark.parametrize("index", [0, 60, 174])
    def test_vocals_are_the_right_channel(self, mir1k_train, index):
        name = mir1k_train.names[index]
        stereo, _ = sf.read(MIR1K / "Wavfile" / f"{name}.wav", dtype="float32")
        np.testing.assert_array_equal(mir1k_train.Y[index][0], stereo[:, 1])
        np.testing.assert_array_equal(mir1k_train.Y[index][1], stereo[:, 0])

    def test_groups_are_songs(self, mir1k_train):
        expected = [name.rsplit("_", 1)[0] for name in mir1k_train.names]
        assert list(mir1k_train.groups) == expected
        assert mir1k_train.groups[0] == "abjones_1"
        for train, test in GroupKFold(3).split(mir1k_train.X, groups=mir1k_train.groups):
            assert not set(mir1k_train.groups[train]) & set(mir1k_train.groups[test])

    def test_names_are_sorted(self, mir1k_train):
        assert list(mir1k_train.names) == sorted(mir1k_train.names)

    def test_max_clips_takes_the_first(self, mir1k_train):
        data = load_mir1k(MIR1K, "train", max_clips=3)
        assert list(data.names) == list(mir1k_train.names[:3])
        np.testing.assert_array_equal(data.X[2], mir1k_train.X[2])

    def test_return_X_y(self):
        X, Y = load_mir1k(MIR1K, "test", max_clips=2, return_X_y=True)
        assert len(X) == len(Y) == 2 and Y[0].shape == (2, X[0].size)

    def test_sample_rate(self, mir1k_train):
        data = load_mir1k(MIR1K, max_clips=1, sample_rate=8000)
        assert data.sample_rate == 8000
        assert data.X[0].size == int(np.ceil(mir1k_train.X[0].size / 2))
        np.testing.assert_array_equal(data.X[0], data.Y[0].sum(axis=0))

    def test_split_without_csv_follows_huang(self, tmp_path):
        _copy_clips(tmp_path / "Wavfile", ["abjones_1_01", "amy_1_01", "annar_1_01"])
        assert list(load_mir1k(tmp_path, "train").names) == ["abjones_1_01", "amy_1_01"]
        assert list(load_mir1k(tmp_path, "test").singers) == ["annar"]
        assert len(load_mir1k(tmp_path, "all").X) == 3

    def test_flat_folder(self, tmp_path):
        _copy_clips(tmp_path, ["heycat_2_03"])
        assert list(load_mir1k(tmp_path, "test").groups) == ["heycat_2"]

    def test_split_csv_must_list_every_clip(self, tmp_path):
        _copy_clips(tmp_path / "Wavfile", ["abjones_1_01", "amy_1_01"])
        (tmp_path / "split.csv").write_text("clip,singer,split\nabjones_1_01,abjones,train\n")
        with pytest.raises(InvalidInputError, match=r"1 clips are not listed in .*split.csv' "
                                                    r"\(first: 'amy_1_01'\)"):
            load_mir1k(tmp_path, "train")
        assert len(load_mir1k(tmp_path, "all").X) == 2

    def test_split_csv_values(self, tmp_path):
        _copy_clips(tmp_path / "Wavfile", ["amy_1_01"])
        (tmp_path / "split.csv").write_text("clip,singer,split\namy_1_01,amy,valid\n")
        with pytest.raises(InvalidInputError,
                           match="line 2: split='valid'; expected 'train' or 'test'"):
            load_mir1k(tmp_path, "train")

    def test_errors(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="MIR-1K folder root='.*nowhere' does not "
                                                    "exist"):
            load_mir1k(tmp_path / "nowhere")
        with pytest.raises(InvalidInputError,
                           match="split='valid' must be one of 'train', 'test', 'all'"):
            load_mir1k(MIR1K, "valid")
        with pytest.raises(InvalidInputError, match="max_clips=0 must be an integer >= 1"):
            load_mir1k(MIR1K, max_clips=0)
        (tmp_path / "Wavfile").mkdir()
        with pytest.raises(InvalidInputError, match="no .wav files in .*Wavfile'; expected a "
                                                    "MIR-1K folder"):
            load_mir1k(tmp_path)

    def test_badly_named_or_mono_clip(self, tmp_path):
        _write(tmp_path / "Wavfile" / "take1.wav", _noise(0))
        with pytest.raises(InvalidInputError, match="take1.wav' is not named "
                                                    "<singer>_<song>_<clip>.wav"):
            load_mir1k(tmp_path, "all")
        (tmp_path / "Wavfile" / "take1.wav").rename(tmp_path / "Wavfile" / "amy_1_01.wav")
        with pytest.raises(InvalidInputError, match=r"amy_1_01.wav' has 1 channel\(s\); "
                                                    r"expected 2 \(left accompaniment"):
            load_mir1k(tmp_path, "train")


class TestLoadMusdb:
    def test_default_four_mono_sources(self, musdb):
        assert list(musdb.names) == MUSDB_SONGS and list(musdb.groups) == MUSDB_SONGS
        assert musdb.source_names == ("vocals", "drums", "bass", "other")
        assert musdb.sample_rate == 44100
        for x, y in zip(musdb.X, musdb.Y):
            assert x.dtype == y.dtype == np.float32
            assert x.shape == (MUSDB_LENGTH,) and y.shape == (4, MUSDB_LENGTH)

    def test_mixture_is_sum_of_stems(self, musdb):
        # mixture.flac is the sum of the decoded stems, to 16-bit rounding (PROVENANCE.md).
        for x, y in zip(musdb.X, musdb.Y):
            error = np.abs(x - y.sum(axis=0)).max()
            assert 0 < error <= 6.11e-5

    def test_sources_follow_requested_order(self, musdb):
        data = load_musdb(MUSDB, sources=("bass", "vocals"), max_songs=1)
        np.testing.assert_array_equal(data.Y[0], musdb.Y[0][[2, 0]])

    def test_resampling_to_16k(self):
        data = load_musdb(MUSDB, sample_rate=16000, max_songs=2)
        assert data.sample_rate == 16000 and len(data.X) == 2
        expected = int(np.ceil(MUSDB_LENGTH * 16000 / 44100))
        assert expected == 474059
        assert data.X[1].shape == (expected,) and data.Y[1].shape == (4, expected)
        assert np.abs(data.X[1] - data.Y[1].sum(axis=0)).max() < 1e-3

    def test_stereo(self):
        data = load_musdb(MUSDB, mono=False, max_songs=1, sources=("vocals", "other"))
        assert data.X[0].shape == (2, MUSDB_LENGTH)
        assert data.Y[0].shape == (2, 2, MUSDB_LENGTH)
        full, _ = sf.read(MUSDB / MUSDB_SONGS[0] / "other.flac", dtype="float32")
        np.testing.assert_array_equal(data.Y[0][1], full.T)

    def test_vocals_and_accompaniment(self, musdb):
        data = load_musdb(MUSDB, sources=("vocals", "accompaniment"))
        assert data.source_names == ("vocals", "accompaniment")
        for y2, y4, x in zip(data.Y, musdb.Y, data.X):
            np.testing.assert_array_equal(y2[0], y4[0])
            np.testing.assert_allclose(y2[1], y4[1:].sum(axis=0), atol=1e-6)
            assert np.abs(x - y2.sum(axis=0)).max() <= 6.11e-5

    def test_accompaniment_file_wins(self, tmp_path):
        for name, seed in [("vocals", 0), ("drums", 1), ("accompaniment", 2)]:
            _write(tmp_path / "song" / f"{name}.wav", _noise(seed))
        data = load_musdb(tmp_path, sources=("vocals", "accompaniment"))
        np.testing.assert_array_equal(data.Y[0][1], _noise(2))

    def test_without_mixture_file_the_mixture_is_the_sum(self, tmp_path):
        for name, seed in [("vocals", 0), ("drums", 1), ("bass", 2), ("other", 3)]:
            _write(tmp_path / "b" / f"{name}.flac", _noise(seed, scale=0.2))
        _write(tmp_path / "a" / "vocals.wav", _noise(4))
        _write(tmp_path / "a" / "piano.wav", _noise(5))
        data = load_musdb(tmp_path, sources=("vocals", "accompaniment"))
        assert list(data.names) == ["a", "b"] and data.sample_rate == 8000
        np.testing.assert_array_equal(data.Y[0][1], _noise(5))
        for x, y in zip(data.X, data.Y):
            np.testing.assert_array_equal(x, y.sum(axis=0))

    def test_no_song_folders(self, tmp_path):
        (tmp_path / "empty").mkdir()
        (tmp_path / "notes.txt").write_text("no audio here")
        with pytest.raises(InvalidInputError,
                           match=r"holds no song folders with stems; expected the layout "
                                 r"<song>/\{mixture,vocals,drums,bass,other\}.\{wav,flac\}"):
            load_musdb(tmp_path)

    def test_song_missing_a_stem(self, tmp_path):
        for name in ("vocals", "drums", "bass", "other"):
            _write(tmp_path / "a" / f"{name}.wav", _noise(0))
        for name in ("vocals", "drums", "other"):
            _write(tmp_path / "b" / f"{name}.wav", _noise(0))
        with pytest.raises(InvalidInputError,
                           match=r"song 'b' in .* has no 'bass' stem \(bass.wav or bass.flac\); "
                                 r"found \['drums', 'other', 'vocals'\]"):
            load_musdb(tmp_path)
        assert len(load_musdb(tmp_path, max_songs=1).X) == 1

    def test_stems_of_different_lengths(self, tmp_path):
        _write(tmp_path / "s" / "vocals.wav", _noise(0, n=800))
        _write(tmp_path / "s" / "drums.wav", _noise(1, n=700))
        with pytest.raises(InvalidInputError, match=r"song 's' has stem files of different "
                                                    r"shapes \(drums \(700,\), vocals \(800,\)\)"):
            load_musdb(tmp_path, sources=("vocals", "drums"))

    def test_bad_arguments(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            load_musdb(tmp_path / "nowhere")
        with pytest.raises(InvalidInputError, match=r"holds 'accompaniment' and \['drums'\], "
                                                    r"which it already contains"):
            load_musdb(MUSDB, sources=("vocals", "drums", "accompaniment"))
        with pytest.raises(InvalidParameterTypeError, match="sources='vocals' must be a tuple"):
            load_musdb(MUSDB, sources="vocals")
        with pytest.raises(InvalidInputError, match="names a stem twice"):
            load_musdb(MUSDB, sources=("vocals", "vocals"))
        with pytest.raises(InvalidInputError, match="max_songs=0 must be an integer >= 1"):
            load_musdb(MUSDB, max_songs=0)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """``musdb18/train/Artist - Song.stem.mp4``, one second of :func:`synthetic_stems`."""
    folder = tmp_path_factory.mktemp("stem-files") / "musdb18" / "train"
    write_stem_file(folder / "Artist - Song.stem.mp4", synthetic_stems())
    return folder


@needs_ffmpeg
class TestStemFiles:
    """MUSDB18's own ``<song>.stem.mp4`` files. AAC is lossy: decoded stems are compared
    with the synthetic ones by their signal-to-noise ratio (25 dB or more here)."""

    def test_every_stream_in_musdb_order(self, songs):
        data = load_musdb(songs, mono=False)
        assert list(data.names) == ["Artist - Song"] and data.sample_rate == 44100
        assert data.source_names == ("vocals", "drums", "bass", "other")
        assert data.X[0].shape == (2, 44100) and data.Y[0].shape == (4, 2, 44100)
        assert data.X[0].dtype == data.Y[0].dtype == np.float32
        stems = synthetic_stems()
        for decoded, name in zip(data.Y[0], data.source_names):
            assert _snr_db(stems[name], decoded) > 20, name
        assert _snr_db(np.sum(list(stems.values()), axis=0), data.X[0]) > 20

    def test_mono_resampled_and_accompaniment(self, songs):
        four = load_musdb(songs, sample_rate=16000)
        two = load_musdb(songs, sources=("vocals", "accompaniment"), sample_rate=16000)
        assert two.sample_rate == 16000 and two.Y[0].shape == (2, 16000)
        np.testing.assert_array_equal(two.Y[0][0], four.Y[0][0])
        np.testing.assert_allclose(two.Y[0][1], four.Y[0][1:].sum(axis=0), atol=1e-6)
        np.testing.assert_array_equal(two.X[0], four.X[0])  # the mixture stream

    def test_beside_song_folders(self, songs, tmp_path):
        folder = tmp_path / "songs"
        folder.mkdir()
        shutil.copy(songs / "Artist - Song.stem.mp4", folder / "b.stem.mp4")
        for name, seed in [("vocals", 0), ("drums", 1), ("bass", 2), ("other", 3)]:
            _write(folder / "a" / f"{name}.wav", _noise(seed, n=8000), sample_rate=16000)
        (folder / "notes.stem.txt").write_text("not a song")
        assert stems_folder_layout(folder) == "musdb"
        data = load_stems_folder(folder, sources=("vocals", "accompaniment"),
                                 sample_rate=16000)
        assert list(data.names) == ["a", "b"]
        assert [y.shape for y in data.Y] == [(2, 8000), (2, 16000)]

    def test_musdb18_root_points_to_its_splits(self, songs):
        root = songs.parent
        hint = r"\(its songs are in train/: pass '.*musdb18/train'\)"
        with pytest.raises(InvalidInputError, match=r"holds no song folders with stems.*"
                                                    r"<song>.stem.mp4 files \(MUSDB18\) " + hint):
            load_musdb(root)
        with pytest.raises(InvalidInputError, match=r"has neither supported layout.*" + hint):
            stems_folder_layout(root)

    def test_song_twice(self, songs, tmp_path):
        shutil.copy(songs / "Artist - Song.stem.mp4", tmp_path / "a.stem.mp4")
        _write(tmp_path / "a" / "vocals.wav", _noise(0))
        with pytest.raises(InvalidInputError, match=r"song 'a' in .* is both 'a' and "
                                                    r"'a.stem.mp4'; expected one song folder"):
            load_musdb(tmp_path)

    def test_missing_stem(self, songs):
        with pytest.raises(InvalidInputError,
                           match=r"song 'Artist - Song' in .* \(Artist - Song.stem.mp4\) has no "
                                 r"'piano' stem; a .stem.mp4 file holds mixture, drums, bass, "
                                 r"other, vocals"):
            load_musdb(songs, sources=("vocals", "piano"))

    @pytest.mark.parametrize("damage", ["text", "truncated"])
    def test_unreadable_or_truncated(self, songs, tmp_path, damage):
        content = (songs / "Artist - Song.stem.mp4").read_bytes()
        (tmp_path / "song.stem.mp4").write_bytes(
            b"not an MP4 file" if damage == "text" else content[:len(content) // 2])
        with pytest.raises(InvalidInputError,
                           match=r"song.stem.mp4' is not a readable stem file \(ffprobe: .+\); "
                                 r"expected an MP4 file with MUSDB18's 5 streams"):
            load_musdb(tmp_path)

    def test_other_stream_counts(self, tmp_path):
        stems = synthetic_stems(seconds=0.5)
        write_stem_file(tmp_path / "two.stem.mp4", stems, order=("mixture", "vocals"))
        with pytest.raises(InvalidInputError,
                           match=r"two.stem.mp4' holds 2 audio streams; expected MUSDB18's 5 "
                                 r"\(mixture, drums, bass, other, vocals, in that order\)"):
            load_musdb(tmp_path)

    def test_without_ffmpeg(self, songs, monkeypatch):
        monkeypatch.setattr("sksep.datasets._musdb.shutil.which", lambda program: None)
        with pytest.raises(MissingProgramError,
                           match=r"\(.stem.mp4 stems\) needs the ffmpeg program, which was not "
                                 r"found on PATH; install ffmpeg"):
            load_musdb(songs)


class TestLoadStemsFolder:
    def test_mir1k(self):
        data = load_stems_folder(MIR1K, max_clips=2)
        assert list(data.names) == ["abjones_1_01", "abjones_1_02"]

    def test_flat_mir1k(self, tmp_path):
        _copy_clips(tmp_path, ["amy_3_01"])
        data = load_stems_folder(tmp_path, split="all")
        assert data.source_names == ("vocals", "accompaniment") and len(data.X) == 1

    def test_musdb(self, tmp_path):
        for name in ("mixture", "vocals", "accompaniment"):
            _write(tmp_path / "song" / f"{name}.wav", _noise(0))
        data = load_stems_folder(tmp_path, sources=("vocals", "accompaniment"),
                                 sample_rate=16000)
        assert data.sample_rate == 16000 and data.Y[0].shape == (2, 1600)

    def test_option_of_the_other_loader(self):
        with pytest.raises(InvalidInputError,
                           match="max_songs is not an option for the MIR-1K-style folder .*; "
                                 "its loader load_mir1k takes split, max_clips, return_X_y, "
                                 "sample_rate"):
            load_stems_folder(MIR1K, max_songs=1)

    def test_neither_layout(self, tmp_path):
        _write(tmp_path / "recording.wav", _noise(0))
        with pytest.raises(InvalidInputError, match="has neither supported layout"):
            load_stems_folder(tmp_path)
        with pytest.raises(FileNotFoundError, match="does not exist"):
            load_stems_folder(tmp_path / "nowhere")


class TestStemsFolderLayout:
    def test_the_real_folders(self):
        assert stems_folder_layout(MIR1K) == "mir1k"
        assert stems_folder_layout(MUSDB) == "musdb"

    def test_flat_mir1k_clips_and_song_folders(self, tmp_path):
        _copy_clips(tmp_path / "clips", ["amy_3_01"])
        assert stems_folder_layout(tmp_path / "clips") == "mir1k"
        _write(tmp_path / "songs" / "song" / "vocals.flac", _noise(0))
        assert stems_folder_layout(str(tmp_path / "songs")) == "musdb"

    def test_mono_clip_names_are_not_mir1k(self, tmp_path):
        _write(tmp_path / "amy_3_01.wav", _noise(0))  # MIR-1K's name, but mono
        with pytest.raises(InvalidInputError, match="has neither supported layout"):
            stems_folder_layout(tmp_path)

    @pytest.mark.parametrize("make, error, message", [
        (lambda path: None, FileNotFoundError,
         "stems folder STEMS_DIR='.*nowhere' does not exist"),
        (lambda path: path.write_text("x"), InvalidInputError,
         "STEMS_DIR='.*nowhere' is a file; expected a folder of stems"),
        (lambda path: path.mkdir(), InvalidInputError,
         r"STEMS_DIR='.*nowhere' has neither supported layout; expected MIR-1K style "
         r"\(Wavfile/<singer>_<song>_<clip>.wav"),
    ])
    def test_errors_name_the_argument(self, tmp_path, make, error, message):
        make(tmp_path / "nowhere")
        with pytest.raises(error, match=message):
            stems_folder_layout(tmp_path / "nowhere", name="STEMS_DIR")


class TestRemoveSilence:
    def test_removes_a_silent_gap(self):
        tone = np.sin(np.arange(8000) / 3.0).astype(np.float32)
        audio = np.concatenate([tone, np.zeros(4000, np.float32), tone])
        active = remove_silence(audio, 16000)
        assert active.dtype == np.float32
        np.testing.assert_array_equal(active, np.concatenate([tone, tone]))

    def test_threshold_is_relative_to_the_loudest_frame(self):
        frame = np.sin(np.arange(800) / 3.0)
        audio = np.concatenate([frame, 10 ** (-30 / 20) * frame, 10 ** (-50 / 20) * frame])
        assert remove_silence(audio, 16000).size == 1600
        assert remove_silence(audio, 16000, threshold_db=-60).size == 2400
        assert remove_silence(100 * audio, 16000).size == 1600

    def test_silence_only(self):
        assert remove_silence(np.zeros(1000), 16000).shape == (0,)

    def test_errors(self):
        with pytest.raises(InvalidInputError, match="threshold_db=3.0 must be <= 0"):
            remove_silence(np.ones(100), 16000, threshold_db=3.0)
        with pytest.raises(InvalidInputError, match="frame_seconds=0 must be > 0"):
            remove_silence(np.ones(100), 16000, frame_seconds=0)
        with pytest.raises(InvalidInputError, match="audio must be a 1-D float array"):
            remove_silence(np.ones((2, 100)), 16000)


@pytest.fixture(scope="module")
def tracks():
    """Vocal and accompaniment tracks of six real MIR-1K clips."""
    data = load_mir1k(MIR1K, "train", max_clips=6)
    return [y[0] for y in data.Y], [y[1] for y in data.Y]


class TestMakeRemix:
    def test_shapes_and_exact_sum(self, tracks):
        X, Y = make_remix(*tracks, n_clips=5, clip_seconds=2.0, random_state=0)
        assert X.shape == (5, 32000) and Y.shape == (5, 2, 32000)
        assert X.dtype == Y.dtype == np.float32
        np.testing.assert_array_equal(X, Y.sum(axis=1))
        assert np.abs(X).max() <= 0.99 + 1e-6

    @pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0])
    def test_snr(self, tracks, snr_db):
        _, Y = make_remix(*tracks, n_clips=4, clip_seconds=1.0, snr_db=snr_db, random_state=1)
        ratios = 10 * np.log10((Y[:, 0].astype(np.float64) ** 2).sum(axis=1)
                               / (Y[:, 1].astype(np.float64) ** 2).sum(axis=1))
        np.testing.assert_allclose(ratios, snr_db, atol=0.1)

    def test_snr_range_draws_a_ratio_per_clip(self, tracks):
        _, Y = make_remix(*tracks, n_clips=12, clip_seconds=0.5, snr_db=(-5.0, 5.0),
                          random_state=1)
        ratios = 10 * np.log10((Y[:, 0].astype(np.float64) ** 2).sum(axis=1)
                               / (Y[:, 1].astype(np.float64) ** 2).sum(axis=1))
        assert ratios.min() >= -5.01 and ratios.max() <= 5.01
        assert ratios.max() - ratios.min() > 3.0  # 12 draws spread over the range

    @pytest.mark.parametrize("snr_db, match", [
        ((5.0, -5.0), r"snr_db\[1\]=-5.0 must be >= 5.0"),
        ((0.0, 1.0, 2.0), r"snr_db=\(0.0, 1.0, 2.0\) must be a number or a pair"),
        ((0.0, float("nan")), r"snr_db\[1\]=nan must be finite"),
    ])
    def test_bad_snr_range(self, tracks, snr_db, match):
        with pytest.raises(InvalidInputError, match=match):
            make_remix(*tracks, n_clips=2, clip_seconds=0.5, snr_db=snr_db)

    def test_both_sources_active_throughout(self, tracks):
        # MIR-1K vocals have long pauses (checked last); in the clips no 50 ms frame is silent.
        _, Y = make_remix(*tracks, n_clips=6, clip_seconds=2.0, random_state=2)
        frames = Y.reshape(6, 2, 40, 800)
        rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=-1))
        loudest = rms.max(axis=-1, keepdims=True)
        assert (rms > loudest * 10 ** (-60 / 20)).all()
        vocals = tracks[0]
        assert sum(remove_silence(v, 16000).size for v in vocals) < 0.9 * sum(map(len, vocals))

    def test_loud_mixtures_are_scaled_down_keeping_the_ratio(self):
        loud = [_noise(seed, n=20000, scale=0.5) for seed in range(4)]
        X, Y = make_remix(loud[:2], loud[2:], n_clips=4, clip_seconds=0.5, snr_db=3.0,
                          random_state=0)
        np.testing.assert_allclose(np.abs(X).max(axis=1), 0.99, atol=1e-6)
        ratios = 10 * np.log10((Y[:, 0] ** 2).sum(axis=1) / (Y[:, 1] ** 2).sum(axis=1))
        np.testing.assert_allclose(ratios, 3.0, atol=0.01)

    def test_reproducible(self, tracks):
        first = make_remix(*tracks, n_clips=3, clip_seconds=0.5, random_state=7)
        again = make_remix(*tracks, n_clips=3, clip_seconds=0.5,
                           random_state=np.random.RandomState(7))
        other = make_remix(*tracks, n_clips=3, clip_seconds=0.5, random_state=8)
        np.testing.assert_array_equal(first[0], again[0])
        np.testing.assert_array_equal(first[1], again[1])
        assert not np.array_equal(first[0], other[0])

    def test_track_too_short(self):
        long = np.sin(np.arange(20000) / 3.0)
        short = np.concatenate([np.sin(np.arange(4000) / 3.0), np.zeros(20000)])
        with pytest.raises(InvalidInputError,
                           match=r"vocals\[1\] has 0.25 s \(4000 samples\) of non-silent audio "
                                 r"\(threshold_db=-40.0\); expected at least clip_seconds=1.0 s "
                                 r"\(16000 samples\)"):
            make_remix([long, short], [long], n_clips=1, clip_seconds=1.0)

    def test_errors(self):
        track = np.sin(np.arange(20000) / 3.0)
        with pytest.raises(InvalidInputError, match="n_clips=0 must be an integer >= 1"):
            make_remix([track], [track], n_clips=0)
        with pytest.raises(InvalidInputError, match=r"vocals is one 1-D array of shape "
                                                    r"\(20000,\); expected a list"):
            make_remix(track, [track], n_clips=1)
        with pytest.raises(InvalidInputError, match="accompaniments holds no tracks"):
            make_remix([track], [], n_clips=1)
        with pytest.raises(InvalidInputError, match="clip_seconds=-1.0 must be > 0"):
            make_remix([track], [track], n_clips=1, clip_seconds=-1.0)
        with pytest.raises(InvalidInputError, match=r"accompaniments\[0\] contains 1 NaN"):
            make_remix([track], [np.r_[track, np.nan]], n_clips=1)
