"""The command line's defences (issue 14): no output escapes ``--out``, every output
problem is found before any work, and odd input files get a plain message.

Each case runs ``python -m sksep`` in a subprocess as a user would, with the shipped
model on a one-second clip; a case that must fail before separating is shown to (no
``separating ...`` status line; in-process, a ``separate_to_files`` that fails the test
if called). Tests about writing skip the separation itself (``QUICK_SEPARATION``).
Two conditions cannot be made real in
a test: a full disk (writes are pointed at ``/dev/full``, which fails every write with
ENOSPC) and, as root, a read-only folder (root writes into it anyway, so those cases
also run in-process with ``os.access`` answering "read-only" for one folder).
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sksep
import sksep.separation
from sksep._atomic import remove_stale_temporaries
from sksep.cli import (EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE,
                       main)
from test_cli import MIR1K_WAV, cli_environment, sksep_cli, sksep_command

MODEL = "chimera-mir1k"
NON_UTF8 = os.fsdecode(b"caf\xe9")  # Latin-1 bytes: not valid UTF-8
STALE = ".vocals.wav.0123456789ab.tmp"  # as sksep._atomic names its temporary files

#: Run first in the subprocess: "separates" into silence at once, so that a test
#: about writing does not wait for a real separation.
QUICK_SEPARATION = """
import numpy as np, sksep.separation
sksep.separation.separate_full_band = lambda model, grid, block, rate, **options: (
    np.zeros((2,) + block.shape, np.float32))
"""

#: Run first in the subprocess: every stem's temporary file is a link to /dev/full,
#: where writes fail with ENOSPC as on a full disk (libsndfile: "System error.").
FULL_DISK = QUICK_SEPARATION + """
import sksep.audio_io
_reserve = sksep.audio_io.reserve_temporary
def _on_a_full_disk(path):
    temporary = _reserve(path)
    temporary.unlink()
    temporary.symlink_to("/dev/full")
    return temporary
sksep.audio_io.reserve_temporary = _on_a_full_disk
"""

#: Run first in the subprocess: the first stem is written to its temporary file, which
#: is named in the marker file, and the process then waits to be terminated.
WRITE_THEN_WAIT = QUICK_SEPARATION + """
import os, pathlib, time, sksep.audio_io
_write = sksep.audio_io.AudioWriter.write
def _write_then_wait(self, audio):
    _write(self, audio)
    marker = pathlib.Path(os.environ["MARKER"])
    marker.with_suffix(".part").write_text(os.path.abspath(self._staging))
    marker.with_suffix(".part").replace(marker)  # the test never reads half a name
    time.sleep(600)
sksep.audio_io.AudioWriter.write = _write_then_wait
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


def _files(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _read_only(monkeypatch, folder):
    """Make ``os.access`` report ``folder`` read-only, as it does for a user without rights."""
    access = os.access

    def fake(path, mode, *args, **kwargs):
        if Path(path) == folder and mode & os.W_OK:
            return False
        return access(path, mode, *args, **kwargs)
    monkeypatch.setattr(os, "access", fake)


def _refuse_to_separate(monkeypatch):
    def separate(*args, **kwargs):
        raise AssertionError("separated before the outputs were checked")
    monkeypatch.setattr(sksep.separation, "separate_file", separate)
    monkeypatch.setattr(sksep.separation, "separate_to_files", separate)


def _assert_one_plain_line(stderr, *parts):
    """The error is one line, the last (status lines may come before it), holding ``parts``."""
    error = stderr.splitlines()[-1]
    assert error.startswith("sksep: error: ") and stderr.count("sksep: error") == 1, stderr
    for part in parts:
        assert part in error, stderr
    for raw in ("Traceback", "Errno", ".tmp", "PermissionError", "LibsndfileError"):
        assert raw not in stderr, stderr


class TestSongFolders:
    @pytest.mark.parametrize("name, folder", [("...wav", ".."), ("..wav", ".")])
    def test_dotted_song_names_never_leave_out(self, tmp_path, clip, name, folder):
        sf.write(tmp_path / name, *clip, format="WAV")
        mine = tmp_path / "vocals.wav"
        mine.write_bytes(b"the user's own file")
        result = sksep_cli("separate", name, "--model", MODEL, "--out", "stems",
                           "--overwrite", cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _assert_one_plain_line(result.stderr, f"song '{name}' would be written to the folder "
                                              f"'{folder}' in --out; expected a file name that "
                                              f"makes a plain folder name")
        assert mine.read_bytes() == b"the user's own file"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "vocals.wav"])

    def test_song_folder_linked_outside_out(self, tmp_path, song, monkeypatch, capsys):
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (tmp_path / "stems").mkdir()
        (tmp_path / "stems" / "song").symlink_to(elsewhere)
        _refuse_to_separate(monkeypatch)
        assert main(["separate", str(song), "--model", MODEL, "--out",
                     str(tmp_path / "stems")]) == EXIT_CANNOT_WRITE
        _assert_one_plain_line(capsys.readouterr().err, "stems/song/vocals.wav' resolves to",
                               "outside --out", "expected every output inside --out")
        assert list(elsewhere.iterdir()) == []


