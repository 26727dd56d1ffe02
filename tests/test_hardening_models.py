"""Issue 32 (hardening, round 3): hostile model files and odd arguments, tried as a user would.

Each crafted model file is a tiny saved model whose payload was read with ``torch.load``
and written back with ``torch.save`` (the format's own reader and writer), edited in
between. The command line runs as ``python -m sksep`` in a subprocess; the API cases
call the public functions.
"""

import copy
import os
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

import sksep
from sksep import ChimeraSeparator
from sksep._persistence import MAX_PLAIN_BYTES, MAX_PLAIN_STRING
from sksep.cli import EXIT_BAD_INPUT, EXIT_OK
from sksep.exceptions import InvalidAudioTypeError, InvalidInputError, ModelFileError

from fast_settings import make
from test_cli import sksep_cli

RATE = 16000
#: Longest error message a crafted file may cause: a short prefix of what it holds.
SHORT = 600


@pytest.fixture(scope="module")
def clips():
    """Three quarter-second random clips: mixtures ``(3, n)`` and sources ``(3, 2, n)``."""
    rng = np.random.default_rng(0)
    Y = (0.1 * rng.standard_normal((3, 2, 4000))).astype(np.float32)
    return Y.sum(axis=1), Y


@pytest.fixture(scope="module")
def fitted(clips):
    return make("ChimeraSeparator").fit(*clips)


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("models") / "model.sksep")


@pytest.fixture
def song(tmp_path):
    """A one-second stereo WAV file at 16 kHz."""
    path = tmp_path / "song.wav"
    audio = np.random.default_rng(1).uniform(-0.1, 0.1, (RATE, 2)).astype(np.float32)
    sf.write(path, audio, RATE)
    return path


def _crafted(model_file, tmp_path, edit, name="crafted.sksep"):
    """A copy of ``model_file`` whose payload ``edit`` changed in place."""
    payload = torch.load(model_file, map_location="cpu", weights_only=True)
    edit(payload)
    path = tmp_path / name
    torch.save(payload, path)
    return path


def _separate_cli(song, model, out):
    return sksep_cli("separate", song, "--model", model, "--out", out)


def _refused_by_cli(result, out, *parts):
    """The command failed as a bad model file (exit 3) with one short line that holds
    ``parts``, before writing any stem."""
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    error = result.stderr.splitlines()[-1]
    assert error.startswith("sksep: error: ") and len(result.stderr) < SHORT, result.stderr
    for part in parts:
        assert part in error, result.stderr
    assert "separating" not in result.stdout + result.stderr
    assert not out.exists()


# -- item 2: strings, lists and sizes are bounded --------------------------------------------


