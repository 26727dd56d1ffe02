"""``sksep separate --jobs N``: songs separated in N spawned worker processes, driven as a
user would (``python -m sksep`` in a subprocess) with the shipped model on short songs.

The output must be the same as one song at a time (to float tolerance: one thread
instead of several), errors and exit codes too, and Ctrl-C or SIGTERM must end every
worker and leave no partial file. :func:`sksep.cli._jobs.run_in_processes` itself is
checked with small tasks defined here (workers import them by name).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sksep.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, main
from sksep.cli._jobs import run_in_processes
from test_cli import cli_environment, sksep_cli, sksep_command
from test_cli_train import DEFAULT_SIGINT  # the runner may have been started ignoring SIGINT

MODEL = "chimera-mir1k"


def _song(path, seconds, seed, rate=44100):
    """A stereo float WAV: a tone and noise, different on each channel."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    audio = np.stack([0.3 * np.sin(2 * np.pi * (220 + 50 * seed) * t),
                      0.2 * np.sin(2 * np.pi * 440 * t)], axis=1)
    audio += 0.05 * rng.standard_normal(audio.shape)
    sf.write(path, audio.astype(np.float32), rate, subtype="FLOAT")
    return path


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    """Two songs of 1.5 s."""
    folder = tmp_path_factory.mktemp("jobs") / "album"
    folder.mkdir()
    for seed, name in enumerate(("first", "second")):
        _song(folder / f"{name}.wav", 1.5, seed)
    return folder


@pytest.fixture(scope="module")
def long_album(tmp_path_factory):
    """Three songs of 30 s, which take a worker seconds each: time to interrupt it."""
    folder = tmp_path_factory.mktemp("jobs") / "long"
    folder.mkdir()
    for seed in range(3):
        _song(folder / f"song{seed}.wav", 30.0, seed)
    return folder


def _stems(out):
    return {str(path.relative_to(out)): sf.read(path, dtype="float32")[0]
            for path in sorted(out.rglob("*.wav"))}


def _last_error(result):
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