@pytest.fixture(scope="module")
def separated(tmp_path_factory, clip):
    """A real run on a plain song and, where the file system allows it, a song whose
    name is not valid UTF-8; the plain song's folder holds a temporary file left by a
    killed run, and hidden files of other naming."""
    folder = tmp_path_factory.mktemp("separated")
    songs = [folder / "plain.wav"]
    sf.write(songs[0], *clip)
    try:
        songs.append(Path(shutil.copy(songs[0], folder / f"{NON_UTF8}.wav")))
    except (OSError, UnicodeError):
        pass  # file systems that hold only UTF-8 names (macOS) cannot have such a song
    leftovers = folder / "stems" / "plain"
    leftovers.mkdir(parents=True)
    for name in (STALE, ".vocals.wav.notours.tmp", ".accompaniment.wav.0123456789ab.tmp~"):
        (leftovers / name).write_bytes(b"left behind")
    result = sksep_cli("separate", *[song.name for song in songs], "--model", MODEL,
                       "--out", "stems", cwd=folder)
    return folder / "stems", songs, result


class TestSeparatedRun:
    def test_name_that_is_not_utf8(self, separated):
        out, songs, result = separated
        if len(songs) == 1:
            pytest.skip("this file system holds only UTF-8 file names")
        assert result.returncode == EXIT_OK, result.stderr
        assert "wrote stems/caf\\udce9/vocals.wav" in result.stdout
        assert sf.info(os.fsencode(out / NON_UTF8 / "vocals.wav")).frames == 16000

    def test_stale_temporary_files_are_removed(self, separated):
        out, _, result = separated
        assert result.returncode == EXIT_OK, result.stderr
        assert f"removed 1 temporary file left by an interrupted run: " \
               f"'stems/plain/{STALE}'" in result.stderr
        assert _files(out / "plain") == [".accompaniment.wav.0123456789ab.tmp~",
                                         ".vocals.wav.notours.tmp", "accompaniment.wav",
                                         "vocals.wav"]

    def test_only_our_temporary_files_are_removed(self, tmp_path):
        names = [STALE, ".vocals.wav.0123456789AB.tmp", ".vocals.wav.0123456789a.tmp",
                 ".vocals.flac.0123456789ab.tmp", "vocals.wav.0123456789ab.tmp"]
        for name in names:
            (tmp_path / name).write_bytes(b"")
        assert remove_stale_temporaries(tmp_path / "vocals.wav") == [tmp_path / STALE]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
        assert remove_stale_temporaries(tmp_path / "missing" / "vocals.wav") == []


class TestOutputsCheckedFirst:
    def test_out_is_a_file(self, tmp_path, song):
        (tmp_path / "stems").write_text("a file")
        result = sksep_cli("separate", song, "--model", MODEL, "--out", "stems", cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _assert_one_plain_line(result.stderr, "--out 'stems' is a file; expected a folder")
        assert (tmp_path / "stems").read_text() == "a file"

    def test_file_where_the_song_folder_goes(self, tmp_path, song):
        (tmp_path / "stems").mkdir()
        (tmp_path / "stems" / "song").write_text("a file")
        result = sksep_cli("separate", song, "--model", MODEL, "--out", "stems", "--overwrite",
                           cwd=tmp_path)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _assert_one_plain_line(result.stderr, "'stems/song' is a file; expected a folder to "
                                              "hold 'stems/song/vocals.wav'")
        assert "separating" not in result.stderr
        assert _files(tmp_path / "stems") == ["song"]

    def test_read_only_out(self, tmp_path, song, monkeypatch, capsys):
        out = tmp_path / "stems"
        out.mkdir()
        _read_only(monkeypatch, out)
        _refuse_to_separate(monkeypatch)
        assert main(["separate", str(song), "--model", MODEL, "--out", str(out)]) == \
            EXIT_CANNOT_WRITE
        _assert_one_plain_line(capsys.readouterr().err,
                               f"--out '{out}' is read-only; expected a writable folder")
        assert list(out.iterdir()) == []

    def test_read_only_song_folder(self, tmp_path, song, monkeypatch, capsys):
        folder = tmp_path / "stems" / "song"
        folder.mkdir(parents=True)
        _read_only(monkeypatch, folder)
        _refuse_to_separate(monkeypatch)
        assert main(["separate", str(song), "--model", MODEL, "--out",
                     str(tmp_path / "stems")]) == EXIT_CANNOT_WRITE
        _assert_one_plain_line(capsys.readouterr().err,
                               f"'{folder}' is read-only; expected a writable folder to hold "
                               f"'{folder / 'vocals.wav'}'")
        assert list(folder.iterdir()) == []

    @pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                        reason="root writes into read-only folders; test_read_only_out and "
                               "test_read_only_song_folder check the same code in-process")
    def test_read_only_folders_for_real(self, tmp_path, song):
        (tmp_path / "stems" / "song").mkdir(parents=True)
        for folder, expected in [(tmp_path / "stems" / "song", "'stems/song' is read-only"),
                                 (tmp_path / "stems", "--out 'stems' is read-only")]:
            folder.chmod(0o555)
            result = sksep_cli("separate", song, "--model", MODEL, "--out", "stems",
                               cwd=tmp_path)
            folder.chmod(0o755)
            assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
            _assert_one_plain_line(result.stderr, expected)
        assert _files(tmp_path / "stems") == ["song"]


