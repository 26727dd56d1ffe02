"""``sksep train``: fit a separator on a folder of stems and save it as a model file.

Training can end four ways, each said in one line: every epoch ran; early stopping
(no improvement for ``patience`` epochs); ``--time-budget`` spent
(:class:`~sksep.callbacks.TimeBudget`); or Ctrl-C, which keeps the best completed
epoch, writes it if there is one, and exits with code 130.
"""

from functools import partial
from pathlib import Path

from . import _estimators
from ._console import plural, say, shows_colour, shows_progress, warnings_shown
from ._exit import EXIT_CODES_HELP, EXIT_OK, UsageError, recording_interrupts, usage_errors
from ._files import check_outputs
from ._options import (duration, formatter, fraction, paragraphs, positive_float,
                       positive_int, source_list, unit_interval)

#: Sample rate the ``train`` command resamples to (the papers' 16 kHz).
TRAIN_SAMPLE_RATE = 16000

_DESCRIPTION = """\
Train a separator on a folder of stems and save it as a model file.

STEMS_DIR is MIR-1K style (stereo <singer>_<song>_<clip>.wav, accompaniment left, vocals \
right, optionally in Wavfile/ with a split.csv) or MUSDB style: song folders \
(<song>/{{mixture,vocals,drums,bass,other}}.{{wav,flac}}) or MUSDB18's own <song>.stem.mp4 \
files (five AAC streams: mixture, drums, bass, other, vocals; decoded by ffmpeg; pass \
musdb18/train, not musdb18). Audio is down-mixed to mono and resampled to 16 kHz. A \
validation part of the clips (--validation-fraction) picks the epoch whose weights are kept.

The defaults are small, so that training finishes on a laptop CPU: {epochs} epochs \
(early stopping after 10 without improvement), a 2 x 128 BLSTM for the recurrent \
separators instead of the papers' 4 x 500, 8 channels and 256 hidden units for conv. \
Measured on MIR-1K's 175 training clips (1416 s of audio) on an idle 2-core CPU, one \
epoch takes {costs}: {epochs} epochs in 10 to 30 minutes. The papers' sizes \
(--paper-defaults: the estimator's own defaults, 100 epochs) take 3 min an epoch for \
chimera, and a busy machine is several times slower: before the first epoch ends, an \
estimate for your machine and data is printed, and --time-budget bounds the whole run.

Any constructor parameter of the estimator can be set with --param NAME=VALUE (repeat it); \
VALUE is read as a Python literal (64, 1e-3, None, True, (50, 100)), other text as a \
string. The estimator checks the values; one it refuses ends with exit code 2.

On a terminal, training shows skorch's progress bar and epoch table; in a log or CI, \
one plain line per epoch. Ctrl-C stops training: the weights of the best completed \
epoch are kept and written to MODEL (exit code 130; nothing is written if no epoch \
was complete)."""

#: One epoch on MIR-1K's 175 training clips with the default settings, on an idle 2-core
#: CPU (2 torch threads), as ``sksep train`` printed it (validation included).
MEASURED_EPOCHS = {"chimera": "27 s", "dc": "26 s", "class-conditional": "28 s",
                   "conv": "90 s", "unet": "88 s"}