class TestBoundedPlainData:
    def test_names_that_repeat_one_huge_string_are_refused(self, model_file, song, tmp_path):
        huge = "\x1b[31m" + "v" * (10 * 2**20)  # 10 MB, starting with a terminal escape

        def edit(payload):
            payload["attributes"]["source_names_"] = {"__tuple__": [huge] * 1000}

        path = _crafted(model_file, tmp_path, edit)
        assert path.stat().st_size < 12 * 2**20  # one string, referenced 1000 times
        out = tmp_path / "stems"
        result = _separate_cli(song, path, out)
        _refused_by_cli(result, out, "is refused: its attributes['source_names_'] holds a "
                                     f"string of {len(huge)} characters ('\\x1b[31mvvvv",
                        f"expected names and settings of at most {MAX_PLAIN_STRING}")
        assert "\x1b" not in result.stderr  # escaped, not sent to the terminal

    def test_repeated_strings_are_counted_each_time(self, model_file, tmp_path):
        name = "v" * MAX_PLAIN_STRING  # as long as allowed: only the total is too large

        def edit(payload):
            payload["attributes"]["source_names_"] = {"__tuple__": [name] * 100_000}

        with pytest.raises(ModelFileError, match=rf"its attributes decode to more than "
                                                 rf"{MAX_PLAIN_BYTES} bytes") as error:
            sksep.load(_crafted(model_file, tmp_path, edit))
        assert len(str(error.value)) < SHORT

    @pytest.mark.parametrize("edit, match", [
        (lambda payload: payload["params"].update({"k" * 10**7: 1}),
         r"a key of its params holds a string of 10000000 characters \('kkkk"),
        (lambda payload: payload["state_dict"].update({"w" * 10**7: torch.zeros(1)}),
         r"a key of its state_dict holds a string of 10000000 characters"),
        (lambda payload: payload["params"].update(rnn_type="lstm" * 10**6),
         r"its params\['rnn_type'\] holds a string of 4000000 characters \('lstmlstm"),
        (lambda payload: payload["params"].update(hidden_size=10**400),
         r"its params\['hidden_size'\] holds an integer of 1329 bits; expected at most 64"),
        (lambda payload: payload.update(format_version="9" * 10**7, sksep_version="9" * 10**7),
         r"has model format version '9999.*'\.\.\. \(10000000 characters\); this sksep reads "
         r"version 1 \(saved by sksep '9999.*'\.\.\. \(10000000 characters\)\)"),
        (lambda payload: payload.update(estimator="E" * 10**7),
         r"holds an unknown estimator 'EEEE.*'\.\.\. \(10000000 characters\)"),
    ], ids=["key", "weight-name", "setting", "integer", "version", "estimator"])
    def test_every_string_is_bounded_and_echoed_short(self, model_file, tmp_path, edit, match):
        with pytest.raises(ModelFileError, match=match) as error:
            sksep.load(_crafted(model_file, tmp_path, edit))
        assert len(str(error.value)) < SHORT

    def test_tensor_expanded_from_a_smaller_one_is_refused(self, model_file, tmp_path):
        def edit(payload):
            name, weight = next(iter(payload["state_dict"].items()))
            payload["state_dict"][name] = torch.zeros(1).expand(weight.shape)  # one number

        with pytest.raises(ModelFileError, match=r"its weight '.*' describes more bytes than "
                                                 r"the file stores for its tensors"):
            sksep.load(_crafted(model_file, tmp_path, edit))

    def test_save_refuses_what_load_would_refuse(self, fitted, tmp_path):
        model = copy.deepcopy(fitted)
        model.source_names_ = ("v" * (MAX_PLAIN_STRING + 1), "accompaniment")
        with pytest.raises(InvalidInputError, match=r"was not written: its attributes\["
                                                    r"'source_names_'\] holds a string of"):
            model.save(tmp_path / "long.sksep")
        assert not (tmp_path / "long.sksep").exists()

    def test_names_of_a_fitted_model_are_echoed_short(self, fitted):
        model = copy.deepcopy(fitted)
        model.source_names_ = ("v" * 10**7 + "/", "accompaniment")  # not a file name
        audio = np.zeros(RATE, np.float32)
        with pytest.raises(ModelFileError, match=r"names its sources \('vvvv.*'\.\.\. "
                                                 r"\(10000001 characters\)") as error:
            sksep.separate(audio, model, sample_rate=RATE)
        assert len(str(error.value)) < SHORT

    def test_shipped_models_pass_every_bound(self):
        for name in sksep.available_models():
            assert sksep.load(name).n_sources_ >= 2


# -- item 3: silence-level input gives silent stems ------------------------------------------


class TestSilenceLevelInput:
    @pytest.mark.parametrize("scale", [1e-40, 1e-44])
    def test_api_gives_finite_silent_stems(self, model_file, scale):
        song = np.random.default_rng(2).uniform(-1, 1, (2, RATE)).astype(np.float32)
        quiet = song * np.float32(scale)  # subnormal float32, still finite and not zero
        assert np.all(np.isfinite(quiet)) and np.any(quiet)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "overflow encountered" on the way
            stems, _ = sksep.separate(quiet, model_file, sample_rate=RATE)
        for stem in stems.values():
            assert np.all(np.isfinite(stem)) and np.max(np.abs(stem)) <= 4 * scale

    def test_cli_writes_finite_silent_stems(self, model_file, tmp_path):
        path = tmp_path / "quiet.wav"
        audio = np.random.default_rng(3).uniform(-1, 1, (RATE, 2)).astype(np.float32)
        sf.write(path, audio * np.float32(1e-39), RATE, subtype="FLOAT")
        result = _separate_cli(path, model_file, tmp_path / "stems")
        assert result.returncode == EXIT_OK, result.stderr
        for name in ("source0", "source1"):
            stem, rate = sf.read(tmp_path / "stems" / "quiet" / f"{name}.wav")
            assert rate == RATE and np.all(np.isfinite(stem)) and np.max(np.abs(stem)) < 1e-37


# -- item 8: fields that divide or step are checked at load -----------------------------------


def _grid(field, value):
    def edit(payload):
        payload["attributes"]["grid_"]["__grid__"][field] = value
    return edit


def _features(field, value):
    def edit(payload):
        payload["attributes"]["features_"]["params"][field] = value
    return edit


def _stored(section, name, value):
    def edit(payload):
        payload[section][name] = value
    return edit


