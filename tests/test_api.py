"""Tests for the one-line entry :func:`sksep.separate` (issue 17): files and arrays at their
own rate and channel count, a choice of stems, head and device, and every bad argument
answered by an error that names it. The shipped model separates one-second clips."""

import numpy as np
import pytest
import soundfile as sf

import sksep
from sksep import OracleMaskSeparator
from sksep.exceptions import (DeviceNotAvailableError, InvalidInputError,
                              InvalidParameterTypeError)
from test_cli import MIR1K_WAV, MUSDB_MIXTURE

MODEL = "chimera-mir1k"
NAMES = ("vocals", "accompaniment")


@pytest.fixture(scope="module")
def model():
    return sksep.load(MODEL)


@pytest.fixture(scope="module")
def stereo_song(tmp_path_factory):
    """One second of a 44.1 kHz stereo MUSDB mixture, as a FLAC file and as an array."""
    audio, rate = sf.read(MUSDB_MIXTURE, frames=44100, dtype="float32")
    path = tmp_path_factory.mktemp("api") / "stereo.flac"
    sf.write(path, audio, rate, subtype="PCM_24")
    return path, sf.read(path, dtype="float32", always_2d=True)[0].T


@pytest.fixture(scope="module")
def mono_clip():
    """One second of a MIR-1K mixture, mono 16 kHz, ``(16000,)`` float32."""
    audio, _ = sf.read(MIR1K_WAV / "annar_1_02.wav", dtype="float32", frames=16000)
    return audio.mean(axis=1)


class TestDefaultModel:
    """The default is the shipped model best on real songs, in the API and the CLI alike."""

    def test_the_songs_model_separates_by_default(self, mono_clip):
        stems, rate = sksep.separate(mono_clip, sample_rate=16000)
        expected, _ = sksep.separate(mono_clip, "chimera-mir1k-musdb", sample_rate=16000)
        other, _ = sksep.separate(mono_clip, "chimera-mir1k", sample_rate=16000)
        np.testing.assert_array_equal(stems["vocals"], expected["vocals"])
        assert not np.allclose(stems["vocals"], other["vocals"], atol=1e-3)

    def test_the_cli_says_which_and_why(self):
        import re
        import subprocess
        import sys

        help_text = subprocess.run([sys.executable, "-m", "sksep", "separate", "--help"],
                                   capture_output=True, text=True, check=True).stdout
        # argparse may wrap a line after a hyphen: join those first
        help_text = " ".join(re.sub(r"-\n\s+", "-", help_text).split())
        assert "(default: chimera-mir1k-musdb, the shipped model best on real songs" in help_text
        assert "hourglass-mir1k is best on MIR-1K's karaoke clips" in help_text
        assert "chimera-mir1k-musdb" in sksep.available_models()


class TestSeparate:
    def test_file_by_model_name(self, stereo_song):
        path, audio = stereo_song
        stems, rate = sksep.separate(path, MODEL)
        assert rate == 44100 and tuple(stems) == NAMES
        for stem in stems.values():
            assert stem.dtype == np.float32 and stem.shape == (2, 44100)
        np.testing.assert_allclose(stems["vocals"] + stems["accompaniment"], audio, atol=1e-4)

    def test_stereo_array_is_the_same_as_the_file(self, stereo_song, model):
        path, audio = stereo_song
        from_file, _ = sksep.separate(str(path), model)
        from_array, rate = sksep.separate(audio, model, 44100)
        assert rate == 44100
        for name in NAMES:
            np.testing.assert_allclose(from_array[name], from_file[name], atol=1e-6)

    def test_mono_array_keeps_its_shape_and_rate(self, mono_clip, model):
        stems, rate = sksep.separate(mono_clip, model, sample_rate=16000)
        assert rate == 16000
        assert {name: stem.shape for name, stem in stems.items()} == {
            "vocals": (16000,), "accompaniment": (16000,)}
        np.testing.assert_allclose(sum(stems.values()), mono_clip, atol=1e-5)

    def test_stems_come_in_the_models_order(self, mono_clip, model):
        stems, _ = sksep.separate(mono_clip, model, 16000, stems=["accompaniment"])
        assert list(stems) == ["accompaniment"]
        stems, _ = sksep.separate(mono_clip, model, 16000, stems=("accompaniment", "vocals"))
        assert list(stems) == ["vocals", "accompaniment"]

    def test_head_and_device_leave_the_callers_model_alone(self, mono_clip, model):
        soft, _ = sksep.separate(mono_clip, model, 16000)
        binary, _ = sksep.separate(mono_clip, model, 16000, head="dc", device="cpu")
        assert model.get_params()["head"] == "mi"
        assert not np.allclose(binary["vocals"], soft["vocals"])
        again, _ = sksep.separate(mono_clip, model, 16000)
        np.testing.assert_array_equal(again["vocals"], soft["vocals"])

    def test_octave_high_band(self, stereo_song, model):
        _, audio = stereo_song
        stems, _ = sksep.separate(audio, model, 44100, high_band="octave")
        np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)


