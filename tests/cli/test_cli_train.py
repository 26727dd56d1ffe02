"""``sksep train`` trains every separator (``--estimator``), sets any of its parameters
(``--param``), stops on ``--time-budget`` and on Ctrl-C (exit code 130, the best
completed epoch written), and prints plain lines when not on a terminal.

Each run trains tiny networks for an epoch or two on three two-second MIR-1K clips.
Runs go through :func:`sksep.cli.main` in-process, but for Ctrl-C, which is sent to a
real ``python -m sksep`` once it has printed its first epoch line. Nothing here
depends on how fast the machine is: a time budget far below one epoch, and
subprocess timeouts only against a hang.
"""

import os
import re
import signal
import subprocess

import pytest
import soundfile as sf

import sksep
import sksep.cli._train
from sksep.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, build_parser, main
from sksep.cli._estimators import ESTIMATORS, make_estimator, parameter
from sksep.cli._options import duration
from test_cli import MIR1K_WAV, TRAIN_CLIPS, cli_environment, sksep_command

#: Tiny networks, per estimator, and what the trained model must hold.
TINY = {
    "chimera": (["--hidden-size", "8", "--layers", "1", "--embedding-dim", "4",
                 "--alpha", "0.5"], "ChimeraSeparator", {"alpha": 0.5, "hidden_size": 8}),
    "dc": (["--hidden-size", "8", "--layers", "1", "--embedding-dim", "4"],
           "DeepClusteringSeparator", {"embedding_dim": 4}),
    "class-conditional": (["--hidden-size", "8", "--layers", "1", "--param",
                           "covariance_type=diag"], "ClassConditionalSeparator",
                          {"covariance_type": "diag", "num_layers": 1}),
    "conv": (["--param", "channels=2", "--param", "conv_layers=1", "--param", "fc_layers=1",
              "--param", "hidden_size=8", "--param", "objective=nll"], "ConvMaskSeparator",
             {"channels": 2, "objective": "nll"}),
    "unet": (["--param", "channels=2", "--param", "depth=2", "--param", "hybrid=false"],
             "UNetSeparator", {"channels": 2, "depth": 2, "hybrid": False}),
}

#: Settings every run here shares: one epoch of small batches of short segments.
FAST = ["--epochs", "1", "--segment-frames", "16", "--batch-size", "4", "--max-clips", "3"]

#: Run first in the Ctrl-C subprocess: Python's own SIGINT handler, even where the test
#: runner was started with SIGINT ignored (a background job), which children inherit.
DEFAULT_SIGINT = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)"


@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory):
    """MIR-1K layout: three 2-second training clips."""
    folder = tmp_path_factory.mktemp("train") / "mir1k"
    folder.mkdir()
    for name in TRAIN_CLIPS:
        audio, rate = sf.read(MIR1K_WAV / f"{name}.wav", dtype="float32")
        sf.write(folder / f"{name}.wav", audio[rate:3 * rate], rate)
    return folder


def _train(stems_dir, out, *arguments):
    return main(["train", str(stems_dir), "--out", str(out), *FAST, *arguments])


def test_every_estimator_is_tested():
    assert set(TINY) == set(ESTIMATORS)


@pytest.mark.parametrize("estimator", sorted(TINY))
def test_each_estimator(stems_dir, tmp_path, estimator, capsys):
    options, class_name, expected = TINY[estimator]
    out = tmp_path / f"{estimator}.sksep"
    assert _train(stems_dir, out, "--estimator", estimator, *options) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == f"wrote {out}\n"
    assert re.search(rf"training {class_name} for up to 1 epoch\n", captured.err)
    assert re.search(r"^about .+ per epoch \(\d+ batch(es)?; timed on the first \d\)$",
                     captured.err, flags=re.MULTILINE)
    assert re.search(r"^epoch 1: training loss \d", captured.err, flags=re.MULTILINE)
    assert "training ended after 1 epoch: every epoch ran; kept the weights of epoch 1" \
        in captured.err
    model = sksep.load(out)
    assert type(model).__name__ == class_name
    assert model.source_names_ == ("vocals", "accompaniment")
    params = model.get_params()
    assert {key: params[key] for key in expected} == expected
    assert params["verbose"] == 0 and params["random_state"] == 0


