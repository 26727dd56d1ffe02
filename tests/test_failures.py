"""The inputs users really get wrong, at every public entry.

Each bad input must get a ValueError / TypeError / FileNotFoundError subclass whose
message names the argument and what was expected, never a crash deep inside numpy,
librosa or torch and never a silent wrong answer. Estimators are taken from
``sksep.__all__`` through the fast-settings registry (tests/fast_settings.py), so a
new estimator is covered as soon as it is registered.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from sklearn.exceptions import NotFittedError

import sksep
from fast_settings import is_oracle, make, neural_separator_names, separator_names
from sksep import ChimeraSeparator, DeepClusteringSeparator, MelFeatures
from sksep._persistence import load_estimator
from sksep.audio_io import load_audio
from sksep.datasets import (load_mir1k, load_musdb, load_stems_folder, make_remix,
                            remove_silence)
from sksep.exceptions import InvalidAudioTypeError, InvalidInputError, ModelFileError
from sksep.metrics import (mean_si_sdr_improvement, mirex_globals, separation_report, si_sdr,
                           si_sdr_improvement)
from sksep.separation import separate_long

N = 8000  # half a second at 16 kHz


@pytest.fixture(scope="module")
def clean(mir1k_train_small):
    """Two half-second clips and their (vocals, accompaniment)."""
    X, Y, _ = mir1k_train_small
    return [x[:N].copy() for x in X[:2]], [y[:, :N].copy() for y in Y[:2]]


def _with(values, index, value):
    values = list(values)
    values[index] = value
    return values


def _nan_at(clip, where=10, value=np.nan):
    """A copy of ``clip`` with one bad sample (at flat index ``where``)."""
    clip = clip.copy()
    np.put(clip, where, value)
    return clip


# -- waveforms and sources given to fit ------------------------------------------------------

# (id, build(X, Y) -> (X, Y), error class, message pattern)
BAD_FIT_INPUTS = [
    ("nan-sample", lambda X, Y: (_with(X, 1, _nan_at(X[1])), Y),
     InvalidInputError, r"X\[1\] contains 1 NaN or infinite samples"),
    ("inf-in-sources", lambda X, Y: (X, _with(Y, 0, _nan_at(Y[0], value=np.inf))),
     InvalidInputError, r"Y\[0\] contains 1 NaN or infinite samples"),
    ("empty-clip", lambda X, Y: (_with(X, 0, X[0][:0]), _with(Y, 0, Y[0][:, :0])),
     InvalidInputError, r"X\[0\] has 0 samples; expected at least 512 \(one STFT window\)"),
    ("one-sample-clip", lambda X, Y: (_with(X, 0, X[0][:1]), _with(Y, 0, Y[0][:, :1])),
     InvalidInputError, r"X\[0\] has 1 sample; expected at least 512"),
    ("shorter-than-a-window", lambda X, Y: (_with(X, 1, X[1][:300]), _with(Y, 1, Y[1][:, :300])),
     InvalidInputError, r"X\[1\] has 300 samples; expected at least 512 \(one STFT window\)"),
    ("int16-mixture", lambda X, Y: ([(x * 32767).astype(np.int16) for x in X], Y),
     InvalidAudioTypeError, r"X\[0\] has integer dtype int16; expected float audio in \[-1, 1\] "
                            r"\(for int16 PCM divide by 32768\)"),
    ("int16-sources", lambda X, Y: (X, [(y * 32767).astype(np.int16) for y in Y]),
     InvalidAudioTypeError, r"Y\[0\] has integer dtype int16"),
    ("stereo-clip", lambda X, Y: (_with(X, 0, np.stack([X[0], X[0]])), Y),
     InvalidInputError, r"X\[0\] must be a 1-D float array, got shape \(2, 8000\) \(stereo\?"),
    ("stereo-samples-first", lambda X, Y: (_with(X, 0, np.stack([X[0], X[0]], axis=1)), Y),
     InvalidInputError, r"X\[0\] must be a 1-D float array, got shape \(8000, 2\) \(stereo\? "
                        r"mix down with X\[0\]\.mean\(axis=1\)"),
    ("stereo-array", lambda X, Y: (np.stack([np.stack([x, x]) for x in X]), Y),
     InvalidInputError, r"X must be a 2-D array .*got shape \(2, 2, 8000\) \(stereo\?"),
    ("one-clip-not-a-list", lambda X, Y: (X[0], Y[:1]),
     InvalidInputError, r"X must be a 2-D array .*got shape \(8000,\) \(one clip\? pass \[x\]"),
    ("file-path-instead-of-audio", lambda X, Y: (["song.wav", "other.wav"], Y),
     InvalidAudioTypeError, r"X\[0\] must be a 1-D float array of audio samples, got str "
                            r"'song.wav' \(a file path\? read it with sksep.audio_io.load_audio"),
    ("sources-shorter-than-mixture", lambda X, Y: (X, _with(Y, 0, Y[0][:, :-1])),
     InvalidInputError, r"Y\[0\] has 7999 samples but its mixture X\[0\] has 8000"),
    ("sources-samples-first", lambda X, Y: (X, _with(Y, 1, Y[1].T)),
     InvalidInputError, r"Y\[1\] has shape \(8000, 2\), samples first; expected \(n_sources, "
                        r"n_samples\)"),
    ("one-source", lambda X, Y: (X, [y[:1] for y in Y]),
     InvalidInputError, r"Y has 1 source per clip; expected at least 2"),
    ("different-sources-per-clip", lambda X, Y: (X, _with(Y, 1, np.concatenate([Y[1], Y[1][:1]]))),
     InvalidInputError, r"Y clips have different numbers of sources \[2, 3\]"),
    ("fewer-source-clips", lambda X, Y: (X, Y[:1]),
     InvalidInputError, r"Y has 1 clips but X has 2; expected one entry per mixture"),
    ("no-sources", lambda X, Y: (X, None),
     InvalidInputError, r"requires y to be passed, but the target y is None; expected Y, the "
                        r"sources of each clip"),
    ("no-clips", lambda X, Y: ([], []),
     InvalidInputError, r"X holds no clips; expected at least one"),
]


@pytest.mark.parametrize("case", BAD_FIT_INPUTS, ids=[case[0] for case in BAD_FIT_INPUTS])
@pytest.mark.parametrize("name", separator_names())
def test_fit_refuses_bad_input(name, case, clean):
    _, build, error, match = case
    X, Y = build(*clean)
    with pytest.raises(error, match=match):
        make(name).fit(X, Y)


@pytest.mark.parametrize("case", [c for c in BAD_FIT_INPUTS if c[0] not in (
    "inf-in-sources", "int16-sources", "sources-shorter-than-mixture", "sources-samples-first",
    "one-source", "different-sources-per-clip", "fewer-source-clips", "no-sources")],
    ids=lambda case: case[0])
def test_features_refuse_bad_input(case, clean):
    _, build, error, match = case
    X, _ = build(*clean)
    with pytest.raises(error, match=match):
        MelFeatures().fit_transform(X)


# -- fitted separators: predict, score ---------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(clean):
    """Every public separator fitted once, lazily, on the two clean clips."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = make(name).fit(*clean)
        return cache[name]
    return get


