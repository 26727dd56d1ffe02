"""Files a hostile or careless user hands the commands (issue 32): what stands at an
output (a device, a pipe, a socket, a folder, a link to one), input that is not a
regular file or is damaged, names too long for the file system, two runs writing the
same folder, a ``--jobs`` run whose command is killed, and interrupted runs.

Each case runs ``python -m sksep`` in a subprocess as a user would, or calls the public
API; devices, pipes and sockets are made inside the test's own folder, never in
``/dev``. Timeouts guard against hangs only: a case waits as long as it takes.
"""

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sksep
import sksep.separation
from sksep._atomic import remove_stale_temporaries
from sksep.audio_io import AudioReader, AudioWriter, load_audio, save_audio
from sksep.cli import (EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_EXISTS, EXIT_INTERRUPTED, EXIT_OK,
                       EXIT_TERMINATED)
from sksep.exceptions import DamagedAudioWarning, InvalidInputError, OutputLocationError
from sksep.separation import separate_to_files
from test_cli import MIR1K_WAV, cli_environment, sksep_cli, sksep_command
from test_cli_hardening import QUICK_SEPARATION, WRITE_THEN_WAIT

MODEL = "chimera-mir1k"

#: Longest a command that must fail at once may take: only against a hang.
HANG_GUARD = 60

#: Run first in the subprocess: the first stem's first block is written to its temporary
#: file, named in the marker file, and the run then waits until the file GO exists.
WRITE_THEN_WAIT_FOR_GO = QUICK_SEPARATION + """
import os, pathlib, time, sksep.audio_io
_write = sksep.audio_io.AudioWriter.write
def _write_then_wait(self, audio):
    _write(self, audio)
    marker = pathlib.Path(os.environ["MARKER"])
    if marker.exists():
        return
    marker.with_suffix(".part").write_text(os.path.abspath(self._staging))
    marker.with_suffix(".part").replace(marker)  # the test never reads half a name
    while not pathlib.Path(os.environ["GO"]).exists():
        time.sleep(0.1)
sksep.audio_io.AudioWriter.write = _write_then_wait
"""

#: A module the ``--jobs`` workers import (its folder is on PYTHONPATH): no model is
#: loaded; the song named "idle" ends at once (its worker then waits for work), the
#: others never end; each names its worker's process id in a marker file.
JOBS_PROBE = """
import os, pathlib, time

def setup(*args):
    pass

def task(item):
    song = pathlib.Path(item[0])
    marker = pathlib.Path(os.environ["MARKERS"]) / f"{song.stem}.{os.getpid()}"
    marker.with_suffix(".part").write_text("")
    marker.with_suffix(".part").replace(marker)
    if song.stem != "idle":
        time.sleep(3600)
"""

#: Run first in the command: its ``--jobs`` workers run :data:`JOBS_PROBE`'s task.
PROBED_JOBS = """
import sksep.cli._jobs, jobs_probe
_run_in_processes = sksep.cli._jobs.run_in_processes
def _probed(task, items, **options):
    return _run_in_processes(jobs_probe.task, items, **{**options, "setup": jobs_probe.setup,
                                                        "setup_args": ()})
sksep.cli._jobs.run_in_processes = _probed
"""


@pytest.fixture(scope="module")
def clip():
    """One second of a MIR-1K mixture, mono 16 kHz."""
    audio, rate = sf.read(MIR1K_WAV / "annar_1_02.wav", dtype="float32", frames=16000)
    return audio.sum(axis=1) / 2, rate


@pytest.fixture
def song(tmp_path, clip):
    path = tmp_path / "song.wav"
    sf.write(path, *clip)
    return path


@pytest.fixture
def stems_dir(tmp_path):
    """A MIR-1K-style folder of one test clip, for ``evaluate`` and ``train``."""
    folder = tmp_path / "data"
    folder.mkdir()
    audio, rate = sf.read(MIR1K_WAV / "annar_1_02.wav", dtype="float32", frames=32000)
    sf.write(folder / "annar_1_02.wav", audio, rate)
    return folder


@pytest.fixture(scope="module")
def model():
    return sksep.load(MODEL)


