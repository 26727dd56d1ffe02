"""The options of ``sksep separate`` and ``sksep evaluate`` added for issue 17, driven as a
user would (``python -m sksep`` in a subprocess) with the shipped model on one-second
clips: ``--stems``, ``--format``, ``--bit-depth``, a folder of songs, ``--device``,
``--high-band`` and ``evaluate --head``; each with its bad values answered by one plain
error line and a documented exit code, before anything is written. Then MUSDB18's
``.stem.mp4`` files in ``train``, ``evaluate`` and ``separate``, and the deep-clustering
head of four-stem models (``--jobs`` is in test_cli_jobs.py)."""

import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch

import sksep
from sksep.cli import EXIT_BAD_INPUT, EXIT_MISSING_PROGRAM, EXIT_OK, EXIT_USAGE, main
from test_cli import MIR1K_WAV, MUSDB_MIXTURE, sksep_cli
from test_datasets import needs_ffmpeg, synthetic_stems, write_stem_file

MODEL = "chimera-mir1k"

#: Run first in the subprocess: a libsndfile that cannot write MP3 (before 1.1.0).
NO_MP3 = """
import soundfile
_formats = soundfile.available_formats
soundfile.available_formats = lambda: {k: v for k, v in _formats().items() if k != "MP3"}
"""

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    """A folder of three one-second songs, one per sample encoding, beside a text file and
    a sub-folder whose song is not separated."""
    folder = tmp_path_factory.mktemp("options") / "album"
    (folder / "bonus").mkdir(parents=True)
    stereo, rate = sf.read(MUSDB_MIXTURE, frames=44100, dtype="float32")
    sf.write(folder / "float.wav", stereo, rate, subtype="FLOAT")
    sf.write(folder / "studio.flac", stereo, rate, subtype="PCM_24")
    clip, rate = sf.read(MIR1K_WAV / "annar_1_02.wav", frames=16000, dtype="float32")
    sf.write(folder / "mono.wav", clip.mean(axis=1), rate, subtype="PCM_16")
    sf.write(folder / "bonus" / "hidden track.wav", clip, rate)
    (folder / "notes.txt").write_text("lyrics\n")
    return folder


def _written(out):
    return sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())


def _assert_error(result, code, *parts):
    """Exit ``code`` with one plain error line (the last) holding ``parts``: ``sksep: error:``,
    or ``sksep separate: error:`` from the argument parser."""
    assert result.returncode == code, result.stderr
    error = result.stderr.splitlines()[-1]
    assert re.match(r"sksep( [a-z]+)?: error: ", error) and "Traceback" not in result.stderr
    for part in parts:
        assert part in error, result.stderr