class TestJobs:
    def test_same_stems_as_one_at_a_time(self, album, tmp_path):
        runs = {}
        for jobs in (1, 2):
            out = tmp_path / f"jobs{jobs}"
            result = sksep_cli("separate", album, "--jobs", jobs, "--out", out)
            assert result.returncode == EXIT_OK, result.stderr
            runs[jobs] = _stems(out), result
        (one, single), (two, parallel) = runs[1], runs[2]
        assert sorted(one) == sorted(two) == [
            "first/accompaniment.wav", "first/vocals.wav",
            "second/accompaniment.wav", "second/vocals.wav"]
        for name in one:
            assert one[name].shape == (66150, 2)
            assert np.allclose(one[name], two[name], atol=1e-5), name
        assert "separating 2 songs in 2 processes, one thread each" in parallel.stderr
        assert "processes" not in single.stderr
        # Whole lines, whatever order the workers finish in.
        assert (sorted(parallel.stdout.replace("jobs2", "jobs1").splitlines())
                == sorted(single.stdout.splitlines()))
        assert all(line.startswith("wrote ") and line.endswith(".wav")
                   for line in parallel.stdout.splitlines())

    @pytest.mark.parametrize("value, problem", [
        ("0", "'0' must be a positive integer: the number of songs separated at once "
              "(1: one at a time)"),
        ("-3", "'-3' must be a positive integer"),
        ("two", "'two' is not an integer"),
    ])
    def test_bad_values(self, album, tmp_path, capsys, value, problem):
        with pytest.raises(SystemExit) as exited:
            main(["separate", str(album), "--jobs", value, "--out", str(tmp_path / "o")])
        assert exited.value.code == 2
        assert f"sksep separate: error: argument --jobs/-j: {problem}" in capsys.readouterr().err
        assert not (tmp_path / "o").exists()

    def test_one_song_needs_no_process(self, album, tmp_path, capsys):
        out = tmp_path / "o"
        assert main(["separate", str(album / "first.wav"), "--jobs", "4", "--out",
                     str(out)]) == EXIT_OK
        assert "processes" not in capsys.readouterr().err
        assert sorted(_stems(out)) == ["first/accompaniment.wav", "first/vocals.wav"]

    def test_one_song_has_its_blocks_separated_in_jobs(self, album, tmp_path, monkeypatch):
        from sksep import separation
        seen = []
        real = separation.separate_to_files

        def spy(*args, **kwargs):
            seen.append(kwargs.get("n_jobs"))
            return real(*args, **kwargs)

        monkeypatch.setattr(separation, "separate_to_files", spy)
        assert main(["separate", str(album / "first.wav"), "--jobs", "2", "--block-seconds",
                     "0.5", "--out", str(tmp_path / "two")]) == EXIT_OK
        assert main(["separate", str(album / "first.wav"), "--block-seconds", "0.5",
                     "--out", str(tmp_path / "one")]) == EXIT_OK
        assert seen == [2, 1]
        two, one = _stems(tmp_path / "two"), _stems(tmp_path / "one")
        assert sorted(two) == sorted(one)
        for name in one:
            np.testing.assert_allclose(two[name], one[name], atol=1e-4)

    def test_an_error_is_reported_as_one_at_a_time(self, album, tmp_path):
        folder = tmp_path / "songs"
        folder.mkdir()
        (folder / "a.wav").write_bytes((album / "first.wav").read_bytes())
        (folder / "b.wav").write_text("not audio")
        results = {jobs: sksep_cli("separate", folder, "--jobs", jobs, "--out",
                                   tmp_path / f"o{jobs}") for jobs in (1, 2)}
        for jobs, result in results.items():
            assert result.returncode == EXIT_BAD_INPUT, result.stderr
            assert sorted(_stems(tmp_path / f"o{jobs}")) == ["a/accompaniment.wav",
                                                              "a/vocals.wav"]
        assert _last_error(results[2]) == _last_error(results[1])
        assert _last_error(results[1]).startswith("sksep: error: ")
        assert "b.wav' is not a readable audio file" in _last_error(results[1])

    @pytest.mark.parametrize("target, signal_name, code, message", [
        ("command", "SIGINT", EXIT_INTERRUPTED, "sksep: interrupted"),
        ("group", "SIGINT", EXIT_INTERRUPTED, "sksep: interrupted"),  # Ctrl-C on a terminal
        ("command", "SIGTERM", EXIT_TERMINATED, "sksep: terminated"),
    ])
    def test_interrupted(self, long_album, tmp_path, target, signal_name, code, message):
        out = tmp_path / "out"
        process = subprocess.Popen(
            sksep_command("separate", long_album, "--jobs", "2", "--out", out,
                          prelude=DEFAULT_SIGINT),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli_environment(), start_new_session=True)
        try:
            started = []
            for line in process.stderr:  # both workers are separating
                started += [line] if line.startswith("separating '") else []
                if len(started) == 2:
                    break
            assert len(started) == 2
            if target == "group":
                os.killpg(process.pid, getattr(signal, signal_name))
            else:
                os.kill(process.pid, getattr(signal, signal_name))
            _, rest = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        assert process.returncode == code, rest
        assert rest.strip().splitlines()[-1] == message and "Traceback" not in rest
        left = [path for path in out.rglob("*")] if out.exists() else []
        assert not [path for path in left if path.name.startswith(".")], left
        for path in left:
            if path.is_file():  # a stem written before the signal is whole
                assert sf.info(path).frames == 30 * 44100
        _assert_no_process_left(process.pid)


def _assert_no_process_left(group, timeout=30.0):
    """Every process of the command's process group (its workers) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes of group {group} still run after {timeout:.0f} s")


# Tasks for run_in_processes: module level, so that the spawned workers import them.

def _note(folder):
    """Worker set-up: where the tasks write."""
    os.environ["SKSEP_TEST_FOLDER"] = str(folder)


def _record(item):
    """Write the worker's process id and torch thread count; item "b" fails at once,
    item "a" takes a second."""
    import torch

    if item == "b":
        raise ValueError("item 'b' is bad")
    if item == "a":
        time.sleep(1.0)
    Path(os.environ["SKSEP_TEST_FOLDER"], item).write_text(
        f"{os.getpid()} {torch.get_num_threads()}")


class TestRunInProcesses:
    def test_one_thread_per_worker(self, tmp_path):
        run_in_processes(_record, ["c", "d", "e"], jobs=2, setup=_note, setup_args=(tmp_path,))
        notes = [(tmp_path / item).read_text().split() for item in ("c", "d", "e")]
        assert {threads for _, threads in notes} == {"1"}
        assert {pid for pid, _ in notes} - {str(os.getpid())} == {pid for pid, _ in notes}

    def test_the_first_failure_stops_new_items(self, tmp_path):
        with pytest.raises(ValueError, match="item 'b' is bad"):
            run_in_processes(_record, ["a", "b", "c", "d"], jobs=2, setup=_note,
                             setup_args=(tmp_path,))
        # "a" was running and completed; nothing started after "b" failed.
        assert sorted(path.name for path in tmp_path.iterdir()) == ["a"]