class TestBadArguments:
    @pytest.mark.parametrize("sample_rate, message", [
        (None, "sample_rate is required when song is an array"),
        (0, "sample_rate=0 must be an integer >= 1000"),
        (22050.5, "sample_rate=22050.5 must be an integer"),
        (10 ** 6, "sample_rate=1000000 must be an integer <= 768000"),
    ])
    def test_array_sample_rate(self, mono_clip, model, sample_rate, message):
        with pytest.raises(InvalidInputError, match=message):
            sksep.separate(mono_clip, model, sample_rate)

    def test_file_with_a_sample_rate(self, stereo_song, model):
        with pytest.raises(InvalidInputError, match="sample_rate=22050 applies to arrays only"):
            sksep.separate(stereo_song[0], model, 22050)

    @pytest.mark.parametrize("stems, error, message", [
        (["drums"], InvalidInputError, r"stems=\['drums'\] must name at least one of the "
                                       r"model's sources vocals, accompaniment; unknown: drums"),
        ([], InvalidInputError, r"stems=\[\] must name at least one of the model's sources"),
        ("vocals", InvalidParameterTypeError,
         r"stems='vocals' must be a list of source names, e.g. \['vocals'\]"),
    ])
    def test_stems(self, mono_clip, model, stems, error, message):
        with pytest.raises(error, match=message):
            sksep.separate(mono_clip, model, 16000, stems=stems)

    def test_head(self, mono_clip, model):
        with pytest.raises(InvalidInputError, match="head='soft' must be one of 'mi', 'dc'"):
            sksep.separate(mono_clip, model, 16000, head="soft")

    def test_head_of_a_model_without_heads(self, mono_clip):
        separator = sksep.DeepClusteringSeparator(hidden_size=4, num_layers=1, max_epochs=1,
                                                  embedding_dim=4, random_state=0)
        separator.fit([mono_clip], [np.stack([mono_clip, mono_clip]) / 2])
        with pytest.raises(InvalidInputError, match="head='mi' applies to models with two heads"):
            sksep.separate(mono_clip, separator, 16000, head="mi")

    @pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
    def test_missing_cuda(self, mono_clip, model):
        with pytest.raises(DeviceNotAvailableError, match="device='cuda' is not available"):
            sksep.separate(mono_clip, model, 16000, device="cuda")

    def test_not_a_device(self, mono_clip, model):
        with pytest.raises(InvalidInputError, match="device='banana' is not a torch device"):
            sksep.separate(mono_clip, model, 16000, device="banana")

    @pytest.mark.parametrize("song, message", [
        (np.zeros((16000, 2), np.float32), r"song has shape \(16000, 2\), i.e. 16000 channels "
                                           r"of 2 samples; expected \(n_channels, n_samples\)"),
        (np.zeros((1, 2, 16000), np.float32), r"song must be a 2-D float array, got shape"),
        (np.zeros(100, np.float32), "song has 100 samples; expected at least 512"),
        (np.full(16000, np.nan, np.float32), "song contains 16000 NaN or infinite samples"),
        (np.zeros(16000, np.int16), "song has integer dtype int16"),
        (None, "song must be a 2-D float array of audio samples, got NoneType"),
    ])
    def test_bad_arrays(self, model, song, message):
        with pytest.raises(InvalidInputError, match=message):
            sksep.separate(song, model, 16000)

    def test_missing_file(self, tmp_path, model):
        with pytest.raises(FileNotFoundError, match="nowhere.wav' does not exist"):
            sksep.separate(tmp_path / "nowhere.wav", model)

    @pytest.mark.parametrize("model, error, message", [
        ("no-such-model", FileNotFoundError, "neither a shipped model"),
        (42, InvalidParameterTypeError, "model must be a shipped model name, a model file or a "
                                "fitted separator, got int 42"),
    ])
    def test_bad_models(self, mono_clip, model, error, message):
        with pytest.raises(error, match=message):
            sksep.separate(mono_clip, model, 16000)

    def test_oracle_model(self, mono_clip):
        oracle = OracleMaskSeparator().fit([mono_clip], [np.stack([mono_clip, mono_clip]) / 2])
        with pytest.raises(InvalidInputError, match="is an oracle separator"):
            sksep.separate(mono_clip, oracle, 16000)

    def test_unnamed_clusters_are_refused(self, mono_clip):
        """A deep-clustering head with clusters in no fixed order (cluster_naming=None)
        or with more than two sources cannot say which stem is which."""
        from fast_settings import make

        clips = [mono_clip[:8000], mono_clip[8000:]]
        two = [np.stack([0.3 * c, 0.7 * c]) for c in clips]
        unnamed = make("DeepClusteringSeparator", cluster_naming=None).fit(clips, two)
        with pytest.raises(InvalidInputError, match="deep-clustering head, and its clusters "
                                                    "are unnamed"):
            sksep.separate(mono_clip, unnamed, 16000)
        four = [np.stack([0.1 * c, 0.2 * c, 0.3 * c, 0.4 * c]) for c in clips]
        chimera = make("ChimeraSeparator").fit(clips, four)
        with pytest.raises(InvalidInputError, match=r"head='dc': model 'ChimeraSeparator' "
                                                    r"separates 4 sources \(.*\) with its "
                                                    r"deep-clustering head, and its K-means"):
            sksep.separate(mono_clip, chimera, 16000, head="dc")
        stems, _ = sksep.separate(mono_clip, chimera, 16000, head="mi")  # named by the MI head
        assert len(stems) == 4