def test_small_defaults_and_paper_defaults(stems_dir, tmp_path):
    """Unset parameters take the command line's small defaults, or with --paper-defaults
    the estimator's own; the seed is 0 either way."""
    arguments = ["train", str(stems_dir), "--out", str(tmp_path / "m.sksep")]
    small, paper = (make_estimator(build_parser().parse_args(arguments + extra)).get_params()
                    for extra in ([], ["--paper-defaults"]))
    assert (small["hidden_size"], small["num_layers"], small["max_epochs"]) == (128, 2, 20)
    assert (paper["hidden_size"], paper["num_layers"], paper["max_epochs"]) == (500, 4, 100)
    assert small["random_state"] == paper["random_state"] == 0
    conv = make_estimator(build_parser().parse_args(arguments + ["--estimator", "conv"]))
    assert (conv.channels, conv.hidden_size, conv.max_epochs) == (8, 256, 20)


class TestBadUsage:
    @pytest.mark.parametrize("arguments, message", [
        (["--param", "hiden_size=8"], "--param hiden_size: ChimeraSeparator has no parameter "
                                      "'hiden_size' (did you mean 'hidden_size'?); its "
                                      "parameters: alpha, batch_size"),
        (["--param", "callbacks=None"], "--param callbacks: not settable from the command "
                                        "line; sksep train sets it"),
        (["--epochs", "2", "--param", "max_epochs=3"], "--epochs and --param max_epochs both "
                                                       "set max_epochs; give it once"),
        (["--estimator", "conv", "--layers", "2"], "--layers applies to --estimator chimera, "
                                                   "dc, class-conditional only"),
        (["--estimator", "unet", "--alpha", "0.2"], "--alpha applies to --estimator chimera "
                                                    "only; set unet's alpha with --param "
                                                    "alpha=..."),
    ])
    def test_refused_before_the_data_is_read(self, stems_dir, tmp_path, monkeypatch,
                                             arguments, message, capsys):
        def fail(args):
            raise AssertionError("the data was read before the options were checked")
        monkeypatch.setattr(sksep.cli._train, "_load_stems", fail)
        assert _train(stems_dir, tmp_path / "m.sksep", *arguments) == EXIT_USAGE
        error = capsys.readouterr().err
        assert error.startswith("sksep: error: ") and len(error.splitlines()) == 1
        assert message in error

    @pytest.mark.parametrize("arguments, message", [
        (["--param", "hidden_size=0"], "hidden_size=0 must be an integer >= 1"),
        (["--param", "rnn_type=transformer"], "rnn_type='transformer' must be one of"),
        (["--estimator", "conv", "--param", "kernel_size=4"], "kernel_size=4 must be an odd "
                                                              "integer"),
        (["--estimator", "class-conditional", "--param", "covariance_type=full"],
         "covariance_type='full' must be one of"),
    ])
    def test_values_the_estimator_refuses(self, stems_dir, tmp_path, arguments, message,
                                          capsys):
        out = tmp_path / "m.sksep"
        assert _train(stems_dir, out, "-q", *arguments) == EXIT_USAGE
        error = capsys.readouterr().err
        assert error.startswith("sksep: error: ") and message in error
        assert not out.exists()

    @pytest.mark.parametrize("arguments, message", [
        (["--estimator", "transformer"], "argument --estimator/-e: invalid choice: "
                                         "'transformer' (choose from 'chimera', 'dc', "
                                         "'class-conditional', 'conv', 'unet')"),
        (["--param", "hidden_size"], "argument --param/-p: 'hidden_size' must be NAME=VALUE"),
        (["--param", "2x=1"], "argument --param/-p: '2x=1' must be NAME=VALUE"),
        (["--time-budget", "soon"], "argument --time-budget: 'soon' must be a positive "
                                    "duration"),
        (["--time-budget", "0"], "argument --time-budget: '0' must be a positive duration"),
    ])
    def test_rejected_by_the_parser(self, stems_dir, tmp_path, arguments, message, capsys):
        with pytest.raises(SystemExit) as exit_info:
            _train(stems_dir, tmp_path / "m.sksep", *arguments)
        assert exit_info.value.code == EXIT_USAGE
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("20m", 1200),
                                           ("20min", 1200), ("1.5h", 5400), ("0.5", 0.5)])
def test_durations(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text, value", [("64", 64), ("1e-3", 1e-3), ("none", None),
                                         ("None", None), ("true", True), ("False", False),
                                         ("(50, 100)", (50, 100)), ("gru", "gru"),
                                         ("'gru'", "gru"), ("a=b", "a=b")])
