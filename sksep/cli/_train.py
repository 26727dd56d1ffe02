"""``sksep train``: fit a separator on a folder of stems and save it as a model file.

Training can end four ways, each said in one line: every epoch ran; early stopping
(no improvement for ``patience`` epochs); ``--time-budget`` spent
(:class:`~sksep.callbacks.TimeBudget`); or Ctrl-C, which keeps the best completed
epoch, writes it if there is one, and exits with code 130. The options are in
``_arguments.py``.
"""

from functools import partial

from skorch.callbacks import ProgressBar

from ..callbacks import EpochLog, EpochTimeEstimate, TimeBudget
from ..datasets import load_stems_folder, stems_folder_layout
from ..exceptions import SilentSourceWarning
from ..separators._base import silent_sources_message
from ..separators._pipeline import sources_named
from . import _estimators
from ._arguments import TRAIN_SAMPLE_RATE
from ._console import plural, say, shows_colour, shows_progress, warnings_shown
from ._exit import EXIT_OK, UsageError, recording_interrupts, usage_errors
from ._files import check_outputs

def run(args):
    """Train and save; see the module docstring for how training ends."""
    try:
        return _train(args)
    except KeyboardInterrupt as interruption:
        if str(interruption):
            raise
        raise KeyboardInterrupt("no model was written") from None


def _train(args):
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

    if not sources_named(model):
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
    if isinstance(warning, SilentSourceWarning) and warning.sources:
        return silent_sources_message([source_names[i] for i in warning.sources],
                                      warning.n_clips)
    return str(warning)


def _load_stems(args):
    """The clips of ``STEMS_DIR`` at 16 kHz, with the options of its layout."""
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

    status = partial(say, args)
    callbacks = [EpochTimeEstimate(sink=status)]
    if shows_progress(args):
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