class TestWriteFailures:
    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
    def test_full_disk(self, tmp_path, song):
        result = sksep_cli("separate", song, "--model", MODEL, "--out", "stems", cwd=tmp_path,
                           prelude=FULL_DISK)
        assert result.returncode == EXIT_CANNOT_WRITE, result.stderr
        _assert_one_plain_line(result.stderr, "the disk is full: 'stems/song/vocals.wav' was "
                                              "not written")
        assert not (tmp_path / "stems").exists()  # no temporary file, no empty folder

    @pytest.mark.skipif(os.name != "posix", reason="SIGTERM is a POSIX signal")
    def test_sigterm_removes_the_temporary_file(self, tmp_path, song):
        marker = tmp_path / "writing"
        process = subprocess.Popen(
            sksep_command("separate", song, "--model", MODEL, "--out", "stems",
                          prelude=WRITE_THEN_WAIT),
            cwd=tmp_path, env=cli_environment({"MARKER": str(marker)}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600  # only against a hang: waits as long as it takes
        try:
            while not marker.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the first stem was never written"
                time.sleep(0.1)
            assert process.poll() is None, process.communicate()
            temporary = Path(marker.read_text())
            assert temporary.name.startswith(".vocals.wav.") and temporary.exists()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == EXIT_TERMINATED, stderr
        assert stderr.strip().endswith("sksep: terminated")
        assert not (tmp_path / "stems").exists()  # no temporary file, no empty folder


class TestInputFiles:
    def test_header_with_a_one_hertz_rate(self, tmp_path, clip):
        sf.write(tmp_path / "slow.wav", clip[0][:3000], 1)
        result = sksep_cli("separate", "slow.wav", "--model", MODEL, "--out", "stems", "-q",
                           cwd=tmp_path)
        assert result.returncode == EXIT_BAD_INPUT, result.stderr
        _assert_one_plain_line(result.stderr, "'slow.wav' declares a sample rate of 1 Hz in "
                                              "its header; expected 1000 to 768000 Hz")
        assert not (tmp_path / "stems").exists()

    def test_mp3_that_is_only_an_id3_tag(self, tmp_path):
        (tmp_path / "tag.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10))
        result = sksep_cli("separate", "tag.mp3", "--model", MODEL, "--out", "stems", "-q",
                           cwd=tmp_path)
        assert result.returncode == EXIT_BAD_INPUT, result.stderr
        assert "sksep: error: 'tag.mp3' holds no audio: only an ID3 tag (MP3 metadata)" \
            in result.stderr
        assert "does not exist" not in result.stderr
        assert not (tmp_path / "stems").exists()

    def test_oracle_model(self, tmp_path, song):
        rng = np.random.default_rng(0)
        sources = rng.normal(scale=0.1, size=(1, 2, 16000)).astype(np.float32)
        sksep.OracleMaskSeparator().fit(sources.sum(axis=1), sources).save(
            tmp_path / "oracle.sksep")
        result = sksep_cli("separate", song, "--model", "oracle.sksep", "--out", "stems",
                           cwd=tmp_path)
        assert result.returncode == EXIT_BAD_INPUT, result.stderr
        _assert_one_plain_line(result.stderr, "model 'oracle.sksep' (OracleMaskSeparator) is an "
                                              "oracle separator, which needs the true sources",
                               "expected a trained model")
        assert "Y is None" not in result.stderr and not (tmp_path / "stems").exists()

    def test_song_name_starting_with_a_dash(self, tmp_path, clip):
        sf.write(tmp_path / "-dash.wav", *clip)
        result = sksep_cli("separate", "-dash.wav", cwd=tmp_path)
        assert result.returncode == EXIT_USAGE
        assert "the following arguments are required: SONG (a file name that starts with " \
               "'-' must follow '--', after every option: `-- -dash.wav`)" in result.stderr

    @pytest.mark.parametrize("arguments, hint", [
        (["separate", "a.wav", "-dash.wav"], True),
        (["separate"], False),
        (["separate", "--model", MODEL], False),
        (["separate", "a.wav", "--block-seconds", "-1"], False),
    ])
    def test_dash_hint_only_for_dashed_names(self, arguments, hint, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main(arguments)
        assert exit_info.value.code == EXIT_USAGE
        assert ("must follow '--'" in capsys.readouterr().err) is hint

    def test_double_dash_passes_the_name(self, tmp_path, capsys):
        assert main(["separate", "--out", str(tmp_path), "--", "-missing.wav"]) == \
            EXIT_BAD_INPUT
        assert "audio file '-missing.wav' does not exist" in capsys.readouterr().err