def _files(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _error_line(stderr, *parts):
    """The one error line, the last of stderr, holding ``parts``; no raw Python error."""
    error = stderr.splitlines()[-1] if stderr.strip() else ""
    assert error.startswith("sksep: error: ") and stderr.count("sksep: error") == 1, stderr
    for part in parts:
        assert part in error, stderr
    for raw in ("Traceback", "Errno", "LibsndfileError", "OSError"):
        assert raw not in stderr, stderr
    return error


def _run(*args, cwd, input=None, timeout=HANG_GUARD, prelude=None):
    """``python -m sksep ARGS`` that must end within ``timeout`` seconds (a hang guard)."""
    return subprocess.run(sksep_command(*args, prelude=prelude), cwd=cwd, input=input,
                          capture_output=True, env=cli_environment(), timeout=timeout,
                          check=False, text=input is None)


# --- 1. --overwrite replaces regular files only --------------------------------------------

#: What the refusal calls each thing made by :func:`_make`.
KINDS = {"device": "a character device", "fifo": "a pipe (FIFO)", "socket": "a socket",
         "directory": "a directory", "link-to-device": "a link to a character device",
         "link-to-fifo": "a link to a pipe (FIFO)", "broken-link": "a broken link"}


def _make(kind, path):
    """Make ``kind`` at ``path``: a device node (skip where not permitted), a FIFO, a
    socket, a folder, or a link to one of those or to nothing."""
    if kind.startswith("link-to-"):
        real = path.with_name(f"real-{path.name}")
        _make(kind.removeprefix("link-to-"), real)
        path.symlink_to(real.name)
    elif kind == "broken-link":
        path.symlink_to("nothing-here")
    elif kind == "device":  # as /dev/full: major 1, minor 7
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        except OSError as error:
            pytest.skip(f"cannot make a device node here ({error}); needs root")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        # A socket's path is limited to about 100 bytes: bound by its name, in its folder.
        with _in_folder(path.parent), socket.socket(socket.AF_UNIX) as unix:
            unix.bind(path.name)
    elif kind == "directory":
        path.mkdir()
    return os.lstat(path)


@contextlib.contextmanager
def _in_folder(folder):
    """Run the block in ``folder`` (``contextlib.chdir`` is Python 3.11+)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _unchanged(path, before):
    after = os.lstat(path)
    assert (after.st_ino, after.st_mode, after.st_rdev) == (
        before.st_ino, before.st_mode, before.st_rdev), f"{path} was replaced"


def _refusal(kind, name):
    """What the error says about ``kind`` standing at ``name``."""
    if kind == "directory":
        return f"'{name}' is a directory; expected a file path"
    return (f"'{name}' is {KINDS[kind]}; expected a new file path or a regular file to "
            f"replace (only regular files are replaced, even with overwrite)")


class TestOnlyRegularFilesAreReplaced:
    @pytest.mark.parametrize("kind", list(KINDS))
    def test_evaluate_out_csv(self, tmp_path, stems_dir, kind):
        before = _make(kind, tmp_path / "scores.csv")
        result = _run("evaluate", "-q", "--model", MODEL, stems_dir, "--no-bss",
                      "--out-csv", "scores.csv", "--overwrite", cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, _refusal(kind, "scores.csv"))
        assert "pass --overwrite" not in result.stderr
        _unchanged(tmp_path / "scores.csv", before)

    def test_evaluate_without_overwrite_gives_no_overwrite_hint(self, tmp_path, stems_dir):
        before = _make("device", tmp_path / "devnode")
        result = _run("evaluate", "-q", "--model", MODEL, stems_dir, "--no-bss",
                      "--out-csv", "devnode", cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, _refusal("device", "devnode"))
        assert "overwrite to replace" not in result.stderr
        _unchanged(tmp_path / "devnode", before)

    @pytest.mark.parametrize("kind", ["device", "link-to-fifo"])
    def test_train_out(self, tmp_path, stems_dir, kind):
        before = _make(kind, tmp_path / "model.sksep")
        result = _run("train", stems_dir, "--out", "model.sksep", "--overwrite", "--epochs", "1",
                      "--hidden-size", "4", "--layers", "1", "--split", "all", cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, _refusal(kind, "model.sksep"))
        assert "training" not in result.stderr
        _unchanged(tmp_path / "model.sksep", before)

    def test_separate_stem_that_is_a_pipe(self, tmp_path, song):
        (tmp_path / "stems" / "song").mkdir(parents=True)
        before = _make("fifo", tmp_path / "stems" / "song" / "vocals.wav")
        result = _run("separate", song, "--model", MODEL, "--out", "stems", "--overwrite",
                      cwd=tmp_path, timeout=300)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, _refusal("fifo", "stems/song/vocals.wav"))
        assert "separating" not in result.stderr
        _unchanged(tmp_path / "stems" / "song" / "vocals.wav", before)
        assert _files(tmp_path / "stems") == ["song", "song/vocals.wav"]

    def test_a_file_where_a_folder_goes_is_named(self, tmp_path, song):
        (tmp_path / "stems").mkdir()
        _make("fifo", tmp_path / "stems" / "song")
        result = _run("separate", song, "--model", MODEL, "--out", "stems", cwd=tmp_path,
                      timeout=300)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, "'stems/song' is a pipe (FIFO); expected a folder to hold "
                                   "'stems/song/vocals.wav'")

    def test_regular_file_still_gets_the_hint(self, tmp_path, stems_dir):
        (tmp_path / "scores.csv").write_text("mine")
        result = _run("evaluate", "-q", "--model", MODEL, stems_dir, "--no-bss",
                      "--out-csv", "scores.csv", cwd=tmp_path)
        assert result.returncode == EXIT_EXISTS, result.stderr
        _error_line(result.stderr, "'scores.csv' already exists; pass --overwrite to replace it")

    @pytest.mark.parametrize("kind", list(KINDS))
    def test_api_writers(self, tmp_path, kind, monkeypatch, model, song):
        target = tmp_path / "target.wav"
        before = _make(kind, target)
        monkeypatch.setattr(sksep.separation, "separate_full_band",
                            lambda *args, **kwargs: pytest.fail("separated before refusing"))
        refused = _refusal(kind, target)
        writers = [
            lambda: save_audio(target, np.zeros(1600), 16000, overwrite=True),
            lambda: AudioWriter(target, 16000, 1, overwrite=True),
            lambda: separate_to_files(model, song, {"vocals": target}, overwrite=True),
            lambda: sksep.OracleMaskSeparator().fit(
                np.zeros((1, 4096), np.float32) + 0.1, np.full((1, 2, 4096), 0.05, np.float32)
            ).save(target, overwrite=True),
        ]
        for write in writers:
            with pytest.raises((OutputLocationError, InvalidInputError)) as error:
                write()
            assert str(target) in str(error.value)
            if kind != "directory":  # save_audio and AudioWriter word a folder their own way
                assert isinstance(error.value, OutputLocationError)
                assert str(error.value) == refused
            _unchanged(target, before)

    def test_api_replaces_a_link_not_what_it_leads_to(self, tmp_path):
        (tmp_path / "real.wav").write_bytes(b"the user's own file")
        (tmp_path / "link.wav").symlink_to("real.wav")
        with pytest.raises(FileExistsError, match="link.wav' already exists; pass overwrite"):
            save_audio(tmp_path / "link.wav", np.zeros(1600), 16000)
        save_audio(tmp_path / "link.wav", np.zeros(1600), 16000, overwrite=True)
        assert not (tmp_path / "link.wav").is_symlink()
        assert (tmp_path / "real.wav").read_bytes() == b"the user's own file"


# --- 4. input that is not a regular file, or is damaged -------------------------------------

def _corrupt_mp3(path, clip, *, damaged_bytes):
    """An MP3 of the clip (10 s) behind an ID3 tag, ``damaged_bytes`` of random bytes in
    its middle."""
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    audio, rate = clip
    sf.write(path, np.tile(audio, 10), rate, format="MP3")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + damaged_bytes] = np.random.default_rng(0).integers(
        0, 256, damaged_bytes, dtype=np.uint8).tobytes()
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)  # an empty ID3v2.4 tag
    path.write_bytes(tag + bytes(data))
    return path


class TestInputThatIsNotARegularFile:
    def test_fifo_as_the_song_never_hangs(self, tmp_path):
        os.mkfifo(tmp_path / "song.wav")  # nothing ever writes to it
        result = _run("separate", "song.wav", "--model", MODEL, cwd=tmp_path)
        assert result.returncode == EXIT_BAD_INPUT, result.stderr
        _error_line(result.stderr, "'song.wav' is a pipe (FIFO); expected a regular audio file "
                                   "(pipes, devices and standard input are not read: save the "
                                   "audio to a file first)")
        assert not (tmp_path / "separated").exists()

    @pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="needs /dev/stdin")
    def test_dev_stdin_with_a_wav_piped_in(self, tmp_path, song):
        result = _run("separate", "/dev/stdin", "--model", MODEL, cwd=tmp_path,
                      input=song.read_bytes())
        stderr = result.stderr.decode()
        assert result.returncode == EXIT_BAD_INPUT, stderr
        _error_line(stderr, "'/dev/stdin' is a link to a pipe (FIFO); expected a regular "
                            "audio file")
        assert "Format not recognised" not in stderr

    def test_dash_as_the_song(self, tmp_path, song):
        result = _run("separate", "-", "--model", MODEL, cwd=tmp_path, input=song.read_bytes())
        assert result.returncode == EXIT_BAD_INPUT, result.stderr.decode()
        _error_line(result.stderr.decode(), "audio file '-' does not exist (standard input is "
                                            "not read: save the audio to a file")

    def test_api_refuses_a_fifo_at_once(self, tmp_path):
        os.mkfifo(tmp_path / "song.wav")
        code = """if True:
            import sys
            from sksep.audio_io import AudioReader, file_subtype, load_audio
            print(file_subtype("song.wav"))
            for read in (load_audio, AudioReader):
                try:
                    read("song.wav")
                except ValueError as error:
                    print(type(error).__name__, error)
        """
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                                text=True, env=cli_environment(), timeout=HANG_GUARD, check=False)
        assert result.returncode == 0, result.stderr
        refusal = ("InvalidInputError 'song.wav' is a pipe (FIFO); expected a regular audio "
                   "file (pipes, devices and standard input are not read: save the audio to a "
                   "file first)")
        assert result.stdout.splitlines() == ["None", refusal, refusal]

    def test_corrupt_mp3_is_reported_as_corrupt(self, tmp_path, clip):
        _corrupt_mp3(tmp_path / "song.mp3", clip, damaged_bytes=4096)
        result = _run("separate", "song.mp3", "--model", MODEL, "-q", cwd=tmp_path, timeout=300)
        assert result.returncode == EXIT_BAD_INPUT, result.stderr
        _error_line(result.stderr, "'song.mp3' is not a readable audio file: its data is "
                                   "damaged, decoding failed in samples 0 to",
                    "(MP3 decoder: Illegal Audio-MPEG-Header", "expected an intact audio file")
        assert "ID3" not in result.stderr
        assert len(result.stderr.splitlines()) == 1  # no decoder noise
        assert not (tmp_path / "separated").exists()

    def test_corrupt_mp3_api(self, tmp_path, clip, capfd):
        path = _corrupt_mp3(tmp_path / "song.mp3", clip, damaged_bytes=4096)
        with pytest.raises(InvalidInputError, match=r"song.mp3' is not a readable audio file: "
                                                    r"its data is damaged, decoding failed "
                                                    r"\(MP3 decoder: Illegal Audio-MPEG-Header"):
            load_audio(path)
        assert capfd.readouterr().err == ""

    def test_mp3_with_frames_skipped_warns(self, tmp_path, clip, capfd):
        path = _corrupt_mp3(tmp_path / "song.mp3", clip, damaged_bytes=200)
        with pytest.warns(DamagedAudioWarning, match=r"song.mp3' is damaged: the MP3 decoder "
                                                     r"skipped data it could not decode "
                                                     r"\(Illegal Audio-MPEG-Header"):
            audio, _ = load_audio(path)
        assert 0 < len(audio) < 10 * 16000
        assert capfd.readouterr().err == ""


# --- 5. names and paths too long ------------------------------------------------------------

@pytest.fixture(scope="module")
def long_named_model(tmp_path_factory, model):
    """The shipped model with its vocals named by 250 characters: a plain name."""
    path = tmp_path_factory.mktemp("models") / "long.sksep"
    names = model.source_names_
    model.source_names_ = ("v" * 250, "accompaniment")
    try:
        model.save(path, half=True)
    finally:
        model.source_names_ = names
    return path


class TestLongNames:
    @pytest.mark.parametrize("command", [
        ["separate", "song.wav", "--out", "o" * 300],
        ["evaluate", "--model", MODEL, "data", "--no-bss", "--out-csv", "o" * 300 + ".csv"],
        ["train", "data", "--out", "o" * 300 + ".sksep"],
    ])
    def test_name_over_the_limit(self, tmp_path, song, stems_dir, command):
        result = _run(*command, cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        error = _error_line(result.stderr, "bytes long; expected at most",
                            "the file system's limit", "choose a shorter name")
        assert "o" * 100 not in error  # abridged
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "song.wav"]

    @pytest.mark.parametrize("command", [
        ["separate", "song.wav", "--out", "d/" * 2100],
        ["train", "data", "--out", "d/" * 2100 + "model.sksep"],
    ])
    def test_path_over_the_limit(self, tmp_path, song, stems_dir, command):
        result = _run(*command, cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, "bytes long; expected at most",
                    "the system's limit for a path", "choose a shorter path")
        assert not (tmp_path / "d").exists()

    def test_model_with_a_long_source_name(self, tmp_path, song, long_named_model):
        result = _run("separate", song, "--model", long_named_model, "--out", "stems",
                      cwd=tmp_path, timeout=300)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _error_line(result.stderr, ".wav' is 254 bytes long; expected at most 226 (255 bytes, "
                                   "the file system's limit, less 29 for the name of the "
                                   "temporary file it is written through)")
        assert "separating" not in result.stderr
        assert not (tmp_path / "stems").exists()

    def test_api_refuses_before_separating(self, tmp_path, song, model, monkeypatch):
        monkeypatch.setattr(sksep.separation, "separate_full_band",
                            lambda *args, **kwargs: pytest.fail("separated before refusing"))
        with pytest.raises(OutputLocationError, match="is 304 bytes long; expected at most 226"):
            separate_to_files(model, song, {"vocals": tmp_path / ("v" * 300 + ".wav")})
        assert sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]


# --- 6. two runs writing the same folder ----------------------------------------------------

class TestConcurrentRuns:
    @pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")
    def test_a_live_runs_temporary_file_is_kept(self, tmp_path, song):
        marker, go = tmp_path / "writing", tmp_path / "go"
        command = ("separate", song, "--model", MODEL, "--out", "stems", "--overwrite")
        first = subprocess.Popen(
            sksep_command(*command, prelude=WRITE_THEN_WAIT_FOR_GO), cwd=tmp_path,
            env=cli_environment({"MARKER": str(marker), "GO": str(go)}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600  # only against a hang
        try:
            while not marker.exists() and first.poll() is None:
                assert time.monotonic() < deadline, "the first run never wrote its first block"
                time.sleep(0.1)
            assert first.poll() is None, first.communicate()
            temporary = Path(marker.read_text())
            assert temporary.name.startswith(f".vocals.wav.{first.pid}-")

            second = sksep_cli(*command, cwd=tmp_path, prelude=QUICK_SEPARATION)
            assert second.returncode == EXIT_OK, second.stderr
            assert "temporary file" not in second.stderr
            assert temporary.exists()

            go.write_text("")
            stdout, stderr = first.communicate(timeout=300)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == EXIT_OK, stderr
        assert "wrote stems/song/vocals.wav" in stdout
        assert _files(tmp_path / "stems") == ["song", "song/accompaniment.wav", "song/vocals.wav"]
        assert sf.info(tmp_path / "stems" / "song" / "vocals.wav").frames == 16000

    @pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")
    def test_only_temporaries_of_ended_processes_are_swept(self, tmp_path):
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                               capture_output=True, text=True, check=True)
        running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        try:
            names = {"ended": f".vocals.wav.{int(ended.stdout)}-0123456789ab.tmp",
                     "running": f".vocals.wav.{running.pid}-0123456789ab.tmp",
                     "mine": f".vocals.wav.{os.getpid()}-0123456789ab.tmp",
                     "earlier version": ".vocals.wav.0123456789ab.tmp",
                     "another target": f".vocals.flac.{int(ended.stdout)}-0123456789ab.tmp"}
            for name in names.values():
                (tmp_path / name).write_bytes(b"")
            removed = remove_stale_temporaries(tmp_path / "vocals.wav")
        finally:
            running.kill()
            running.wait()
        assert sorted(path.name for path in removed) == sorted(
            names[key] for key in ("ended", "mine", "earlier version"))
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [names["running"], names["another target"]])


# --- 7. --jobs workers end with their command ------------------------------------------------

def _running(pid):
    """Whether the process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


class TestJobsWorkers:
    @pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
    def test_workers_end_when_the_command_is_killed(self, tmp_path, clip):
        for name in ("busy", "idle"):
            sf.write(tmp_path / f"{name}.wav", *clip)
        (tmp_path / "jobs_probe.py").write_text(JOBS_PROBE)
        markers = tmp_path / "markers"
        markers.mkdir()
        path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
        # Output to a file, not a pipe: the workers hold its other end while they live.
        with open(tmp_path / "output.txt", "w") as output:
            command = subprocess.Popen(
                sksep_command("separate", "busy.wav", "idle.wav", "--jobs", "2", "--out",
                              "stems", prelude=PROBED_JOBS), cwd=tmp_path,
                env=cli_environment({"MARKERS": str(markers), "PYTHONPATH": path}),
                stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600  # only against a hang
        try:
            while len(list(markers.glob("*.[0-9]*"))) < 2 and command.poll() is None:
                assert time.monotonic() < deadline, "the workers never started their songs"
                time.sleep(0.1)
            assert command.poll() is None, (tmp_path / "output.txt").read_text()
            workers = {marker.stem: int(marker.suffix[1:]) for marker in markers.iterdir()}
            assert sorted(workers) == ["busy", "idle"]
            assert all(_running(pid) for pid in workers.values())
        finally:
            command.kill()  # SIGKILL: the command cannot end its workers itself
            command.wait()
        deadline = time.monotonic() + 120  # only against a hang: they end in about a second
        try:
            while any(_running(pid) for pid in workers.values()):
                assert time.monotonic() < deadline, f"workers {workers} outlived their command"
                time.sleep(0.2)
        finally:
            for pid in filter(_running, workers.values()):  # a failed test leaves none
                os.kill(pid, signal.SIGKILL)


# --- 13. interrupted runs and truncated songs -----------------------------------------------

class TestInterruptedRuns:
    @pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
    @pytest.mark.parametrize("signum, code", [(signal.SIGTERM, EXIT_TERMINATED),
                                              (signal.SIGINT, EXIT_INTERRUPTED)])
    def test_no_empty_folder_is_left(self, tmp_path, song, signum, code):
        (tmp_path / "stems").mkdir()  # the user's: kept
        (tmp_path / "stems" / "notes.txt").write_text("mine")
        marker = tmp_path / "writing"
        process = subprocess.Popen(
            sksep_command("separate", song, "--model", MODEL, "--out", "stems/new/deeper",
                          prelude=WRITE_THEN_WAIT),
            cwd=tmp_path, env=cli_environment({"MARKER": str(marker)}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # Python ignores SIGINT for good when it starts with it ignored (a background job)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 600  # only against a hang
        try:
            while not marker.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the first stem was never written"
                time.sleep(0.1)
            assert process.poll() is None, process.communicate()
            assert (tmp_path / "stems" / "new" / "deeper" / "song").is_dir()
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == code, stderr
        assert _files(tmp_path / "stems") == ["notes.txt"]


def _truncated(path, clip):
    """A WAV file cut in half after it was written: its header announces the whole clip."""
    sf.write(path, *clip)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path, (len(data) // 2 - 44) // 2  # 16-bit mono samples after a 44-byte header


class TestTruncatedSongs:
    def test_separate_warns(self, tmp_path, clip):
        _, held = _truncated(tmp_path / "cut.wav", clip)
        result = sksep_cli("separate", "cut.wav", "--model", MODEL, "-q", cwd=tmp_path,
                           prelude=QUICK_SEPARATION)
        assert result.returncode == EXIT_OK, result.stderr
        assert result.stderr.splitlines() == [
            f"sksep: warning: 'cut.wav' is truncated: its header announces 16000 samples "
            f"(1.00 s) and the file holds {held} ({held / 16000:.2f} s); only those are used "
            f"(an incomplete copy or download?)"]
        assert sf.info(tmp_path / "separated" / "cut" / "vocals.wav").frames == held

    def test_separate_jobs_warns(self, tmp_path, clip):
        _truncated(tmp_path / "cut.wav", clip)
        sf.write(tmp_path / "whole.wav", *clip)
        result = sksep_cli("separate", "cut.wav", "whole.wav", "--model", MODEL, "--jobs", "2",
                           "-q", cwd=tmp_path)
        assert result.returncode == EXIT_OK, result.stderr
        warned = [line for line in result.stderr.splitlines() if "warning" in line]
        assert len(warned) == 1 and warned[0].startswith(
            "sksep: warning: 'cut.wav' is truncated: its header announces 16000 samples"), \
            result.stderr

    def test_api_warns(self, tmp_path, clip):
        path, held = _truncated(tmp_path / "cut.wav", clip)
        message = rf"cut.wav' is truncated: its header announces 16000 samples \(1.00 s\) " \
                  rf"and the file holds {held}"
        with pytest.warns(DamagedAudioWarning, match=message):
            audio, _ = load_audio(path)
        assert len(audio) == held
        with pytest.warns(DamagedAudioWarning, match=message):
            AudioReader(path).close()
        with warnings.catch_warnings():
            warnings.simplefilter("error", DamagedAudioWarning)
            load_audio(MIR1K_WAV / "annar_1_02.wav")  # a whole file: no warning