def _predict(est, name, X, Y):
    return est.predict(X, Y) if is_oracle(name) else est.predict(X)


@pytest.mark.parametrize("name", separator_names())
class TestFittedSeparator:
    def test_predict_before_fit(self, name, clean):
        X, Y = clean
        with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted yet"):
            _predict(make(name), name, X, Y)
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            make(name).score(X, Y)

    def test_bad_clips_at_predict(self, name, fitted, clean):
        X, Y = clean
        est = fitted(name)
        with pytest.raises(InvalidInputError, match=r"X\[1\] contains 1 NaN or infinite"):
            _predict(est, name, _with(X, 1, _nan_at(X[1])), Y)
        with pytest.raises(InvalidInputError, match=r"X\[0\] has 100 samples; expected at "
                                                    r"least 512"):
            _predict(est, name, [X[0][:100]], [Y[0][:, :100]])
        with pytest.raises(InvalidAudioTypeError, match=r"X\[0\] has integer dtype int16"):
            _predict(est, name, [(X[0] * 32767).astype(np.int16)], Y[:1])

    def test_wrong_number_of_sources_at_score(self, name, fitted, clean):
        X, Y = clean
        three = [np.concatenate([y, y[:1]]) for y in Y]
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 3 sources; expected 2"):
            fitted(name).score(X, three)
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 7999 samples but its mixture "
                                                    r"X\[0\] has 8000"):
            fitted(name).score(X, _with(Y, 0, Y[0][:, :-1]))

    def test_records_at_another_sample_rate(self, name, fitted, clean):
        X, Y = clean
        records = MelFeatures(sample_rate=22050, n_mels=32, deltas=False).fit_transform(X)
        with pytest.raises(InvalidInputError, match=r"X\[0\] was computed with "
                           r"FeatureGrid\(sample_rate=22050.*but the separator was fitted on "
                           r"FeatureGrid\(sample_rate=16000"):
            _predict(fitted(name), name, records, Y)