def test_param_values_are_literals_or_text(text, value):
    assert parameter(f"name={text}") == ("name", value)


def test_time_budget_far_below_one_epoch_keeps_one_epoch(stems_dir, tmp_path, capsys):
    out = tmp_path / "budget.sksep"
    assert _train(stems_dir, out, "--hidden-size", "8", "--layers", "1", "--epochs", "50",
                  "--param", "patience=None", "--time-budget", "0.001") == EXIT_OK
    error = capsys.readouterr().err
    assert "training ChimeraSeparator for up to 50 epochs or 0.001 s" in error
    assert "training ended after 1 epoch: the time budget of 0.001 s was spent; kept the " \
           "weights of epoch 1 of 1 completed (validation loss " in error
    assert len(sksep.load(out).epoch_summary_) == 1


def test_plain_lines_off_a_terminal_and_the_table_on_one(stems_dir, tmp_path, monkeypatch,
                                                        capsys):
    assert _train(stems_dir, tmp_path / "plain.sksep", "--hidden-size", "8", "--layers",
                  "1") == EXIT_OK
    captured = capsys.readouterr()
    assert "\x1b[" not in captured.out + captured.err and "epoch 1: " in captured.err
    monkeypatch.setattr(sksep.cli._console, "_is_terminal", lambda stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _train(stems_dir, tmp_path / "table.sksep", "--hidden-size", "8", "--layers",
                  "1") == EXIT_OK
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "epoch 1: " not in captured.err  # skorch's table
    monkeypatch.setenv("NO_COLOR", "1")
    assert _train(stems_dir, tmp_path / "no-colour.sksep", "--hidden-size", "8", "--layers",
                  "1") == EXIT_OK
    captured = capsys.readouterr()
    assert "\x1b[" not in captured.out and "epoch 1: " in captured.err


class TestCtrlC:
    @pytest.mark.skipif(os.name != "posix", reason="sends SIGINT, a POSIX signal")
    def test_after_an_epoch_keeps_the_best_and_exits_130(self, stems_dir, tmp_path):
        out = tmp_path / "interrupted.sksep"
        process = subprocess.Popen(
            sksep_command("train", stems_dir, "--out", out, "--hidden-size", 8, "--layers", 1,
                          "--epochs", 100000, "--param", "patience=None",
                          prelude=DEFAULT_SIGINT),
            env=cli_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        try:
            for line in process.stderr:  # waits as long as the first epoch takes
                seen.append(line)
                if line.startswith("epoch 1: "):
                    process.send_signal(signal.SIGINT)
                    break
            stdout, stderr = process.communicate(timeout=600)  # only against a hang
        finally:
            if process.poll() is None:
                process.kill()
        stderr = "".join(seen) + stderr
        assert process.returncode == EXIT_INTERRUPTED, stderr
        last = stderr.splitlines()[-1]
        assert re.fullmatch(rf"sksep: interrupted: (during|after) epoch \d+; kept the weights "
                            rf"of epoch \d+ of \d+ completed \(validation loss \d\.\d{{4}}\); "
                            rf"wrote '{re.escape(str(out))}'", last), stderr
        assert stdout == f"wrote {out}\n"
        model = sksep.load(out)
        kept = int(re.search(r"kept the weights of epoch (\d+)", last).group(1))
        assert model.best_epoch_ == kept

    def test_during_the_first_epoch_writes_nothing(self, stems_dir, tmp_path, monkeypatch,
                                                  capsys):
        from skorch.callbacks import Callback

        class CtrlC(Callback):
            def on_batch_end(self, net, training=False, **kwargs):
                signal.raise_signal(signal.SIGINT)  # as a Ctrl-C in the first batch

        progress = sksep.cli._train._progress
        monkeypatch.setattr(sksep.cli._train, "_progress",
                            lambda args: (0, progress(args)[1] + [CtrlC()]))
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            out = tmp_path / "never.sksep"
            code = _train(stems_dir, out, "--hidden-size", "8", "--layers", "1")
        finally:
            signal.signal(signal.SIGINT, previous)
        assert code == EXIT_INTERRUPTED
        assert capsys.readouterr().err.splitlines()[-1] == (
            "sksep: interrupted: during epoch 1, before any epoch was complete; no model was "
            "written")
        assert not out.exists()