class TestFieldsCheckedAtLoad:
    @pytest.mark.parametrize("edit, match", [
        (_grid("hop_length", 0), "fitted attributes are invalid: grid_: hop_length=0 must be "
                                 "an integer >= 1"),
        (_grid("sample_rate", 0), "grid_: sample_rate=0 must be an integer >= 1000"),
        (_grid("sample_rate", 10**7), "grid_: sample_rate=10000000 must be an integer <= "
                                      "768000"),
        (_grid("n_fft", 0), "grid_: n_fft=0 must be an integer >= 16"),
        (_grid("n_fft", 1.5), "grid_: n_fft=1.5 must be an integer"),
        (_grid("window", "boxcar"), "grid_: window='boxcar' must be one of 'hann'"),
        (_features("hop_length", 0), "features_: hop_length=0 must be an integer >= 1"),
        (_features("deltas", True), "features_ make 64 features per frame, but "
                                    "n_features_=32; expected the same number"),
        (_stored("attributes", "inference_frames_", 0), "inference_frames_=0 must be an "
                                                        "integer >= 1"),
        (_stored("attributes", "sample_rate_", 0), "sample_rate_=0 differs from grid_'s "
                                                   "16000 Hz"),
        (_stored("attributes", "n_sources_", 1.5), "n_sources_=1.5 must be an integer"),
        (_stored("params", "segment_frames", 0), "hyper-parameters are invalid: "
                                                 "segment_frames=0 must be an integer >= 1"),
        (_stored("params", "batch_size", 0), "batch_size=0 must be an integer >= 1"),
    ], ids=["hop", "rate", "rate-too-high", "n_fft", "n_fft-float", "window", "features-hop",
            "features-deltas", "inference_frames_", "sample_rate_", "n_sources_",
            "segment_frames", "batch_size"])
    def test_refused_at_load_naming_the_field(self, model_file, tmp_path, edit, match):
        with pytest.raises(ModelFileError, match=r"crafted.sksep' is refused: .*"
                                                 + match.replace("(", r"\(")):
            sksep.load(_crafted(model_file, tmp_path, edit))

    def test_cli_refuses_before_separating(self, model_file, song, tmp_path):
        path = _crafted(model_file, tmp_path, _grid("hop_length", 0))
        out = tmp_path / "stems"
        _refused_by_cli(_separate_cli(song, path, out), out,
                        "grid_: hop_length=0 must be an integer >= 1")

    def test_missing_attribute_is_named(self, model_file, tmp_path):
        with pytest.raises(ModelFileError, match="it lacks the fitted attribute "
                                                 "inference_frames_"):
            sksep.load(_crafted(model_file, tmp_path,
                                lambda payload: payload["attributes"].pop("inference_frames_")))


# -- item 9: two sources of one name ----------------------------------------------------------


class TestRepeatedSourceNames:
    def _file(self, model_file, tmp_path):
        return _crafted(model_file, tmp_path, _stored(
            "attributes", "source_names_", {"__tuple__": ["vocals", "vocals"]}))

    def test_refused_at_load(self, model_file, tmp_path):
        with pytest.raises(ModelFileError, match=r"source_names_=\('vocals', 'vocals'\) has "
                                                 r"repeated names \('vocals' twice\)"):
            sksep.load(self._file(model_file, tmp_path))

    def test_cli_writes_no_stem(self, model_file, song, tmp_path):
        out = tmp_path / "stems"
        _refused_by_cli(_separate_cli(song, self._file(model_file, tmp_path), out), out,
                        "has repeated names ('vocals' twice)")

    def test_refused_at_fit(self, clips):
        model = make("ClassConditionalSeparator", source_names=("vocals", "vocals"))
        with pytest.raises(InvalidInputError, match=r"source_names=\('vocals', 'vocals'\) has "
                                                    r"repeated names"):
            model.fit(*clips)
        assert not hasattr(model, "net_")

    def test_fitted_model_in_memory_is_refused(self, fitted):
        model = copy.deepcopy(fitted)
        model.source_names_ = ("vocals", "vocals")
        with pytest.raises(ModelFileError, match="expected 2 distinct plain names"):
            sksep.separate(np.zeros(RATE, np.float32), model, sample_rate=RATE)


# -- item 12: arguments of separate and load ---------------------------------------------------


class TestArguments:
    def test_ragged_song_names_the_argument(self, model_file):
        ragged = [np.zeros(RATE, np.float32), np.zeros(RATE // 2, np.float32)]
        with pytest.raises(InvalidAudioTypeError, match=r"song is a ragged sequence .*; "
                                                        r"expected float audio of shape "
                                                        r"\(n_channels, n_samples\) or "
                                                        r"\(n_samples,\)"):
            sksep.separate(ragged, model_file, sample_rate=RATE)

    def test_bytes_paths_are_accepted_everywhere(self, model_file, song):
        model = sksep.load(os.fsencode(model_file))
        assert isinstance(model, ChimeraSeparator)
        assert isinstance(ChimeraSeparator.load(os.fsencode(model_file)), ChimeraSeparator)
        from_bytes, _ = sksep.separate(os.fsencode(song), os.fsencode(model_file))
        from_str, _ = sksep.separate(str(song), str(model_file))
        assert list(from_bytes) == list(from_str)
        for name in from_str:
            np.testing.assert_array_equal(from_bytes[name], from_str[name])
