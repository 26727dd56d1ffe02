"""Tests for the ``sksep`` command line, driven as a user would: ``python -m sksep ...``.

A tiny model is trained once with ``sksep train`` on a temporary MIR-1K-style folder and
used by the other commands. The main runs of each command go through a subprocess
(``python -m sksep``, exit codes included); the quick error paths call
:func:`sksep.cli.main`, which returns the same exit codes, in-process, because starting
Python with torch costs several seconds per call.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import sksep
from sksep.cli import main

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
MIR1K_WAV = SHARED / "MIR-1K" / "Wavfile"
MUSDB_MIXTURE = SHARED / "MUSDB18-excerpts" / "AM Contra - Heart Peripheral" / "mixture.flac"

TRAIN_CLIPS = ("abjones_1_01", "abjones_1_02", "amy_1_01")  # Huang et al.'s training singers
TEST_CLIPS = ("annar_1_01",)  # a test singer, for `evaluate`


def sksep_command(*args, prelude=None):
    """The command line of ``python -m sksep ARGS``.

    ``prelude`` is Python code run first, in the same process (to stand in for what
    a test cannot make real, such as a full disk); the command then runs
    ``sksep.cli.main`` with the same arguments.
    """
    if prelude is None:
        return [sys.executable, "-m", "sksep", *map(str, args)]
    code = f"{prelude}\nfrom sksep.cli import main\nraise SystemExit(main())\n"
    return [sys.executable, "-c", code, *map(str, args)]


def cli_environment(env=None):
    return {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}


def sksep_cli(*args, env=None, cwd=None, prelude=None):
    """Run ``python -m sksep ARGS`` in a subprocess; returns the CompletedProcess."""
    return subprocess.run(sksep_command(*args, prelude=prelude), check=False,
                          capture_output=True, text=True, env=cli_environment(env), cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def stems_dir(workspace):
    """MIR-1K layout: 2-second stereo clips, accompaniment left, vocals right."""
    folder = workspace / "mir1k"
    folder.mkdir()
    for name in TRAIN_CLIPS + TEST_CLIPS:
        audio, rate = sf.read(MIR1K_WAV / f"{name}.wav", dtype="float32")
        sf.write(folder / f"{name}.wav", audio[rate:3 * rate], rate)
    return folder


@pytest.fixture(scope="module")
def tiny_model(workspace, stems_dir):
    path = workspace / "tiny.sksep"
    result = sksep_cli("train", stems_dir, "--out", path, "--epochs", 1, "--hidden-size", 8,
                       "--layers", 1)
    assert result.returncode == 0, result.stderr
    assert f"wrote {path}" in result.stdout
    return path


@pytest.fixture(scope="module")
def songs(workspace):
    """A mono 16 kHz WAV of odd length and a 5 s stereo 44.1 kHz FLAC."""
    audio, rate = sf.read(MIR1K_WAV / "annar_1_02.wav", dtype="float32")
    mono = workspace / "mono song.wav"
    sf.write(mono, 0.5 * audio[:3 * rate + 1].sum(axis=1), rate)
    excerpt, rate = sf.read(MUSDB_MIXTURE, frames=5 * 44100, dtype="float32")
    stereo = workspace / "stereo.flac"
    sf.write(stereo, excerpt, rate)
    return mono, stereo


@pytest.fixture(scope="module")
def separated(workspace, tiny_model, songs):
    out = workspace / "separated"
    result = sksep_cli("separate", *songs, "--model", tiny_model, "--out", out, "--plot",
                       "--quiet", "--block-seconds", 2)
    assert result.returncode == 0, result.stderr
    return out, result


class TestTrain:
    def test_model_file_loads(self, tiny_model):
        model = sksep.load(tiny_model)
        assert type(model).__name__ == "ChimeraSeparator"
        assert model.source_names_ == ("vocals", "accompaniment")
        assert model.get_params()["hidden_size"] == 8

    def test_bad_options(self, stems_dir, tmp_path, capsys):
        assert main(["train", str(stems_dir), "--out", str(tmp_path / "m.sksep"),
                     "--estimator", "dc", "--alpha", "0.5"]) == 2
        assert "--alpha applies to --estimator chimera only" in capsys.readouterr().err
        assert main(["train", str(tmp_path / "missing"), "--out",
                     str(tmp_path / "m.sksep")]) == 3
        assert "does not exist" in capsys.readouterr().err
        (tmp_path / "empty").mkdir()
        assert main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "m.sksep")]) == 3
        assert "has neither supported layout" in capsys.readouterr().err


class TestSeparate:
    def test_stems_have_the_songs_rate_channels_and_length(self, separated, songs):
        out, result = separated
        for song, (rate, channels, frames) in zip(songs, [(16000, 1, 48001),
                                                          (44100, 2, 5 * 44100)]):
            assert sf.info(song).frames == frames
            for source in ("vocals", "accompaniment"):
                info = sf.info(out / song.stem / f"{source}.wav")
                assert (info.samplerate, info.channels, info.frames) == (rate, channels, frames)
                assert f"wrote {out / song.stem / f'{source}.wav'}" in result.stdout
            assert (out / song.stem / "separation.png").read_bytes()[:4] == b"\x89PNG"
        assert "%|" not in result.stderr  # --quiet: no progress bars

    def test_stems_sum_to_the_mixture(self, separated, songs):
        out, _ = separated
        mixture, _ = sf.read(songs[0], dtype="float32")
        stems = [sf.read(out / songs[0].stem / f"{s}.wav", dtype="float32")[0]
                 for s in ("vocals", "accompaniment")]
        np.testing.assert_allclose(stems[0] + stems[1], mixture, atol=2e-4)  # 16-bit stems

    def test_refuses_to_overwrite_and_leaves_files_alone(self, separated, songs, tiny_model,
                                                          capsys):
        out, _ = separated
        files = sorted(p for p in out.rglob("*") if p.is_file())
        before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
        assert main(["separate", *map(str, songs), "--model", str(tiny_model), "--out",
                     str(out), "--plot"]) == 4
        error = capsys.readouterr().err
        assert error.startswith("sksep: error: ") and len(error.splitlines()) == 1
        assert "already exists; pass --overwrite to replace it" in error
        assert sorted(p for p in out.rglob("*") if p.is_file()) == files  # no temporary left
        assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before

    def test_overwrite_replaces(self, workspace, songs, tiny_model, capsys):
        out = workspace / "overwritten"
        target = out / songs[0].stem / "vocals.wav"
        target.parent.mkdir(parents=True)
        target.write_bytes(b"old")
        arguments = ["separate", str(songs[0]), "--model", str(tiny_model), "--out", str(out),
                     "-q"]
        assert main(arguments) == 4
        assert target.read_bytes() == b"old"
        assert main(arguments + ["--overwrite"]) == 0
        assert sf.info(target).frames == 48001
        assert not (out / songs[0].stem / "separation.png").exists()

    def test_unreadable_file(self, workspace, tiny_model, capsys):
        text = workspace / "notes.wav"
        text.write_text("not audio at all\n")
        assert main(["separate", str(text), "--model", str(tiny_model), "--out",
                     str(workspace / "unreadable"), "--quiet"]) == 3
        error = capsys.readouterr().err
        assert error.startswith("sksep: error: ") and "notes.wav" in error
        assert "is not a readable audio file" in error and len(error.splitlines()) == 1
        assert not (workspace / "unreadable" / "notes").exists()

    def test_missing_file(self, workspace, tiny_model, capsys):
        assert main(["separate", str(workspace / "nowhere.mp3"), "--model",
                     str(tiny_model)]) == 3
        assert "nowhere.mp3' does not exist" in capsys.readouterr().err

    def test_m4a_without_ffmpeg(self, workspace, tiny_model, songs):
        song = workspace / "song.m4a"
        if shutil.which("ffmpeg"):
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(songs[0]),
                            "-t", "1", str(song)], check=True)
        else:
            shutil.copy(songs[0], song)
        no_programs = workspace / "empty-bin"
        no_programs.mkdir()
        result = sksep_cli("separate", song, "--model", tiny_model, "--out",
                           workspace / "m4a", env={"PATH": str(no_programs)})
        assert result.returncode == 5, result.stderr
        assert "needs the ffmpeg program" in result.stderr and "Traceback" not in result.stderr
        assert not (workspace / "m4a").exists()

    def test_malicious_model_file_is_refused(self, workspace, songs, capsys):
        marker = workspace / "pwned"

        class Payload:  # unpickling it would create the marker file
            def __reduce__(self):
                return open, (str(marker), "w")

        model = workspace / "evil.sksep"
        torch.save({"format": "sksep-model", "format_version": 1, "weights": Payload()}, model)
        assert not marker.exists()
        assert main(["separate", str(songs[0]), "--model", str(model), "--out",
                     str(workspace / "evil")]) == 3
        assert "evil.sksep' was refused" in capsys.readouterr().err
        assert not marker.exists() and not (workspace / "evil").exists()

    def test_head_option(self, workspace, songs, tiny_model):
        out = workspace / "dc-head"
        assert main(["separate", str(songs[0]), "--model", str(tiny_model), "--head", "dc",
                     "--out", str(out), "-q"]) == 0
        assert sf.info(out / songs[0].stem / "vocals.wav").frames == 48001

    def test_int8_option_separates_like_the_float_model(self, workspace, songs, capsys):
        out = {}
        for flags in ([], ["--int8"]):
            out[bool(flags)] = workspace / f"int8-{bool(flags)}"
            assert main(["separate", str(songs[0]), "--out", str(out[bool(flags)]), "-q",
                         *flags]) == 0
        for stem in ("vocals", "accompaniment"):
            plain, _ = sf.read(out[False] / songs[0].stem / f"{stem}.wav", dtype="float32")
            int8, _ = sf.read(out[True] / songs[0].stem / f"{stem}.wav", dtype="float32")
            assert not np.array_equal(plain, int8)  # int8 layers did run
            assert sksep.metrics.si_sdr(plain, int8) > 20.0
        assert main(["separate", str(songs[0]), "--int8", "--device", "cuda", "--out",
                     str(workspace / "int8-cuda")]) == 2
        assert "--int8 runs the network on the CPU" in capsys.readouterr().err
        assert not (workspace / "int8-cuda").exists()

    @pytest.mark.parametrize("model", ["tiny", *sksep.available_models()])
    def test_each_available_model(self, workspace, songs, tiny_model, model):
        out = workspace / f"model-{model}"
        name = str(tiny_model) if model == "tiny" else model
        assert main(["separate", str(songs[0]), "--model", name, "--out", str(out), "-q"]) == 0
        assert sorted(p.name for p in (out / songs[0].stem).iterdir()) == [
            "accompaniment.wav", "vocals.wav"]


class TestEvaluate:
    def test_table_csv_and_json(self, workspace, stems_dir, tiny_model):
        csv_path, json_path = workspace / "scores.csv", workspace / "scores.json"
        result = sksep_cli("evaluate", "--model", tiny_model, stems_dir, "--out-csv", csv_path,
                           "--out-json", json_path, "--quiet")
        assert result.returncode == 0, result.stderr
        for heading in ("SI-SDRi", "SDR", "SIR", "SAR", "GNSDR", "GSIR", "GSAR", "annar_1_01"):
            assert heading in result.stdout
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["clip", "source", "n_samples", "seconds", "SI-SDRi", "SDR",
                                 "SIR", "SAR", "NSDR", "note"]
        assert [(r["clip"], r["source"]) for r in rows] == [("annar_1_01", "vocals"),
                                                            ("annar_1_01", "accompaniment")]
        assert all(np.isfinite(float(r[key])) for r in rows
                   for key in ("n_samples", "SI-SDRi", "SDR", "SIR", "SAR", "NSDR"))
        report = json.loads(json_path.read_text())
        assert report["source_names"] == ["vocals", "accompaniment"]
        assert report["split"] == "test" and report["n_clips"] == 1 and report["bss"] is True
        assert set(report["overall"]["vocals"]) == {"SI-SDRi", "GNSDR", "GSIR", "GSAR"}
        assert report["clips"][0]["SI-SDRi"] == pytest.approx(float(rows[0]["SI-SDRi"]),
                                                              abs=1e-3)

    def test_refuses_to_overwrite_reports(self, workspace, stems_dir, tiny_model, capsys):
        csv_path = workspace / "existing.csv"
        csv_path.write_text("keep me")
        assert main(["evaluate", "--model", str(tiny_model), str(stems_dir), "--out-csv",
                     str(csv_path), "--no-bss", "-q"]) == 4
        assert "existing.csv' already exists" in capsys.readouterr().err
        assert csv_path.read_text() == "keep me"

    def test_no_bss_and_split(self, stems_dir, tiny_model, capsys):
        assert main(["evaluate", "--model", str(tiny_model), str(stems_dir), "--no-bss",
                     "--split", "train", "--max-clips", "2", "-q"]) == 0
        output = capsys.readouterr().out
        assert "abjones_1_02" in output and "amy_1_01" not in output


class TestModelsAndHelp:
    def test_models(self, capsys):
        assert main(["models"]) == 0
        output = capsys.readouterr().out
        for name in sksep.available_models():
            assert name in output

    def test_models_json(self, capsys):
        assert main(["models", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == sksep.available_models()

    @pytest.mark.parametrize("command", [[], ["separate"], ["train"], ["evaluate"], ["models"]])
    def test_help(self, command, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "exit codes" in capsys.readouterr().out

    def test_bad_usage_exits_2(self, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main(["separate"])
        assert exit_info.value.code == 2
        with pytest.raises(SystemExit) as exit_info:
            main(["separate", "x.wav", "--block-seconds", "-1"])
        assert exit_info.value.code == 2
        assert "must be a positive number" in capsys.readouterr().err