def test_stereo_samples_first_to_separate_long(fitted, clean):
    X, _ = clean
    with pytest.raises(InvalidInputError, match=r"audio must be a 1-D float array, got shape "
                                                r"\(8000, 2\) \(stereo\? mix down with "
                                                r"audio\.mean\(axis=1\) or separate each"):
        separate_long(fitted("ChimeraSeparator"), np.stack([X[0], X[0]], axis=1))


def test_oracle_needs_the_sources(fitted, clean):
    X, _ = clean
    with pytest.raises(InvalidInputError, match=r"Y is None; expected the sources of each clip"):
        fitted("OracleMaskSeparator").predict(X)


def test_waveforms_to_a_separator_fitted_on_records(clean):
    X, Y = clean
    records = MelFeatures(n_mels=32, deltas=False).fit_transform(X)
    oracle = make("OracleMaskSeparator").fit(records, Y)
    with pytest.raises(InvalidInputError, match="X holds waveforms but this separator was "
                                                "fitted on SpectrogramRecord items"):
        oracle.predict(X, Y)
    with pytest.raises(InvalidAudioTypeError, match="X mixes SpectrogramRecord items with "
                                                    "other items"):
        oracle.predict([records[0], X[1]], Y)


# -- silence, silent sources and clipping never give NaN -----------------------------------------


@pytest.fixture(scope="module")
def awkward(clean):
    """A normal clip, one whose vocals are silent, one all silent, one clipping hard."""
    _, Y = clean
    silent_vocals = np.stack([np.zeros(N, np.float32), Y[1][1]])
    loud = np.clip(40 * Y[0], -1, 1).astype(np.float32)
    Y_awkward = [Y[0], silent_vocals, np.zeros((2, N), np.float32), loud]
    return [y.sum(0) for y in Y_awkward], Y_awkward


@pytest.mark.parametrize("name", separator_names())
def test_silence_and_clipping_give_finite_masks_and_scores(name, awkward):
    X, Y = awkward
    est = make(name, validation_fraction=0.0) if name in neural_separator_names() \
        else make(name)
    est.fit(X, Y)  # training on silence and clipping must not blow up either
    if name in neural_separator_names():
        assert np.all(np.isfinite(est.history_[:, "train_loss"]))
    very_loud = [1000.0 * X[0]]  # float audio far past full scale
    for clips, sources in ((X, Y), (very_loud, [1000.0 * Y[0]])):
        if is_oracle(name):
            estimates = est.predict(clips, sources)
        else:
            masks = est.predict_masks(clips)
            assert all(np.all(np.isfinite(m)) and m.min() >= 0 and m.max() <= 1 + 1e-6
                       for m in masks)
            estimates = est.predict(clips)
        assert all(np.all(np.isfinite(e)) for e in estimates)
    np.testing.assert_array_equal(_predict(est, name, X[2:3], Y[2:3])[0], 0)
    assert np.isfinite(est.score(X, Y))
    # museval gives NaN for a silent reference: the report leaves such entries out.
    kept = [0, 1, 3]  # the all-silent clip has nothing to score at all
    report = separation_report([Y[i] for i in kept],
                               [_predict(est, name, X[i:i + 1], Y[i:i + 1])[0] for i in kept],
                               [X[i] for i in kept], source_names=["vocals", "accompaniment"])
    values = [v for source in report.values() for v in source.values()]
    assert len(values) == 8 and np.all(np.isfinite(values)), report