class TestFolderStemsAndBitDepth:
    def test_folder_with_one_stem_keeps_each_songs_depth(self, album, tmp_path):
        out = tmp_path / "out"
        result = sksep_cli("separate", album, "--stems", "vocals", "--out", out, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert _written(out) == ["float/vocals.wav", "mono/vocals.wav", "studio/vocals.wav"]
        assert [sf.info(out / song / "vocals.wav").subtype for song in
                ("float", "studio", "mono")] == ["FLOAT", "PCM_24", "PCM_16"]
        info = sf.info(out / "float" / "vocals.wav")
        assert (info.samplerate, info.channels, info.frames) == (44100, 2, 44100)

    def test_flac_at_a_depth_it_holds(self, album, tmp_path):
        out = tmp_path / "out"
        result = sksep_cli("separate", album, "--stems", "accompaniment", "--format", "flac",
                           "--out", out, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert [sf.info(out / song / "accompaniment.flac").subtype for song in
                ("float", "studio", "mono")] == ["PCM_24", "PCM_24", "PCM_16"]
        result = sksep_cli("separate", album / "mono.wav", "--format", "flac", "--bit-depth",
                           "24", "--out", out / "deep", "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert sf.info(out / "deep" / "mono" / "vocals.flac").subtype == "PCM_24"

    def test_mp3(self, album, tmp_path):
        out = tmp_path / "out"
        result = sksep_cli("separate", album / "float.wav", "--format", "mp3", "--out", out,
                           "-q")
        assert result.returncode == EXIT_OK, result.stderr
        for stem in ("vocals", "accompaniment"):
            info = sf.info(out / "float" / f"{stem}.mp3")
            assert (info.format, info.samplerate, info.channels) == ("MP3", 44100, 2)

    @pytest.mark.parametrize("arguments, code, parts", [
        (["--stems", "drums"], EXIT_USAGE,
         ["--stems=['drums'] must name at least one of the model's sources vocals, "
          "accompaniment; unknown: drums"]),
        (["--stems", "vocals,"], EXIT_USAGE, ["'vocals,' must be comma-separated stem names"]),
        (["--format", "ogg"], EXIT_USAGE, ["invalid choice: 'ogg'"]),
        (["--bit-depth", "32"], EXIT_USAGE, ["invalid choice: '32'"]),
        (["--format", "flac", "--bit-depth", "float"], EXIT_USAGE,
         ["--bit-depth float: FLAC holds integer samples only"]),
        (["--format", "mp3", "--bit-depth", "16"], EXIT_USAGE,
         ["--bit-depth 16 applies to --format wav and flac"]),
    ])
    def test_bad_values(self, album, tmp_path, arguments, code, parts):
        result = sksep_cli("separate", album / "mono.wav", *arguments, "--out", tmp_path / "o")
        _assert_error(result, code, *parts)
        assert not (tmp_path / "o").exists()

    def test_libsndfile_without_mp3(self, album, tmp_path):
        result = sksep_cli("separate", album / "mono.wav", "--format", "mp3", "--out",
                           tmp_path / "o", prelude=NO_MP3)
        _assert_error(result, EXIT_MISSING_PROGRAM, "cannot write MP3 files",
                      "needs libsndfile 1.1.0 or newer")
        assert "separating" not in result.stderr and not (tmp_path / "o").exists()

    def test_folder_without_songs(self, tmp_path):
        (tmp_path / "empty" / "inner").mkdir(parents=True)
        (tmp_path / "empty" / "inner" / "song.wav").write_bytes(b"")
        (tmp_path / "empty" / "cover.jpg").write_bytes(b"")
        result = sksep_cli("separate", tmp_path / "empty", "--out", tmp_path / "o")
        _assert_error(result, EXIT_BAD_INPUT, "empty' holds no audio files",
                      "(sub-folders are not searched)")

    def test_folder_with_two_songs_of_one_name(self, album, tmp_path):
        folder = tmp_path / "twice"
        folder.mkdir()
        for name in ("song.wav", "song.flac"):
            sf.write(folder / name, np.zeros(16000, np.float32), 16000)
        result = sksep_cli("separate", folder, "--out", tmp_path / "o")
        _assert_error(result, EXIT_USAGE, "several songs would be written to the same folder")


class TestDeviceHeadAndHighBand:
    def test_options_reach_the_separation(self, album, tmp_path):
        song = album / "float.wav"
        stems = {}
        for head in ("mi", "dc"):
            result = sksep_cli("separate", song, "--model", MODEL, "--bit-depth", "float",
                               "--head", head,
                               "--high-band", "octave", "--device", "cpu", "--out",
                               tmp_path / head, "-q")
            assert result.returncode == EXIT_OK, result.stderr
            stems[head] = sf.read(tmp_path / head / "float" / "vocals.wav", dtype="float32",
                                  always_2d=True)[0].T
        octave, _ = sksep.separate(song, MODEL, high_band="octave")
        top, _ = sksep.separate(song, MODEL)
        np.testing.assert_allclose(stems["mi"], octave["vocals"], atol=1e-5)
        assert np.abs(stems["mi"] - top["vocals"]).max() > 1e-3  # top and octave differ
        # K-means can settle elsewhere with another thread count: only "not the mi head".
        assert np.abs(stems["dc"] - stems["mi"]).max() > 1e-2

    def test_wiener_iterations_reach_the_separation(self, album, tmp_path):
        song = album / "float.wav"
        result = sksep_cli("separate", song, "--model", MODEL, "--bit-depth", "float",
                           "--wiener-iterations", "1", "--out", tmp_path / "w", "-q")
        assert result.returncode == EXIT_OK, result.stderr
        written = sf.read(tmp_path / "w" / "float" / "vocals.wav", dtype="float32",
                          always_2d=True)[0].T
        filtered, _ = sksep.separate(song, MODEL, wiener_iterations=1)
        plain, _ = sksep.separate(song, MODEL)
        np.testing.assert_allclose(written, filtered["vocals"], atol=1e-5)
        assert np.abs(filtered["vocals"] - plain["vocals"]).max() > 1e-4

    @pytest.mark.parametrize("value", ["11", "-1", "two"])
    def test_bad_wiener_iterations(self, album, tmp_path, value):
        result = sksep_cli("separate", album / "mono.wav", "--wiener-iterations", value,
                           "--out", tmp_path / "o")
        _assert_error(result, EXIT_USAGE, "argument --wiener-iterations")
        assert not (tmp_path / "o").exists()

    @no_cuda
    @pytest.mark.parametrize("command", ["separate", "evaluate"])
    def test_missing_cuda(self, album, tmp_path, command):
        arguments = ([album / "mono.wav", "--out", tmp_path / "o"] if command == "separate"
                     else ["--model", MODEL, album])
        result = sksep_cli(command, *arguments, "--device", "cuda")
        _assert_error(result, EXIT_USAGE, "device='cuda' is not available on this machine")
        assert not (tmp_path / "o").exists()

    def test_unknown_device(self, album):
        result = sksep_cli("separate", album / "mono.wav", "--device", "tpu")
        _assert_error(result, EXIT_USAGE, "argument --device: invalid choice: 'tpu'")

    def test_evaluate_with_the_dc_head(self, tmp_path):
        clip, rate = sf.read(MIR1K_WAV / "annar_1_01.wav", frames=32000, dtype="float32")
        sf.write(tmp_path / "annar_1_01.wav", clip, rate)  # a test singer, MIR-1K layout
        scores = {}
        for head in ("mi", "dc"):
            result = sksep_cli("evaluate", "--model", MODEL, tmp_path, "--head", head,
                               "--no-bss", "-q")
            assert result.returncode == EXIT_OK, result.stderr
            scores[head] = [line for line in result.stdout.splitlines()
                            if line.startswith("| annar_1_01")]
            assert len(scores[head]) == 2, result.stdout
        assert scores["mi"] != scores["dc"]


#: Tiny four-stem networks, trained in a second (``sksep train`` options).
TINY_FOUR = ["--sources", "vocals,drums,bass,other", "--epochs", "1", "--segment-frames", "16",
             "--batch-size", "4", "--hidden-size", "8", "--layers", "1", "--embedding-dim", "4"]

#: What ``separate --head dc`` says of a four-stem model.
UNNAMED = ("with its deep-clustering head, and its K-means clusters get names for two "
           "sources only")


@pytest.fixture(scope="module")
def stem_files(tmp_path_factory):
    """A MUSDB18-style folder of two 2-second ``.stem.mp4`` songs of synthetic stems."""
    folder = tmp_path_factory.mktemp("musdb18") / "train"
    rng = np.random.default_rng(0)
    for name in ("Song A", "Song B"):
        stems = {source: (audio * rng.uniform(0.5, 1.5)
                          + 0.01 * rng.standard_normal(audio.shape)).astype(np.float32)
                 for source, audio in synthetic_stems(seconds=2.0).items()}
        write_stem_file(folder / f"{name}.stem.mp4", stems)
    return folder


@pytest.fixture(scope="module")
def four_stems(stem_files, tmp_path_factory):
    """A tiny four-stem Chimera (alpha 0.1) trained with ``sksep train`` on the stem files."""
    path = tmp_path_factory.mktemp("four") / "four.sksep"
    assert main(["train", str(stem_files), "--out", str(path), "-q", *TINY_FOUR]) == EXIT_OK
    return path


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """One second of the synthetic stems' mixture, at 16 kHz."""
    path = tmp_path_factory.mktemp("song") / "song.wav"
    sf.write(path, np.sum(list(synthetic_stems(seconds=1.0, rate=16000).values()), axis=0).T,
             16000)
    return path


@needs_ffmpeg
class TestStemFiles:
    def test_train_reads_them(self, four_stems):
        model = sksep.load(four_stems)
        assert model.source_names_ == ("vocals", "drums", "bass", "other")
        assert model.n_sources_ == 4 and model.grid_.sample_rate == 16000

    def test_evaluate_reads_them(self, stem_files, four_stems, tmp_path):
        report = tmp_path / "scores.json"
        result = sksep_cli("evaluate", "--model", four_stems, stem_files, "--no-bss",
                           "--out-json", report, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        scores = json.loads(report.read_text())
        assert scores["layout"] == "musdb" and scores["n_clips"] == 2
        assert scores["permutation_invariant"] is False
        assert [(clip["clip"], clip["source"]) for clip in scores["clips"]][:4] == [
            ("Song A", source) for source in ("vocals", "drums", "bass", "other")]

    def test_separate_names_the_folder_without_stem(self, stem_files, four_stems, tmp_path):
        out = tmp_path / "out"
        result = sksep_cli("separate", stem_files / "Song A.stem.mp4", "--model", four_stems,
                           "--out", out, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert _written(out) == [f"Song A/{source}.wav"
                                 for source in ("bass", "drums", "other", "vocals")]
        info = sf.info(out / "Song A" / "vocals.wav")
        assert (info.samplerate, info.channels) == (44100, 2)
        assert abs(info.frames - 88200) <= 2048  # the mixture stream, AAC-padded


class TestFourStemsWithTheDeepClusteringHead:
    """K-means clusters have names for two sources only: ``separate`` refuses the DC head of
    a four-stem model rather than write the drums into bass.wav; ``evaluate`` matches the
    clusters to the true stems (permutation-invariant scores)."""

    @needs_ffmpeg
    def test_separate_refuses_head_dc(self, four_stems, song, tmp_path, capsys):
        out = tmp_path / "out"
        assert main(["separate", str(song), "--model", str(four_stems), "--head", "dc",
                     "--out", str(out)]) == EXIT_USAGE
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert error.startswith(f"sksep: error: --head dc: model '{four_stems}' separates 4 "
                                f"sources (vocals, drums, bass, other) {UNNAMED}")
        assert "expected --head mi, or `sksep evaluate --head dc`" in error
        assert not out.exists()
        assert main(["separate", str(song), "--model", str(four_stems), "--head", "mi",
                     "--out", str(out), "-q"]) == EXIT_OK
        assert _written(out) == [f"song/{source}.wav"
                                 for source in ("bass", "drums", "other", "vocals")]

    @needs_ffmpeg
    def test_evaluate_matches_clusters_to_the_stems(self, stem_files, four_stems, tmp_path):
        report = tmp_path / "scores.json"
        result = sksep_cli("evaluate", "--model", four_stems, stem_files, "--head", "dc",
                           "--no-bss", "--out-json", report)
        assert result.returncode == EXIT_OK, result.stderr
        assert ("note: the deep-clustering head does not name the clusters of 4 sources; "
                "each clip's clusters are matched to the true stems") in result.stderr
        assert json.loads(report.read_text())["permutation_invariant"] is True

    def test_a_model_with_unnamed_clusters_is_refused(self, song, tmp_path, capsys):
        folder = tmp_path / "songs"
        rng = np.random.default_rng(1)
        for name in ("a", "b"):  # MUSDB-style song folders
            (folder / name).mkdir(parents=True)
            for source, audio in synthetic_stems(seconds=2.0, rate=16000).items():
                noisy = audio + 0.01 * rng.standard_normal(audio.shape)
                sf.write(folder / name / f"{source}.wav", noisy.T, 16000)
        path = tmp_path / "dc.sksep"
        assert main(["train", str(folder), "--out", str(path), "--estimator", "dc", "--param",
                     "cluster_naming=None", *TINY_FOUR]) == EXIT_OK
        assert ("note: this model separates with K-means clusters that have no names for 4 "
                "sources: `sksep separate` refuses it") in capsys.readouterr().err
        out = tmp_path / "out"
        assert main(["separate", str(song), "--model", str(path), "--out",
                     str(out)]) == EXIT_BAD_INPUT
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert UNNAMED in error
        assert "its stems would be written under arbitrary names" in error
        assert not out.exists()


def test_version_and_help_import_no_heavy_package():
    """``sksep --version`` and ``--help`` answer without importing torch, librosa,
    scikit-learn, skorch or matplotlib (the public names are imported on first use)."""
    import subprocess
    import sys
    for flag in ("--version", "--help"):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "sksep", flag],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                    for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert not imported & {"torch", "librosa", "sklearn", "skorch", "matplotlib"}, flag
