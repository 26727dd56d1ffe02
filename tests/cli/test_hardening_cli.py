"""Hardening, round 3 (issue 32): what the commands said too little about.

* ``train``: a source silent in every clip is warned about (by ``fit`` itself, so the
  API warns too); a network too large for the machine's memory and a seed numpy
  refuses are bad usage naming the parameter, before anything is allocated.
* ``evaluate``: a ``mixture.wav`` that is not the sum of its stems is warned about and
  marked in every table; a blank score says why.
* ``models``: a compact table; ``models NAME`` the full record.
* ``separate --query EXAMPLE``: query by example from the command line.

Trainings are tiny networks on three 2-second MIR-1K clips (``tests/fast_settings.py``
for the API); separation uses the shipped models on a second or two of audio. Commands
run through :func:`sksep.cli.main` in-process, and through ``python -m sksep`` where
what is printed on stderr by Python itself matters.
"""

import csv
import json
import re
import warnings

import numpy as np
import pytest
import soundfile as sf

import sksep
from fast_settings import make, neural_separator_names, separator_names
from sksep.cli import EXIT_BAD_INPUT, EXIT_EXISTS, EXIT_OK, EXIT_USAGE, main
from sksep.exceptions import InvalidInputError, SilentSourceWarning
from test_cli import MIR1K_WAV, SHARED, TRAIN_CLIPS, sksep_cli

MUSDB = SHARED / "MUSDB18-excerpts"

#: ``sksep train`` settings of every run here: one epoch of a tiny BLSTM.
TINY_TRAINING = ["--epochs", "1", "--segment-frames", "16", "--batch-size", "4",
                 "--hidden-size", "8", "--layers", "1", "--embedding-dim", "4"]


def _mir1k_folder(folder, *, silent_vocals=False):
    """Three 2-second MIR-1K training clips (accompaniment left, vocals right)."""
    folder.mkdir(parents=True)
    for name in TRAIN_CLIPS:
        audio, rate = sf.read(MIR1K_WAV / f"{name}.wav", dtype="float32")
        audio = audio[rate:3 * rate].copy()
        if silent_vocals:
            audio[:, 1] = 0.0
        sf.write(folder / f"{name}.wav", audio, rate)
    return folder


@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory):
    return _mir1k_folder(tmp_path_factory.mktemp("hardening") / "mir1k")


@pytest.fixture(scope="module")
def silent_vocals_dir(tmp_path_factory):
    return _mir1k_folder(tmp_path_factory.mktemp("hardening") / "no-vocals",
                         silent_vocals=True)


@pytest.fixture(scope="module")
def clips():
    """Two 2-second MIR-1K training clips and their sources, for the API."""
    X, Y = [], []
    for name in TRAIN_CLIPS[:2]:
        audio, rate = sf.read(MIR1K_WAV / f"{name}.wav", dtype="float32")
        accompaniment, vocals = audio[rate:3 * rate].T
        X.append(accompaniment + vocals)
        Y.append(np.stack([vocals, accompaniment]))
    return X, Y


# -- 10. train: silent sources, networks too large, seeds out of range -------------------------