# -- model files --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dc_file(clean, tmp_path_factory):
    est = make("DeepClusteringSeparator").fit(*clean)
    return est.save(tmp_path_factory.mktemp("models") / "dc.sksep")


class TestModelFiles:
    def test_file_of_another_estimator(self, dc_file):
        match = r"holds a DeepClusteringSeparator, not a ChimeraSeparator"
        with pytest.raises(ModelFileError, match=match):
            ChimeraSeparator.load(dc_file)
        with pytest.raises(ModelFileError, match=match):
            load_estimator(dc_file, expected=ChimeraSeparator)
        assert isinstance(DeepClusteringSeparator.load(dc_file), DeepClusteringSeparator)
        assert isinstance(sksep.separators._base.BaseSeparator.load(dc_file), DeepClusteringSeparator)

    @pytest.mark.parametrize("content", ["zero-byte", "truncated", "audio", "text"])
    def test_corrupt_model_files(self, dc_file, tmp_path, content):
        path = tmp_path / "model.sksep"
        data = {"zero-byte": b"", "truncated": dc_file.read_bytes()[:2000],
                "text": b"{'not': 'a model'}"}.get(content)
        if content == "audio":
            sf.write(path, np.zeros(1600, np.float32), 16000, format="WAV")
        else:
            path.write_bytes(data)
        for load in (sksep.load, ChimeraSeparator.load):
            with pytest.raises(ModelFileError, match=r"model.sksep' is not a sksep model file"):
                load(path)

    def test_missing_model_file_and_folder(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"model file .*missing.sksep' does not exist"):
            ChimeraSeparator.load(tmp_path / "missing.sksep")
        with pytest.raises(ModelFileError, match="is a directory; expected a file"):
            sksep.load(tmp_path)


# -- files and folders ----------------------------------------------------------------------------