def add_parser(commands, parents):
    """The ``train`` subcommand and its options."""
    costs = ", ".join(f"{cost} ({name})" for name, cost in MEASURED_EPOCHS.items())
    train = commands.add_parser(
        "train", parents=parents, formatter_class=formatter,
        help="train a separator on a folder of stems",
        description=paragraphs(_DESCRIPTION.format(epochs=_estimators.DEFAULT_EPOCHS,
                                                   costs=costs)),
        epilog="estimators (--estimator):\n" + _estimators.estimators_help() + "\n\n"
               "examples:\n"
               "  sksep train ../shared/data/MIR-1K --out chimera.sksep --time-budget 30m\n"
               "  sksep train ../shared/data/MIR-1K --out conv.sksep --estimator conv "
               "--param objective=nll --param context=3\n"
               "  sksep train ../shared/data/MUSDB18-excerpts --out four.sksep "
               "--sources vocals,drums,bass,other\n\n" + EXIT_CODES_HELP)
    train.add_argument("stems_dir", type=Path, metavar="STEMS_DIR",
                       help="folder of stems, or of MUSDB18 .stem.mp4 files")
    train.add_argument("--out", "-o", type=Path, required=True, metavar="MODEL",
                       help="model file to write (e.g. my-model.sksep)")
    train.add_argument("--estimator", "-e", choices=tuple(_estimators.ESTIMATORS),
                       default="chimera", help="the separator to train (default: chimera); "
                                               "see the list below")
    train.add_argument("--param", "-p", type=_estimators.parameter, action="append",
                       metavar="NAME=VALUE",
                       help="set any constructor parameter of the estimator, e.g. "
                            "hidden_size=256 (repeat for several)")
    train.add_argument("--paper-defaults", action="store_true",
                       help="start from the estimator's own defaults (the papers' sizes and "
                            "100 epochs: hours on a CPU) instead of the small ones")
    train.add_argument("--time-budget", type=duration, default=None, metavar="DURATION",
                       help="stop after this long (e.g. 90s, 20m, 1.5h) and keep the best "
                            "epoch so far; the first epoch always completes")
    train.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                       help=f"maximum training epochs (default {_estimators.DEFAULT_EPOCHS}; "
                            f"stops early after `patience` epochs without improvement)")
    train.add_argument("--hidden-size", type=positive_int, default=None, metavar="H",
                       help="chimera, dc, class-conditional: BLSTM units per direction "
                            "(default 128)")
    train.add_argument("--layers", type=positive_int, default=None, metavar="L",
                       help="chimera, dc, class-conditional: BLSTM layers (default 2)")
    train.add_argument("--embedding-dim", type=positive_int, default=None, metavar="D",
                       help="chimera, dc, class-conditional: embedding dimension D "
                            "(default 20)")
    train.add_argument("--alpha", type=unit_interval, default=None, metavar="A",
                       help="chimera: weight of the deep-clustering loss, 0..1 (default 0.1)")
    train.add_argument("--segment-frames", type=positive_int, default=None, metavar="F",
                       help="training segment length in STFT frames (default: the "
                            "estimator's, 100 = 0.8 s for the recurrent separators)")
    train.add_argument("--sources", type=source_list, default=None, metavar="A,B",
                       help="MUSDB-style folders: stems to separate, in order (default "
                            "vocals,accompaniment; accompaniment = every stem but the vocals)")
    train.add_argument("--split", choices=("train", "test", "all"), default=None,
                       help="MIR-1K-style folders: clips to train on (default train: the "
                            "split.csv train clips, or singers abjones and amy)")
    train.add_argument("--max-clips", type=positive_int, default=None, metavar="N",
                       help="use only the first N clips (songs), for quick experiments")
    train.add_argument("--validation-fraction", type=fraction, default=None, metavar="V",
                       help="share of clips held out to pick the best epoch (default: the "
                            "estimator's, 0.1 or 0.2)")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default 1e-3)")
    train.add_argument("--optimizer", choices=("rmsprop", "adam"), default=None,
                       help="torch optimizer (default: the estimator's, rmsprop as Luo et "
                            "al.; adam for conv)")
    train.add_argument("--batch-size", type=positive_int, default=None, metavar="B",
                       help="segments per batch (default: the estimator's)")
    train.add_argument("--device", default=None,
                       help="torch device, e.g. cuda (default cpu); a device this machine "
                            "does not have is exit code 2")
    train.add_argument("--random-state", type=int, default=None, metavar="SEED",
                       help="seed of the split, weights and batch order (default 0)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    train.set_defaults(run=run)


def run(args):
    """Train and save; see the module docstring for how training ends."""
    try:
        return _train(args)
    except KeyboardInterrupt as interruption:
        if str(interruption):
            raise
        raise KeyboardInterrupt("no model was written") from None


def _train(args):
    from ..callbacks import TimeBudget

    check_outputs(args, [args.out])
    model = _estimators.make_estimator(args)  # bad options fail before the data is read
    data = _load_stems(args)
    seconds = sum(len(x) for x in data.X) / data.sample_rate
    say(args, f"training on {plural(len(data.X), 'clip')} ({seconds:.0f} s at "
              f"{data.sample_rate} Hz) from {str(args.stems_dir)!r}, sources "
              f"{', '.join(data.source_names)}")
    if "source_names" in model.get_params() and model.source_names is None:  # ClassConditional
        model.set_params(source_names=tuple(data.source_names))
    budget = TimeBudget(args.time_budget) if args.time_budget is not None else None
    verbose, callbacks = _progress(args)
    model.set_params(verbose=verbose, callbacks=callbacks + ([budget] if budget else []))
    planned = _estimators.planned_epochs(model)
    say(args, f"training {type(model).__name__} for up to {plural(planned, 'epoch')}"
              + (f" or {args.time_budget:g} s" if budget else ""))

    with recording_interrupts() as interrupts, usage_errors(), \
            warnings_shown(partial(_warning_text, source_names=data.source_names)):
        model.fit(data.X, data.Y)
    model.set_params(verbose=0, callbacks=None)  # progress output is no part of the model
    summary = model.epoch_summary_
    completed = [row for row in summary if "train_loss" in row]
    if not completed:  # only Ctrl-C ends training before the first epoch is complete
        raise KeyboardInterrupt("during epoch 1, before any epoch was complete; no model "
                                "was written")
    model.source_names_ = tuple(data.source_names)
    from .._api import clusters_are_named

    if not clusters_are_named(model, data.source_names):
        say(args, f"note: this model separates with K-means clusters that have no names for "
                  f"{plural(len(data.source_names), 'source')}: `sksep separate` refuses it "
                  f"and `sksep evaluate` scores it permutation-invariantly (see --head in "
                  f"`sksep separate -h`)")
    path = model.save(args.out, overwrite=args.overwrite)
    kept = _kept(model, completed)
    if interrupts.count:
        where = "after" if summary[-1] is completed[-1] else "during"
        print(f"wrote {path}", flush=True)
        raise KeyboardInterrupt(f"{where} epoch {summary[-1]['epoch']}; {kept}; wrote "
                                f"{str(path)!r}")
    say(args, f"training ended after {plural(len(completed), 'epoch')}: "
              f"{_ending(args, model, len(completed), planned, budget)}; {kept}")
    print(f"wrote {path}", flush=True)
    return EXIT_OK


def _ending(args, model, n_completed, planned, budget):
    """Why training that Ctrl-C did not stop ended."""
    if budget is not None and budget.exhausted_:
        return f"the time budget of {args.time_budget:g} s was spent"
    if n_completed < planned:
        return f"no improvement in the last {model.patience} epochs (early stopping)"
    return "every epoch ran"


def _warning_text(warning, source_names):
    """A warning of training, the sources it names by index called by their stem names."""
    from ..exceptions import SilentSourceWarning
    from ..separators._base import silent_sources_message

    if isinstance(warning, SilentSourceWarning) and warning.sources:
        return silent_sources_message([source_names[i] for i in warning.sources],
                                      warning.n_clips)
    return str(warning)


def _load_stems(args):
    """The clips of ``STEMS_DIR`` at 16 kHz, with the options of its layout."""
    from ..datasets import load_stems_folder, stems_folder_layout

    options = {"sample_rate": TRAIN_SAMPLE_RATE}
    if stems_folder_layout(args.stems_dir, name="STEMS_DIR") == "mir1k":
        if args.sources is not None and args.sources != ("vocals", "accompaniment"):
            raise UsageError(f"--sources {','.join(args.sources)}: a MIR-1K-style folder "
                             f"holds only vocals,accompaniment")
        options.update(split=args.split or "train", max_clips=args.max_clips)
    else:
        if args.split is not None:
            raise UsageError("--split applies to MIR-1K-style folders only")
        options.update(sources=args.sources or ("vocals", "accompaniment"),
                       max_songs=args.max_clips)
    return load_stems_folder(args.stems_dir, **options)


def _progress(args):
    """``verbose`` and the callbacks that show training: a progress bar and skorch's
    coloured epoch table on a terminal, plain lines otherwise, nothing with --quiet;
    always the estimate of an epoch's duration but with --quiet."""
    if args.quiet:
        return 0, []
    from ..callbacks import EpochLog, EpochTimeEstimate

    status = partial(say, args)
    callbacks = [EpochTimeEstimate(sink=status)]
    if shows_progress(args):
        from skorch.callbacks import ProgressBar
        callbacks.append(ProgressBar())
    if shows_colour():
        return 1, callbacks
    return 0, callbacks + [EpochLog(sink=status)]


def _kept(model, completed):
    """Which epoch's weights the model keeps, and its loss."""
    best = next((row for row in completed if row["epoch"] == model.best_epoch_), {})
    loss = ("validation", best["valid_loss"]) if "valid_loss" in best else (
        ("training", best["train_loss"]) if "train_loss" in best else None)
    return (f"kept the weights of epoch {model.best_epoch_} of {len(completed)} completed"
            + (f" ({loss[0]} loss {loss[1]:.4f})" if loss else ""))