class TestSilentSource:
    def test_train_warns_naming_the_stem(self, silent_vocals_dir, tmp_path):
        out = tmp_path / "no-vocals.sksep"
        result = sksep_cli("train", silent_vocals_dir, "--out", out, *TINY_TRAINING, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert result.stderr == (
            "sksep: warning: vocals is silent (more than 80 dB below the other sources) in "
            "every one of the 3 training clips: the network never hears it and will learn "
            "to predict silence; check the data (a stem missing or empty in every song?)\n")
        assert result.stdout == f"wrote {out}\n"

    def test_no_warning_for_sources_heard(self, stems_dir, tmp_path, capsys):
        assert main(["train", str(stems_dir), "--out", str(tmp_path / "m.sksep"),
                     *TINY_TRAINING, "-q"]) == EXIT_OK
        assert "warning" not in capsys.readouterr().err

    @pytest.mark.parametrize("name", separator_names())
    def test_fit_warns(self, name, clips):
        X, Y = clips
        silent = [np.stack([y[0], np.zeros_like(y[1])]) for y in Y]
        with pytest.warns(SilentSourceWarning, match=r"^source 1 of Y is silent \(more than "
                                                     r"80 dB below the other sources\) in "
                                                     r"every one of the 2 training clips") as w:
            make(name).fit([y.sum(axis=0) for y in silent], silent)
        assert (w[0].message.sources, w[0].message.n_clips) == ((1,), 2)

    def test_quiet_is_not_silent(self, clips):
        """60 dB below the other source is quiet, not silent; silent in one clip of two
        is heard in the other."""
        X, Y = clips
        quiet = [np.stack([1e-3 * y[0], y[1]]) for y in Y]
        once = [Y[0], np.stack([np.zeros_like(Y[1][0]), Y[1][1]])]
        for sources in (quiet, once):
            with warnings.catch_warnings():
                warnings.simplefilter("error", SilentSourceWarning)
                make("OracleMaskSeparator").fit([y.sum(axis=0) for y in sources], sources)


class TestNetworkSize:
    @pytest.mark.parametrize("parameter, message", [
        ("hidden_size=1000000000", r"hidden_size=1000000000 asks for a network too large for "
                                   r"torch to build \(a tensor of over 2\*\*63 bytes\)"),
        ("num_layers=1000000000", r"num_layers=1000000000 asks for a network of [0-9.e+]+ "
                                  r"weights \([0-9.]+ [PT]B as float32; training needs about "
                                  r"[0-9.]+ [PT]B with the gradients and the rmsprop "
                                  r"optimizer's state\)"),
    ])
    def test_train_refuses_naming_the_parameter(self, stems_dir, tmp_path, parameter,
                                                message, capsys):
        out = tmp_path / "huge.sksep"
        assert main(["train", str(stems_dir), "--out", str(out), "--epochs", "1",
                     "--param", parameter, "-q"]) == EXIT_USAGE
        error = capsys.readouterr().err
        assert re.fullmatch(rf"sksep: error: {message}, more than the [0-9.]+ [kMGT]B of "
                            rf"memory this machine has; lower {parameter.split('=')[0]}\n",
                            error), error
        assert not out.exists()

    @pytest.mark.parametrize("name, parameters, named", [
        ("ChimeraSeparator", dict(embedding_dim=10**8), "embedding_dim=100000000"),
        ("ClassConditionalSeparator", dict(hidden_size=10**50),
         "hidden_size=<an integer of about 51 digits>"),
        ("ConvMaskSeparator", dict(fc_layers=10**9, hidden_size=10**4), "fc_layers"),
        ("UNetSeparator", dict(channels=10**6), "channels=1000000"),
    ])
    def test_fit_refuses_before_allocating(self, name, parameters, named, clips):
        X, Y = clips
        with pytest.raises(InvalidInputError, match=f"^{named}.* asks for a network "):
            make(name, **parameters).fit(X, Y)

    def test_networks_that_fit_train(self, clips):
        X, Y = clips
        make("ChimeraSeparator", num_layers=9).fit(X, Y)  # built, not extrapolated


class TestSeed:
    @pytest.mark.parametrize("value, shown", [
        ("-1", "-1"), ("4294967296", "4294967296"), ("10**100000", "'10**100000'"),
        ("1.5", "1.5"), ("True", "True"),
    ])
    def test_train_refuses_naming_the_parameter(self, stems_dir, tmp_path, value, shown,
                                                capsys):
        assert main(["train", str(stems_dir), "--out", str(tmp_path / "m.sksep"),
                     "--param", f"random_state={value}", "-q"]) == EXIT_USAGE
        assert capsys.readouterr().err == (
            f"sksep: error: random_state={shown} must be an integer from 0 to 4294967295 "
            f"(2**32 - 1), a numpy RandomState or None\n")

    def test_random_state_option(self, stems_dir, tmp_path, capsys):
        assert main(["train", str(stems_dir), "--out", str(tmp_path / "m.sksep"),
                     "--random-state", "-1", "-q"]) == EXIT_USAGE
        assert "random_state=-1 must be an integer from 0 to 4294967295" in \
            capsys.readouterr().err

    @pytest.mark.parametrize("name", neural_separator_names())
    @pytest.mark.parametrize("value, shown", [
        (-1, "-1"), (2**32, "4294967296"), (10**100000, "<an integer of about 100001 digits>"),
    ], ids=["-1", "2**32", "10**100000"])
    def test_fit_refuses_before_reading_data(self, name, value, shown):
        with pytest.raises(InvalidInputError, match=rf"^random_state={shown} must be an "
                                                    rf"integer from 0 to 4294967295"):
            make(name, random_state=value).fit(None, None)

    @pytest.mark.parametrize("value", [None, 0, 2**32 - 1, np.random.RandomState(0)])
    def test_valid_seeds(self, value, clips):
        X, Y = clips
        make("ChimeraSeparator", random_state=value).fit(X, Y)


# -- 11. evaluate: a mixture that is not its stems' sum, blank scores explained ---------------

def _musdb_folder(folder, songs):
    """MUSDB-style song folders of 2 s at 16 kHz mono from the MUSDB excerpts: ``songs``
    maps a folder name to ``(excerpt whose stems it holds, excerpt whose mixture it
    holds, stems made silent)``."""
    stems = {}
    for excerpt in sorted(MUSDB.iterdir())[:2]:
        stems[excerpt.name] = {
            name: sf.read(excerpt / f"{name}.flac", dtype="float32", start=441000,
                          frames=88200)[0].mean(axis=1)[::2]  # 44.1 kHz stereo: enough
            for name in ("vocals", "drums", "bass", "other")}
    excerpts = list(stems)
    for song, (stems_of, mixture_of, silent) in songs.items():
        (folder / song).mkdir(parents=True)
        own = {name: np.zeros_like(audio) if name in silent else audio
               for name, audio in stems[excerpts[stems_of]].items()}
        for name, audio in own.items():
            sf.write(folder / song / f"{name}.wav", audio, 22050, subtype="FLOAT")
        mixture = sum(own.values()) if mixture_of == stems_of else \
            sum(stems[excerpts[mixture_of]].values())
        sf.write(folder / song / "mixture.wav", mixture, 22050, subtype="FLOAT")
    return folder


@pytest.fixture(scope="module")
def odd_songs(tmp_path_factory):
    return _musdb_folder(tmp_path_factory.mktemp("hardening") / "musdb", {
        "a right": (0, 0, ()), "b mixture of another song": (0, 1, ()),
        "c no vocals": (0, 0, ("vocals",))})


class TestEvaluateExplains:
    def test_mismatched_mixture_and_silent_stems(self, odd_songs, tmp_path):
        csv_path, json_path = tmp_path / "scores.csv", tmp_path / "scores.json"
        result = sksep_cli("evaluate", "--model", "chimera-mir1k", odd_songs, "--no-bss",
                           "--out-csv", csv_path, "--out-json", json_path, "-q")
        assert result.returncode == EXIT_OK, result.stderr
        assert re.fullmatch(r"sksep: warning: 'b mixture of another song': the mixture is "
                            r"not the sum of its stems \([0-9.]+ % of its energy differs\), "
                            r"more than 1 %: is its mixture another recording's \(another "
                            r"song's mixture.wav\)\? Its scores mean nothing; they are marked "
                            r"in the note column\n", result.stderr), result.stderr
        table = [[cell.strip() for cell in line.split("|")[1:-1]]
                 for line in result.stdout.splitlines() if line.startswith("| ")]
        assert table[0] == ["clip", "source", "seconds", "SI-SDRi", "note"]
        notes = {(row[0], row[1]): row[-1] for row in table[1:7]}
        assert re.fullmatch(r"the mixture is not the sum of its stems \([0-9.]+ % of its "
                            r"energy differs\)", notes[("b mixture of another song", "vocals")])
        assert notes == {
            ("a right", "vocals"): "", ("a right", "accompaniment"): "",
            ("b mixture of another song", "vocals"): notes[("b mixture of another song",
                                                             "vocals")],
            ("b mixture of another song", "accompaniment"): notes[(
                "b mixture of another song", "vocals")],
            ("c no vocals", "vocals"): "reference silent: SI-SDRi undefined",
            ("c no vocals", "accompaniment"): "the other sources are silent, nothing to "
                                              "separate: SI-SDRi undefined"}
        assert "The mixture of 1 clip is not the sum of its stems (see the note column)" in \
            result.stdout
        with open(csv_path, newline="") as handle:
            notes = {(row["clip"], row["source"]): (row["SI-SDRi"], row["note"])
                     for row in csv.DictReader(handle)}
        assert notes[("a right", "vocals")][1] == ""
        assert notes[("b mixture of another song", "vocals")][1].startswith(
            "the mixture is not the sum of its stems (")
        assert notes[("c no vocals", "vocals")] == ("", "reference silent: SI-SDRi undefined")
        report = json.loads(json_path.read_text())
        assert report["mixture_mismatch"] == ["b mixture of another song"]
        assert [clip["note"] is None for clip in report["clips"]] == [True, True, False,
                                                                      False, False, False]

    def test_bss_eval_blanks_are_explained(self, tmp_path, capsys):
        folder = _musdb_folder(tmp_path / "musdb", {"no vocals": (0, 0, ("vocals",))})
        assert main(["evaluate", "--model", "chimera-mir1k", str(folder), "-q"]) == EXIT_OK
        captured = capsys.readouterr()
        assert captured.err == ""
        assert "| reference silent: SI-SDRi, SDR, SIR, SAR, NSDR undefined " in captured.out
        assert "| the other sources are silent, nothing to separate: SI-SDRi, SIR, NSDR " \
               "undefined " in captured.out

    def test_no_note_column_when_nothing_to_say(self, tmp_path, capsys):
        folder = _musdb_folder(tmp_path / "musdb", {"right": (0, 0, ())})
        assert main(["evaluate", "--model", "chimera-mir1k", str(folder), "--no-bss",
                     "-q"]) == EXIT_OK
        captured = capsys.readouterr()
        assert captured.err == "" and "| note" not in captured.out
        assert "| clip  | source        | seconds | SI-SDRi |\n" in captured.out

    def test_mixture_residual(self):
        from sksep.cli._evaluate import MIXTURE_TOLERANCE, mixture_residual
        from sksep.datasets import load_musdb

        data = load_musdb(MUSDB, sources=("vocals", "accompaniment"), sample_rate=16000,
                          max_songs=1)  # the real files: a mixture and its stems
        x, y = data.X[0], data.Y[0]
        assert mixture_residual(x, y) < MIXTURE_TOLERANCE / 100
        assert mixture_residual(x[::-1], y) > 1
        assert mixture_residual(np.zeros(4), np.zeros((2, 4))) == 0.0
        assert mixture_residual(np.zeros(4), np.ones((2, 4))) == np.inf


# -- 14. models: a compact table, and one model's whole record ---------------------------------

class TestModels:
    def test_one_line_per_model(self):
        result = sksep_cli("models")
        assert result.returncode == EXIT_OK, result.stderr
        lines = result.stdout.splitlines()
        assert [cell.strip() for cell in lines[0].split("|")[1:-1]] == [
            "name", "estimator", "sources", "for", "rate", "size", "vocals SI-SDRi"]
        rows = {cells[0]: cells for cells in ([cell.strip() for cell in line.split("|")[1:-1]]
                                              for line in lines[2:] if line.startswith("| "))}
        registry = sksep.available_models()
        assert list(rows) == list(registry)
        assert rows["chimera-mir1k"][1:] == [
            "ChimeraSeparator", "vocals, accompaniment", "MIR-1K-style clips", "16 kHz",
            "10.8 MB", f"{registry['chimera-mir1k']['scores']['mi']['vocals']['SI-SDRi']:.2f} dB"]
        assert rows["chimera-mir1k-musdb"][3] == "real songs"
        assert rows["class-conditional-mir1k"][3] == "MIR-1K-style clips, --query"
        assert rows["class-conditional-mir1k"][6] == \
            f"{registry['class-conditional-mir1k']['scores']['vocals']['SI-SDRi']:.2f} dB"
        assert len(lines) == 2 + len(registry) + 4  # and the lines below the table
        assert "dB on the MIR-1K test singers (90 clips)" in lines[-3]
        assert "GSIR" not in result.stdout and "(vocals -5 dB)" not in result.stdout

    def test_full_record(self, capsys):
        assert main(["models", "chimera-mir1k"]) == EXIT_OK
        output = capsys.readouterr().out
        entry = sksep.available_models()["chimera-mir1k"]
        assert output.startswith("chimera-mir1k\n  estimator: ChimeraSeparator\n  sources: "
                                 "vocals, accompaniment\n  sample rate: 16000 Hz\n  size: "
                                 "10.8 MB\n")
        assert f"  training: {entry['training']}\n" in output
        assert f"test scores on {entry['scores']['test set']}, dB (higher is better):\n" \
            "| scores of                        | SI-SDRi | GNSDR |  GSIR |  GSAR |\n" in output
        dc_plus_5 = entry["scores"]["dc (vocals +5 dB)"]["accompaniment"]
        assert ("| dc (vocals +5 dB), accompaniment | "
                + " | ".join(f"{dc_plus_5[metric]:5.2f}".rjust(width) for metric, width in
                             zip(("SI-SDRi", "GNSDR", "GSIR", "GSAR"), (7, 5, 5, 5)))
                + " |\n") in output
        assert output.endswith(f"\nnote: {entry['scores']['note']}\n")

    def test_validation_scores_in_the_record(self, capsys):
        assert main(["models", "chimera-mir1k-musdb"]) == EXIT_OK
        output = capsys.readouterr().out
        assert "validation scores, dB (higher is better):\n| scores of     | SI-SDRi |\n" \
            in output
        assert "  musdb songs: AM Contra - Heart Peripheral, Al James" in output

    def test_json_of_one_model(self, capsys):
        assert main(["models", "class-conditional-mir1k", "--json"]) == EXIT_OK
        assert json.loads(capsys.readouterr().out) == \
            sksep.available_models()["class-conditional-mir1k"]

    def test_unknown_name(self):
        result = sksep_cli("models", "chimera")
        assert result.returncode == EXIT_USAGE
        assert result.stdout == ""
        assert result.stderr == (
            "sksep: error: models 'chimera': no shipped model of that name (did you mean "
            "'chimera-mir1k'?); the shipped models: " + ", ".join(sksep.available_models())
            + "\n")

    def test_exit_code_is_documented(self, capsys):
        with pytest.raises(SystemExit):
            main(["models", "--help"])
        assert "an unknown `models NAME`" in " ".join(capsys.readouterr().out.split())


# -- 15. separate --query: query by example from the command line ------------------------------

QUERY_MODEL = "class-conditional-mir1k"


@pytest.fixture(scope="module")
def query_files(tmp_path_factory):
    """A test singer's 2-second mixture (float WAV, 16 kHz mono), its true vocals and
    accompaniment, and an example: a training singer's isolated vocals (4 s)."""
    folder = tmp_path_factory.mktemp("query")
    clip, rate = sf.read(MIR1K_WAV / "annar_1_02.wav", dtype="float32", frames=2 * 16000)
    accompaniment, vocals = clip.T
    sf.write(folder / "song.wav", accompaniment + vocals, rate, subtype="FLOAT")
    example, _ = sf.read(MIR1K_WAV / "abjones_1_01.wav", dtype="float32", frames=4 * 16000)
    sf.write(folder / "voice.wav", example[:, 1], rate)
    sf.write(folder / "silence.wav", np.zeros(16000, np.float32), rate)
    return folder, vocals, accompaniment


class TestSeparateByExample:
    def test_writes_query_and_rest(self, query_files, tmp_path):
        from sksep.metrics import si_sdr_improvement

        folder, vocals, accompaniment = query_files
        out = tmp_path / "out"
        result = sksep_cli("separate", folder / "song.wav", "--query", folder / "voice.wav",
                           "--model", QUERY_MODEL, "--out", out)
        assert result.returncode == EXIT_OK, result.stderr
        assert result.stdout == f"wrote {out / 'song' / 'query.wav'}\n" \
                                f"wrote {out / 'song' / 'rest.wav'}\n"
        query, rate = sf.read(out / "song" / "query.wav", dtype="float32")
        rest, _ = sf.read(out / "song" / "rest.wav", dtype="float32")
        song, _ = sf.read(folder / "song.wav", dtype="float32")
        assert rate == 16000 and query.shape == rest.shape == song.shape
        np.testing.assert_allclose(query + rest, song, atol=1e-5)  # they sum to the song
        # The example is a voice: the query holds the vocals, the rest the accompaniment.
        assert si_sdr_improvement(vocals, query, song) > 3
        assert si_sdr_improvement(accompaniment, rest, song) > 3
        # The same as the Python API's query of the whole clip.
        example, _ = sf.read(folder / "voice.wav", dtype="float32")
        expected = sksep.load(QUERY_MODEL).query(example, [song])[0]
        np.testing.assert_allclose(query, expected, atol=1e-4)

    def test_stems_and_format(self, query_files, tmp_path, capsys):
        folder, _, _ = query_files
        out = tmp_path / "out"
        assert main(["separate", str(folder / "song.wav"), "--query", str(folder / "voice.wav"),
                     "--model", QUERY_MODEL, "--out", str(out), "--stems", "rest",
                     "--format", "flac", "-q"]) == EXIT_OK
        assert sorted(path.name for path in (out / "song").iterdir()) == ["rest.flac"]
        assert sf.info(out / "song" / "rest.flac").subtype == "PCM_24"  # a float song
        assert main(["separate", str(folder / "song.wav"), "--query", str(folder / "voice.wav"),
                     "--model", QUERY_MODEL, "--out", str(out), "--stems", "rest",
                     "--format", "flac", "-q"]) == EXIT_EXISTS  # as without --query
        assert "rest.flac' already exists; pass --overwrite" in capsys.readouterr().err

    @pytest.mark.parametrize("arguments, message", [
        (["--model", "chimera-mir1k"], "--query: model 'chimera-mir1k' (ChimeraSeparator) does "
                                       "not separate by example; expected a class-conditional "
                                       "model with embeddings, e.g. --model "
                                       "class-conditional-mir1k"),
        (["--model", QUERY_MODEL, "--stems", "vocals"], "--stems=['vocals'] must name at "
                                                        "least one of the model's sources "
                                                        "query, rest; unknown: vocals"),
        (["--model", QUERY_MODEL, "--head", "dc"], "head='dc' applies to models with two "
                                                   "heads (ChimeraSeparator); this model "
                                                   "is a ClassConditionalSeparator"),
    ])
    def test_bad_usage(self, query_files, tmp_path, arguments, message, capsys):
        folder, _, _ = query_files
        out = tmp_path / "out"
        assert main(["separate", str(folder / "song.wav"), "--query",
                     str(folder / "voice.wav"), "--out", str(out), *arguments]) == EXIT_USAGE
        assert capsys.readouterr().err == f"sksep: error: {message}\n"
        assert not out.exists()

    def test_a_model_without_embeddings(self, query_files, clips, tmp_path, capsys):
        X, Y = clips
        baseline = make("ClassConditionalSeparator", covariance_type=None).fit(X, Y)
        path = baseline.save(tmp_path / "baseline.sksep")
        folder, _, _ = query_files
        assert main(["separate", str(folder / "song.wav"), "--query", str(folder / "voice.wav"),
                     "--model", str(path), "--out", str(tmp_path / "out")]) == EXIT_USAGE
        assert "(ClassConditionalSeparator) does not separate by example" in \
            capsys.readouterr().err

    @pytest.mark.parametrize("example, message", [
        ("silence.wav", "--query: '{path}' is silent (peak STFT magnitude <= 1e-06); expected "
                        "an isolated example of the source to extract"),
        ("missing.wav", "--query: audio file '{path}' does not exist"),
        ("song.txt", "--query: '{path}' is not a readable audio file"),
    ])
    def test_bad_example(self, query_files, tmp_path, example, message, capsys):
        folder, _, _ = query_files
        (folder / "song.txt").write_text("not audio")
        out = tmp_path / "out"
        assert main(["separate", str(folder / "song.wav"), "--query", str(folder / example),
                     "--model", QUERY_MODEL, "--out", str(out)]) == EXIT_BAD_INPUT
        error = capsys.readouterr().err
        assert error.startswith("sksep: error: " + message.format(path=folder / example))
        assert not out.exists()

    def test_jobs(self, query_files, tmp_path):
        folder, _, _ = query_files
        album, out = tmp_path / "album", tmp_path / "out"
        album.mkdir()
        for name in ("one.wav", "two.wav"):
            (album / name).write_bytes((folder / "song.wav").read_bytes())
        result = sksep_cli("separate", album, "--query", folder / "voice.wav", "--model",
                           QUERY_MODEL, "--out", out, "--jobs", "2", "-q")
        assert result.returncode == EXIT_OK, result.stderr
        one, _ = sf.read(out / "one" / "query.wav")
        two, _ = sf.read(out / "two" / "query.wav")
        np.testing.assert_array_equal(one, two)
        assert sorted(path.name for path in (out / "two").iterdir()) == ["query.wav",
                                                                         "rest.wav"]

    def test_help_names_the_stems(self, capsys):
        with pytest.raises(SystemExit):
            main(["separate", "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        assert "--query EXAMPLE" in help_text
        assert "separate --query with a model that cannot query" in help_text  # exit 2
        assert "the stems are OUT/<song>/query.wav, what in the song sounds like the " \
               "example, and rest.wav, everything else; they sum to the song" in help_text