class TestFilesAndFolders:
    @pytest.fixture(scope="class")
    @classmethod
    def files(cls, tmp_path_factory):
        folder = tmp_path_factory.mktemp("files")
        sf.write(folder / "good.wav", np.full(4000, 0.1, np.float32), 16000)
        (folder / "zero.wav").write_bytes(b"")
        (folder / "notes.wav").write_text("these are not samples\n" * 10)
        (folder / "header-only.wav").write_bytes((folder / "good.wav").read_bytes()[:44])
        (folder / "id3-only.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10))
        sf.write(folder / "one-hertz.wav", np.full(4000, 0.1, np.float32), 1)
        (folder / "empty").mkdir()
        return folder

    @pytest.mark.parametrize("file, error, match", [
        ("missing.wav", FileNotFoundError, r"audio file .*missing.wav' does not exist"),
        ("zero.wav", InvalidInputError, r"zero.wav' is not a readable audio file"),
        ("notes.wav", InvalidInputError, r"notes.wav' is not a readable audio file \(Format not"),
        ("header-only.wav", InvalidInputError, r"header-only.wav' contains no audio samples"),
        ("id3-only.mp3", InvalidInputError, r"id3-only.mp3' holds no audio: only an ID3 tag"),
        ("one-hertz.wav", InvalidInputError, r"one-hertz.wav' declares a sample rate of 1 Hz in "
                                             r"its header; expected 1000 to 768000 Hz"),
        ("empty", InvalidInputError, r"empty' is a directory; expected an audio file"),
    ])
    def test_load_audio(self, files, file, error, match):
        with pytest.raises(error, match=match):
            load_audio(files / file)

    @pytest.mark.parametrize("loader, match", [
        (load_stems_folder, r"empty' has neither supported layout; expected MIR-1K style"),
        (load_musdb, r"empty' holds no song folders with stems; expected the layout"),
        (load_mir1k, r"no .wav files in .*empty'; expected a MIR-1K folder"),
    ])
    def test_folder_without_stems(self, files, loader, match):
        with pytest.raises(InvalidInputError, match=match):
            loader(files / "empty")
        with pytest.raises(FileNotFoundError, match=r"root=.*nowhere' does not exist"):
            loader(files / "nowhere")

    def test_song_folder_with_a_corrupt_stem(self, files, tmp_path):
        song = tmp_path / "songs" / "a song"
        song.mkdir(parents=True)
        for stem in ("mixture", "drums", "bass", "other"):
            sf.write(song / f"{stem}.wav", np.full(4000, 0.1, np.float32), 16000)
        (song / "vocals.wav").write_bytes((files / "notes.wav").read_bytes())
        with pytest.raises(InvalidInputError, match=r"vocals.wav' is not a readable audio file"):
            load_musdb(tmp_path / "songs")

    def test_remix_tools_refuse_integer_audio(self):
        pcm = np.zeros(16000, np.int16)
        with pytest.raises(InvalidAudioTypeError, match=r"audio has integer dtype int16"):
            remove_silence(pcm, 16000)
        with pytest.raises(InvalidAudioTypeError, match=r"integer dtype int16"):
            make_remix([pcm], [np.zeros(16000, np.float32)], n_clips=1)


# -- metrics ---------------------------------------------------------------------------------------


class TestMetrics:
    def test_signal_metrics(self):
        x = np.random.default_rng(0).standard_normal(100)
        with pytest.raises(InvalidInputError, match=r"reference contains 1 NaN or infinite"):
            si_sdr(_nan_at(x), x)
        with pytest.raises(InvalidInputError, match=r"reference has 100 samples .* estimate "
                                                    r"has 99"):
            si_sdr(x, x[:99])
        with pytest.raises(InvalidAudioTypeError, match=r"estimate has integer dtype int16"):
            si_sdr(x, x.astype(np.int16))
        with pytest.raises(InvalidInputError, match=r"mixture contains 1 NaN"):
            si_sdr_improvement(x, x, _nan_at(x))

    @pytest.mark.parametrize("metric", [mean_si_sdr_improvement, separation_report,
                                        mirex_globals])
    def test_clip_set_metrics(self, metric, clean):
        X, Y = clean
        with pytest.raises(InvalidInputError, match=r"Y_pred\[0\] has 1 sources; expected 2"):
            metric(Y, [y[:1] for y in Y], X)
        with pytest.raises(InvalidInputError, match=r"Y_pred\[1\] has 7999 samples but its "
                                                    r"mixture X\[1\] has 8000"):
            metric(Y, _with(Y, 1, Y[1][:, :-1]), X)
        with pytest.raises(InvalidInputError, match=r"Y_true\[0\] has shape \(8000, 2\), "
                                                    r"samples first"):
            metric([y.T for y in Y], Y, X)
        with pytest.raises(InvalidInputError, match=r"X\[0\] contains 1 NaN"):
            metric(Y, Y, _with(X, 0, _nan_at(X[0])))
        with pytest.raises(InvalidInputError, match=r"Y_true has 1 clips but X has 2"):
            metric(Y[:1], Y, X)

    def test_report_options(self, clean):
        X, Y = clean
        with pytest.raises(InvalidInputError, match=r"n_jobs=0 must be a nonzero integer"):
            separation_report(Y, Y, X, n_jobs=0)
        with pytest.raises(InvalidInputError, match=r"source_names=\['vocals'\] must be 2 "
                                                    r"strings, one per source"):
            separation_report(Y, Y, X, source_names=["vocals"], bss=False)


# -- command line ------------------------------------------------------------------------------------


def _cli(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "sksep", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300, check=False)


class TestCommandLine:
    def test_missing_and_unreadable_songs(self, tmp_path, dc_file):
        from sksep.cli import EXIT_BAD_INPUT
        (tmp_path / "notes.wav").write_text("these are not samples\n" * 10)
        model = ("--model", dc_file)
        missing = _cli("separate", "missing.wav", *model, "--out", "out", cwd=tmp_path)
        assert missing.returncode == EXIT_BAD_INPUT, missing.stderr
        assert "sksep: error: audio file 'missing.wav' does not exist" in missing.stderr
        unreadable = _cli("separate", "notes.wav", *model, "--out", "out", cwd=tmp_path)
        assert unreadable.returncode == EXIT_BAD_INPUT, unreadable.stderr
        assert "'notes.wav' is not a readable audio file" in unreadable.stderr
        assert "Traceback" not in missing.stderr + unreadable.stderr
        assert not (tmp_path / "out" / "notes").exists() or \
            not any((tmp_path / "out" / "notes").iterdir())
