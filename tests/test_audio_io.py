"""Tests for sksep.audio_io: reading, resampling, atomic writing and bad files."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sksep._atomic
import sksep.audio_io
from sksep._atomic import atomic_write
from sksep.audio_io import FILE_SAMPLE_RATES, AudioReader, AudioWriter, load_audio, save_audio
from sksep.exceptions import (DiskFullError, InvalidAudioTypeError, InvalidInputError,
                              InvalidParameterTypeError, MissingProgramError,
                              OutputLocationError)

#: Every write to it fails with ENOSPC, as on a full disk.
DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")

MIR1K_WAV = (Path(__file__).resolve().parents[2] / "shared" / "data" / "MIR-1K" / "Wavfile"
             / "abjones_1_01.wav")
MUSDB_FLAC = (Path(__file__).resolve().parents[2] / "shared" / "data" / "MUSDB18-excerpts"
              / "AM Contra - Heart Peripheral" / "bass.flac")


def _tone(n_samples=16000, sample_rate=16000, channels=None):
    t = np.arange(n_samples) / sample_rate
    if channels is None:
        return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([(0.4 / (c + 1)) * np.sin(2 * np.pi * 220 * (c + 1) * t)
                     for c in range(channels)]).astype(np.float32)


@pytest.fixture(scope="module")
def mir1k_stereo():
    data, rate = sf.read(MIR1K_WAV, dtype="float32", always_2d=True)
    return data.T, rate


class TestLoadAudio:
    def test_stereo_matches_soundfile(self, mir1k_stereo):
        expected, rate = mir1k_stereo
        audio, sample_rate = load_audio(MIR1K_WAV, mono=False)
        assert sample_rate == rate == 16000
        assert audio.dtype == np.float32 and audio.shape == expected.shape == (2, 185856)
        np.testing.assert_array_equal(audio, expected)

    def test_mono_averages_channels(self, mir1k_stereo):
        expected, _ = mir1k_stereo
        audio, _ = load_audio(str(MIR1K_WAV))
        assert audio.shape == (185856,)
        np.testing.assert_allclose(audio, expected.mean(axis=0), atol=1e-7)

    def test_mono_file_gives_one_channel(self, tmp_path):
        path = save_audio(tmp_path / "mono.wav", _tone(), 16000)
        audio, _ = load_audio(path, mono=False)
        assert audio.shape == (1, 16000)

    @pytest.mark.parametrize("target", [8000, 22050, 44100])
    def test_resampling_changes_length_and_rate(self, target):
        audio, sample_rate = load_audio(MIR1K_WAV, sample_rate=target, mono=False)
        assert sample_rate == target
        assert audio.shape == (2, int(np.ceil(185856 * target / 16000)))
        assert audio.dtype == np.float32

    def test_resampling_keeps_a_tone(self, tmp_path):
        path = save_audio(tmp_path / "tone.wav", _tone(44100, 44100), 44100)
        audio, _ = load_audio(path, sample_rate=16000)
        expected = _tone(16000, 16000)
        # Away from the edges the resampled tone is the tone sampled at 16 kHz.
        np.testing.assert_allclose(audio[1000:-1000], expected[1000:-1000], atol=2e-3)

    def test_same_rate_is_not_resampled(self, mir1k_stereo):
        audio, _ = load_audio(MIR1K_WAV, sample_rate=16000, mono=False)
        np.testing.assert_array_equal(audio, mir1k_stereo[0])

    def test_missing_file(self, tmp_path):
        path = tmp_path / "nope.wav"
        with pytest.raises(FileNotFoundError, match=f"audio file '{path}' does not exist"):
            load_audio(path)

    def test_directory(self, tmp_path):
        with pytest.raises(InvalidInputError, match="is a directory; expected an audio file"):
            load_audio(tmp_path)

    def test_zero_byte_file(self, tmp_path):
        path = tmp_path / "empty.wav"
        path.touch()
        with pytest.raises(InvalidInputError, match="empty.wav' is not a readable audio file"
                           ) as info:
            load_audio(path)
        assert not isinstance(info.value, sf.LibsndfileError)

    def test_text_file_renamed_wav(self, tmp_path):
        path = tmp_path / "notes.wav"
        path.write_text("these are not samples\n" * 20)
        with pytest.raises(InvalidInputError, match="notes.wav' is not a readable audio file "
                                                    r"\(Format not recognised"):
            load_audio(path)

    def test_wav_truncated_in_half_loads_fewer_samples(self, tmp_path):
        # libsndfile trusts the bytes present over the header's length: half the file,
        # about half the frames, and never a raw LibsndfileError.
        data = MIR1K_WAV.read_bytes()
        path = tmp_path / "half.wav"
        path.write_bytes(data[:len(data) // 2])
        audio, _ = load_audio(path, mono=False)
        full, _ = sf.read(MIR1K_WAV, dtype="float32", always_2d=True)
        assert audio.shape == (2, (len(data) // 2 - 44) // 4)
        np.testing.assert_array_equal(audio, full[:audio.shape[1]].T)

    def test_wav_header_only_has_no_samples(self, tmp_path):
        path = tmp_path / "header.wav"
        path.write_bytes(MIR1K_WAV.read_bytes()[:44])
        with pytest.raises(InvalidInputError, match="header.wav' contains no audio samples"):
            load_audio(path)

    def test_flac_truncated_in_half_is_unreadable(self, tmp_path):
        data = MUSDB_FLAC.read_bytes()
        path = tmp_path / "half.flac"
        path.write_bytes(data[:len(data) // 2])
        with pytest.raises(InvalidInputError, match="half.flac' is not a readable audio file"
                           ) as info:
            load_audio(path)
        assert isinstance(info.value.__cause__, sf.LibsndfileError)

    def test_m4a_without_ffmpeg(self, tmp_path, monkeypatch):
        path = tmp_path / "song.m4a"
        path.write_bytes(b"\x00" * 64)
        monkeypatch.setattr(shutil, "which", lambda name: None)
        with pytest.raises(MissingProgramError,
                           match=r"needs the ffmpeg program, which was not found on PATH; "
                                 r"install it \(Debian/Ubuntu: `sudo apt-get install ffmpeg`"):
            load_audio(path)

    @pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
    def test_m4a_round_trip_through_ffmpeg(self, tmp_path):
        original = _tone(44100, 44100, channels=2)
        wav = save_audio(tmp_path / "tone.wav", original, 44100)
        m4a = tmp_path / "tone.m4a"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-c:a", "aac",
                        str(m4a)], check=True)
        audio, sample_rate = load_audio(m4a, mono=False)
        assert sample_rate == 44100 and audio.shape[0] == 2
        # AAC works in 1024-sample frames; the encoder pads the end of the last one.
        assert abs(audio.shape[1] - 44100) <= 2048
        rms = np.sqrt(np.mean(audio[:, :44100] ** 2, axis=1))
        np.testing.assert_allclose(rms, np.sqrt(np.mean(original ** 2, axis=1)), rtol=0.05)
        mono, _ = load_audio(m4a, sample_rate=16000)
        assert abs(mono.size - 16000) <= 1000

    @pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
    def test_m4a_that_is_not_audio(self, tmp_path):
        path = tmp_path / "fake.m4a"
        path.write_text("not a container")
        with pytest.raises(InvalidInputError,
                           match=r"fake.m4a' is not a readable audio file \(ffmpeg: "):
            load_audio(path)

    @pytest.mark.parametrize("rate", [1, 999, 768001, 2_000_000])
    def test_header_rate_outside_the_range(self, tmp_path, rate):
        sf.write(tmp_path / "odd.wav", _tone(3000), rate)
        with pytest.raises(InvalidInputError,
                           match=rf"odd.wav' declares a sample rate of {rate} Hz in its header; "
                                 rf"expected 1000 to 768000 Hz"):
            load_audio(tmp_path / "odd.wav", sample_rate=16000)

    @pytest.mark.parametrize("rate", FILE_SAMPLE_RATES)
    def test_header_rate_at_the_ends_of_the_range(self, tmp_path, rate):
        sf.write(tmp_path / "edge.wav", _tone(3000), rate)
        assert load_audio(tmp_path / "edge.wav")[1] == rate

    @pytest.mark.parametrize("tag", [b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10),
                                     b"ID3\x03\x00\x00\x00\x00\x00\x00"])
    def test_mp3_that_is_only_an_id3_tag(self, tmp_path, tag):
        (tmp_path / "tag.mp3").write_bytes(tag)
        with pytest.raises(InvalidInputError,
                           match=r"tag.mp3' holds no audio: only an ID3 tag \(MP3 metadata\) "
                                 r"and no MPEG frames that can be decoded; expected an audio "
                                 r"file with samples"):
            load_audio(tmp_path / "tag.mp3")

    def test_name_that_is_not_utf8(self, tmp_path):
        folder = tmp_path / os.fsdecode(b"caf\xe9")  # Latin-1 bytes, not valid UTF-8
        try:
            folder.mkdir()
        except (OSError, UnicodeError):
            pytest.skip("this file system holds only UTF-8 file names")
        path = save_audio(folder / os.fsdecode(b"na\xefve.flac"), _tone(), 16000)
        audio, rate = load_audio(path)
        assert rate == 16000 and audio.shape == (16000,)
        assert os.listdir(os.fsencode(folder)) == [b"na\xefve.flac"]

    def test_bad_arguments(self):
        with pytest.raises(InvalidInputError, match="sample_rate=0 must be an integer >= 1"):
            load_audio(MIR1K_WAV, sample_rate=0)
        with pytest.raises(InvalidParameterTypeError, match="sample_rate=16000.0 must be an integer"):
            load_audio(MIR1K_WAV, sample_rate=16000.0)
        with pytest.raises(InvalidParameterTypeError, match="path must be a str or os.PathLike"):
            load_audio(np.zeros(3))


class TestSaveAudio:
    @pytest.mark.parametrize("suffix", [".wav", ".flac"])
    @pytest.mark.parametrize("channels", [None, 2])
    def test_round_trip(self, tmp_path, suffix, channels):
        audio = _tone(channels=channels)
        path = save_audio(tmp_path / f"out{suffix}", audio, 16000)
        assert path == tmp_path / f"out{suffix}"
        assert sf.info(path).format == suffix[1:].upper()
        assert sf.info(path).subtype == "PCM_16"
        loaded, rate = load_audio(path, mono=channels is None)
        assert rate == 16000 and loaded.shape == audio.shape
        np.testing.assert_allclose(loaded, audio, atol=1 / 32768)

    def test_float_wav_is_exact(self, tmp_path):
        audio = _tone(channels=3) * 1.7  # beyond [-1, 1] too
        path = save_audio(tmp_path / "float.wav", audio, 22050, subtype="FLOAT")
        loaded, rate = load_audio(path, mono=False)
        assert rate == 22050
        np.testing.assert_array_equal(loaded, audio)

    def test_ogg_is_vorbis(self, tmp_path):
        path = save_audio(tmp_path / "out.ogg", _tone(), 16000)
        assert sf.info(path).subtype == "VORBIS"
        loaded, _ = load_audio(path)
        assert loaded.shape == (16000,)

    def test_creates_parent_folders(self, tmp_path):
        path = save_audio(tmp_path / "a" / "b" / "out.wav", _tone(), 16000)
        assert path.is_file()

    def test_refuses_to_overwrite(self, tmp_path):
        path = save_audio(tmp_path / "out.wav", _tone(), 16000)
        before = path.read_bytes()
        with pytest.raises(FileExistsError,
                           match="out.wav' already exists; pass overwrite=True to replace it"):
            save_audio(path, -_tone(), 16000)
        assert path.read_bytes() == before

    def test_overwrite_replaces(self, tmp_path):
        path = save_audio(tmp_path / "out.wav", _tone(), 16000)
        save_audio(path, -_tone(), 16000, overwrite=True)
        loaded, _ = load_audio(path)
        np.testing.assert_allclose(loaded, -_tone(), atol=1 / 32768)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]

    def test_file_gets_usual_permissions(self, tmp_path):
        reference = tmp_path / "reference"
        reference.write_bytes(b"")
        path = save_audio(tmp_path / "out.wav", _tone(), 16000)
        assert path.stat().st_mode == reference.stat().st_mode

    @staticmethod
    def _failing_write(error):
        real_write = sf.write

        def write(file, data, samplerate, **kwargs):
            real_write(file, data[: len(data) // 2], samplerate, **kwargs)
            with open(file, "ab") as handle:
                handle.write(b"partial")
            raise error
        return write

    @pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()])
    def test_failed_write_leaves_nothing(self, tmp_path, monkeypatch, error):
        monkeypatch.setattr(sf, "write", self._failing_write(error))
        with pytest.raises(type(error)):
            save_audio(tmp_path / "out.wav", _tone(), 16000)
        assert list(tmp_path.iterdir()) == []

    def test_failed_overwrite_keeps_old_file(self, tmp_path, monkeypatch):
        path = save_audio(tmp_path / "out.flac", _tone(), 16000)
        before = path.read_bytes()
        monkeypatch.setattr(sf, "write", self._failing_write(OSError("disk full")))
        with pytest.raises(OSError, match="disk full"):
            save_audio(path, -_tone(), 16000, overwrite=True)
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["out.flac"]

    @needs_dev_full
    def test_full_disk(self, tmp_path, monkeypatch):
        write = sf.write
        monkeypatch.setattr(sf, "write", lambda file, *args, **kwargs: write(DEV_FULL, *args,
                                                                             **kwargs))
        with pytest.raises(DiskFullError, match=r"^the disk is full: '.*out.wav' was not written "
                                                r"\(no space left in '"):
            save_audio(tmp_path / "out.wav", _tone(), 16000)
        assert list(tmp_path.iterdir()) == []

    @needs_dev_full
    def test_full_disk_in_any_writer(self, tmp_path):
        with pytest.raises(DiskFullError, match=r"model.sksep' was not written"):
            atomic_write(tmp_path / "model.sksep",
                         lambda temporary: DEV_FULL.write_bytes(bytes(1 << 20)))
        assert list(tmp_path.iterdir()) == []

    def test_file_where_a_folder_must_go(self, tmp_path):
        (tmp_path / "song").write_text("a file")
        with pytest.raises(OutputLocationError,
                           match=r"song' is a file; expected a folder to hold '.*song/out.wav'"):
            save_audio(tmp_path / "song" / "out.wav", _tone(), 16000, overwrite=True)
        with pytest.raises(OutputLocationError, match=r"song' is a file; expected a folder"):
            save_audio(tmp_path / "song" / "deeper" / "out.wav", _tone(), 16000)
        assert [p.name for p in tmp_path.iterdir()] == ["song"]

    def test_read_only_folder(self, tmp_path, monkeypatch):
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path
                            else access(path, mode))
        with pytest.raises(OutputLocationError,
                           match=r"is read-only; expected a writable folder to hold "
                                 r"'.*deeper/out.wav'$"):
            save_audio(tmp_path / "deeper" / "out.wav", _tone(), 16000)
        assert list(tmp_path.iterdir()) == []

    def test_read_only_folder_found_when_writing(self, tmp_path, monkeypatch):
        # Permissions that os.access does not see (network file systems) show up only when
        # the temporary file is created; the message still names the folder and the target.
        def refuse(path, mode="r", *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))
        monkeypatch.setattr(sksep._atomic, "open", refuse, raising=False)
        with pytest.raises(OutputLocationError, match=r"is read-only; expected a writable "
                                                      r"folder to hold '.*out.wav'$") as error:
            save_audio(tmp_path / "out.wav", _tone(), 16000)
        assert ".tmp" not in str(error.value)

    def test_clipping_warns(self, tmp_path):
        with pytest.warns(UserWarning, match="audio peaks at 2.000 > 1 and will be clipped"):
            path = save_audio(tmp_path / "loud.wav", np.array([0.5, 2.0, -0.5]), 8000)
        loaded, _ = load_audio(path)
        assert loaded.max() == pytest.approx(1.0, abs=1e-4)

    def test_bad_audio(self, tmp_path):
        target = tmp_path / "out.wav"
        bad = _tone()
        bad[10] = np.nan
        with pytest.raises(InvalidInputError, match="audio contains 1 NaN or infinite samples"):
            save_audio(target, bad, 16000)
        with pytest.raises(InvalidAudioTypeError, match="audio has integer dtype int16"):
            save_audio(target, np.zeros(100, dtype=np.int16), 16000)
        with pytest.raises(InvalidInputError,
                           match=r"audio has shape \(16000, 2\), i.e. 16000 channels of 2 "
                                 r"samples; expected \(n_channels, n_samples\)"):
            save_audio(target, _tone(channels=2).T, 16000)
        with pytest.raises(InvalidInputError, match="audio must be a 1-D float array, got shape"):
            save_audio(target, np.zeros((2, 2, 100), dtype=np.float32), 16000)
        assert list(tmp_path.iterdir()) == []

    def test_bad_options(self, tmp_path):
        with pytest.raises(InvalidInputError, match="sample_rate=0 must be an integer >= 1"):
            save_audio(tmp_path / "out.wav", _tone(), 0)
        with pytest.raises(InvalidInputError,
                           match=r"has extension '.m4a'; expected one of .wav, .flac, .ogg, .mp3"):
            save_audio(tmp_path / "out.m4a", _tone(), 16000)
        with pytest.raises(InvalidInputError,
                           match="subtype='FLOAT' cannot be stored in a FLAC file; expected one "
                                 "of 'PCM_S8', 'PCM_16', 'PCM_24'"):
            save_audio(tmp_path / "out.flac", _tone(), 16000, subtype="FLOAT")
        with pytest.raises(InvalidInputError, match="overwrite='yes' must be one of True, False"):
            save_audio(tmp_path / "out.wav", _tone(), 16000, overwrite="yes")
        (tmp_path / "folder.wav").mkdir()
        with pytest.raises(InvalidInputError, match="folder.wav' is a directory"):
            save_audio(tmp_path / "folder.wav", _tone(), 16000, overwrite=True)
        assert [p.name for p in tmp_path.iterdir()] == ["folder.wav"]


#: Overlapping windows that move forwards, as the blocks of a song are read.
WINDOWS = [(0, 5000), (3000, 9000), (9000, 9500), (9200, 16000)]


class TestAudioReader:
    @pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
    def test_windows_equal_load_audio(self, tmp_path, suffix):
        # Read forwards, never seeking: lossy formats decode exactly as read whole.
        path = tmp_path / f"tone{suffix}"
        sf.write(path, _tone(16000, 16000, channels=2).T, 16000)
        whole, rate = load_audio(path, mono=False)
        with AudioReader(path) as reader:
            assert (reader.sample_rate, reader.n_channels, reader.n_samples) == (
                rate, 2, whole.shape[1])
            assert reader.subtype == sf.info(path).subtype
            for start, stop in [(a, min(b, reader.n_samples)) for a, b in WINDOWS]:
                window = reader.read(start, stop)
                assert window.dtype == np.float32 and not window.flags.writeable
                np.testing.assert_array_equal(window, whole[:, start:stop])

    def test_real_stereo_file(self, mir1k_stereo):
        with AudioReader(MIR1K_WAV) as reader:
            np.testing.assert_array_equal(reader.read(100000, 185856),
                                          mir1k_stereo[0][:, 100000:])
            assert reader.subtype == "PCM_16"

    @pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
    def test_m4a_through_ffmpeg(self, tmp_path):
        wav = save_audio(tmp_path / "tone.wav", _tone(44100, 44100, channels=2), 44100)
        m4a = tmp_path / "tone.m4a"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-c:a", "aac",
                        str(m4a)], check=True)
        whole, _ = load_audio(m4a, mono=False)
        with AudioReader(m4a) as reader:
            decoded = reader._source
            assert reader.subtype is None and reader.n_samples == whole.shape[1]
            np.testing.assert_array_equal(reader.read(1000, 30000), whole[:, 1000:30000])
        assert not decoded.exists()  # ffmpeg's decoded copy is removed on closing

    def test_windows_must_move_forwards(self):
        with AudioReader(MIR1K_WAV) as reader:
            reader.read(1000, 2000)
            with pytest.raises(InvalidInputError,
                               match=r"window \(999, 1500\) starts before the previous "
                                     r"window's start, 1000; expected windows that move"):
                reader.read(999, 1500)
            with pytest.raises(InvalidInputError, match=r"window \(1000, 185857\) must satisfy "
                                                        r"0 <= start < stop <= 185856"):
                reader.read(1000, 185857)

    def test_bad_files_as_load_audio(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="nope.wav' does not exist"):
            AudioReader(tmp_path / "nope.wav")
        with pytest.raises(InvalidInputError, match="is a directory; expected an audio file"):
            AudioReader(tmp_path)
        (tmp_path / "notes.wav").write_text("these are not samples\n" * 20)
        with pytest.raises(InvalidInputError, match="notes.wav' is not a readable audio file "
                                                    r"\(Format not recognised"):
            AudioReader(tmp_path / "notes.wav")
        (tmp_path / "header.wav").write_bytes(MIR1K_WAV.read_bytes()[:44])
        with pytest.raises(InvalidInputError, match="header.wav' contains no audio samples"):
            AudioReader(tmp_path / "header.wav")
        sf.write(tmp_path / "odd.wav", _tone(3000), 999)
        with pytest.raises(InvalidInputError, match="odd.wav' declares a sample rate of 999 Hz"):
            AudioReader(tmp_path / "odd.wav")

    def test_bad_samples_found_when_read(self, tmp_path):
        audio = _tone(16000)
        audio[12000] = np.inf
        sf.write(tmp_path / "inf.wav", audio, 16000, subtype="FLOAT")
        with AudioReader(tmp_path / "inf.wav") as reader:
            reader.read(0, 10000)
            with pytest.raises(InvalidInputError,
                               match="inf.wav' contains NaN or infinite samples"):
                reader.read(8000, 16000)

    def test_truncated_flac(self, tmp_path):
        data = MUSDB_FLAC.read_bytes()
        (tmp_path / "half.flac").write_bytes(data[:len(data) // 2])
        with pytest.raises(InvalidInputError, match="half.flac' is not a readable audio file"):
            with AudioReader(tmp_path / "half.flac") as reader:
                for start in range(0, reader.n_samples, 100000):
                    reader.read(start, min(start + 100000, reader.n_samples))

    def test_file_shorter_than_its_header(self):
        with AudioReader(MIR1K_WAV) as reader:
            reader.n_samples += 10  # as an MP3 whose header overestimates its length
            with pytest.raises(InvalidInputError, match="abjones_1_01.wav' ended after 185856 "
                                                        "samples; its header declares 185866"):
                reader.read(100000, 185866)


class TestAudioWriter:
    @staticmethod
    def _in_blocks(path, audio, rate, **kwargs):
        with AudioWriter(path, rate, audio.shape[0], **kwargs) as writer:
            for start in range(0, audio.shape[1], 7000):
                writer.write(audio[:, start:start + 7000])
        return writer

    def test_same_file_as_save_audio(self, tmp_path):
        audio = _tone(channels=2)
        expected = save_audio(tmp_path / "whole.wav", audio, 16000)
        writer = self._in_blocks(tmp_path / "blocks.wav", audio, 16000)
        assert (writer.path, writer.n_samples, writer.subtype) == (
            tmp_path / "blocks.wav", 16000, "PCM_16")
        assert writer.peak == pytest.approx(0.4)
        assert writer.path.read_bytes() == expected.read_bytes()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["blocks.wav", "whole.wav"]

    @pytest.mark.parametrize("suffix, subtype", [(".flac", "PCM_24"), (".wav", "FLOAT"),
                                                 (".ogg", "VORBIS")])
    def test_formats(self, tmp_path, suffix, subtype):
        audio = _tone(channels=2)
        writer = self._in_blocks(tmp_path / f"out{suffix}", audio, 16000, subtype=subtype)
        assert sf.info(writer.path).subtype == writer.subtype == subtype
        loaded, _ = load_audio(writer.path, mono=False)
        assert loaded.shape == audio.shape
        if subtype != "VORBIS":
            np.testing.assert_allclose(loaded, audio, atol=2 ** -23)

    def test_mono_blocks_may_be_1d(self, tmp_path):
        with AudioWriter(tmp_path / "mono.wav", 16000, 1, subtype="FLOAT") as writer:
            writer.write(_tone()[:9000])
            writer.write(_tone()[9000:])
        np.testing.assert_array_equal(load_audio(writer.path)[0], _tone())

    def test_subtype_chosen_by_peak(self, tmp_path):
        def by_peak(peak):
            return "FLOAT" if peak > 1 else "PCM_16"

        quiet = self._in_blocks(tmp_path / "quiet.wav", _tone(channels=2), 16000,
                                subtype=by_peak)
        loud = self._in_blocks(tmp_path / "loud.wav", 3 * _tone(channels=2), 16000,
                               subtype=by_peak)
        assert (quiet.subtype, loud.subtype) == ("PCM_16", "FLOAT")
        assert [sf.info(w.path).subtype for w in (quiet, loud)] == ["PCM_16", "FLOAT"]
        # Staged as float, then encoded: the file save_audio writes.
        assert quiet.path.read_bytes() == save_audio(tmp_path / "q.wav", _tone(channels=2),
                                                     16000).read_bytes()
        np.testing.assert_array_equal(load_audio(loud.path, mono=False)[0],
                                      3 * _tone(channels=2))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["loud.wav", "q.wav", "quiet.wav"]

    def test_refuses_to_overwrite_before_writing(self, tmp_path):
        path = save_audio(tmp_path / "out.wav", _tone(), 16000)
        before = path.read_bytes()
        with pytest.raises(FileExistsError,
                           match="out.wav' already exists; pass overwrite=True to replace it"):
            AudioWriter(path, 16000, 1)
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]

    def test_overwrite_replaces(self, tmp_path):
        path = save_audio(tmp_path / "out.wav", _tone(), 16000)
        self._in_blocks(path, -_tone()[None], 16000, overwrite=True)
        np.testing.assert_allclose(load_audio(path)[0], -_tone(), atol=1 / 32768)
        assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]

    @pytest.mark.parametrize("error", [OSError("network down"), KeyboardInterrupt()])
    def test_error_leaves_nothing(self, tmp_path, error):
        with pytest.raises(type(error)):
            with AudioWriter(tmp_path / "deeper" / "out.wav", 16000, 1) as writer:
                writer.write(_tone())
                raise error
        assert list(tmp_path.iterdir()) == []  # the folder made for it is removed too

    def test_failed_overwrite_keeps_old_file(self, tmp_path):
        path = save_audio(tmp_path / "out.flac", _tone(), 16000)
        before = path.read_bytes()
        with pytest.raises(RuntimeError, match="failed"):
            with AudioWriter(path, 16000, 1, overwrite=True) as writer:
                writer.write(-_tone())
                raise RuntimeError("failed")
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["out.flac"]

    def test_file_gets_usual_permissions(self, tmp_path):
        reference = tmp_path / "reference"
        reference.write_bytes(b"")
        writer = self._in_blocks(tmp_path / "out.wav", _tone()[None], 16000)
        assert writer.path.stat().st_mode == reference.stat().st_mode

    @needs_dev_full
    @pytest.mark.parametrize("subtype", ["PCM_16", lambda peak: "PCM_24"])
    def test_full_disk(self, tmp_path, monkeypatch, subtype):
        reserve = sksep.audio_io.reserve_temporary

        def on_a_full_disk(path):
            temporary = reserve(path)
            temporary.unlink()
            temporary.symlink_to(DEV_FULL)
            return temporary

        monkeypatch.setattr(sksep.audio_io, "reserve_temporary", on_a_full_disk)
        with pytest.raises(DiskFullError, match=r"^the disk is full: '.*out.wav' was not written "
                                                r"\(no space left in '"):
            self._in_blocks(tmp_path / "out.wav", _tone(160000, channels=2), 16000,
                            subtype=subtype)
        assert list(tmp_path.iterdir()) == []

    def test_clipping_warns_at_commit(self, tmp_path):
        with AudioWriter(tmp_path / "loud.wav", 8000, 1) as writer:
            writer.write(np.array([[0.5, -0.5]]))
            writer.write(np.array([[2.0]]))
            with pytest.warns(UserWarning, match="audio peaks at 2.000 > 1 and will be clipped "
                                                 "in the PCM_16 file"):
                writer.commit()
        assert load_audio(writer.path)[0].max() == pytest.approx(1.0, abs=1e-4)

    def test_bad_blocks(self, tmp_path):
        with pytest.raises(InvalidInputError, match="audio contains 1 NaN"):
            with AudioWriter(tmp_path / "out.wav", 16000, 2) as writer:
                with pytest.raises(InvalidInputError,
                                   match=r"audio has shape \(3, 100\); expected \(2, n_samples\) "
                                         r"for the 2-channel file '.*out.wav'"):
                    writer.write(np.zeros((3, 100), dtype=np.float32))
                writer.write(np.array([[0.0, np.nan], [0.0, 0.0]]))
        assert list(tmp_path.iterdir()) == []
        writer = self._in_blocks(tmp_path / "done.wav", _tone()[None], 16000)
        with pytest.raises(InvalidInputError, match="done.wav' is already committed or "
                                                    "discarded"):
            writer.write(_tone()[None])

    def test_bad_options(self, tmp_path):
        with pytest.raises(InvalidInputError,
                           match=r"has extension '.m4a'; expected one of .wav, .flac, .ogg, .mp3"):
            AudioWriter(tmp_path / "out.m4a", 16000, 1)
        with pytest.raises(InvalidInputError,
                           match="subtype='FLOAT' cannot be stored in a FLAC file"):
            AudioWriter(tmp_path / "out.flac", 16000, 1, subtype="FLOAT")
        with pytest.raises(InvalidInputError, match="overwrite='yes' must be one of True, False"):
            AudioWriter(tmp_path / "out.wav", 16000, 1, overwrite="yes")
        with pytest.raises(InvalidInputError, match="n_channels=0 must be an integer >= 1"):
            AudioWriter(tmp_path / "out.wav", 16000, 0)
        with pytest.raises(InvalidInputError, match="sample_rate=0 must be an integer >= 1"):
            AudioWriter(tmp_path / "out.wav", 0, 1)
        (tmp_path / "folder.wav").mkdir()
        with pytest.raises(InvalidInputError, match="folder.wav' is a directory"):
            AudioWriter(tmp_path / "folder.wav", 16000, 1, overwrite=True)
        assert [p.name for p in tmp_path.iterdir()] == ["folder.wav"]
