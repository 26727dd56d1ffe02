"""skorch callbacks useful with sksep's separators (pass them in ``callbacks=[...]``).

- :class:`TimeBudget` ends training cleanly once a wall-clock budget is spent.
- :class:`EpochTimeEstimate` says, early in the first epoch, how long an epoch takes.
- :class:`EpochLog` writes one plain line per epoch, for log files and CI (skorch's
  own table colours the best values with terminal escape codes).
"""

import math
import statistics
from time import monotonic, process_time

from skorch.callbacks import Callback

from ._validation import check_int, check_real
from .exceptions import InvalidParameterTypeError

__all__ = ["TimeBudget", "EpochTimeEstimate", "EpochLog"]


def _duration(seconds):
    """A duration as people say it: ``"0.2 s"``, ``"42 s"``, ``"3.5 min"``, ``"1.2 h"``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _check_sink(sink):
    if not callable(sink):
        raise InvalidParameterTypeError(
            f"sink={sink!r} must be a callable that takes one line of text, such as print")
    return sink


class TimeBudget(Callback):
    """End training cleanly once a wall-clock (or CPU-time) budget is spent.

    The first epoch of a ``fit`` always completes and is kept, however small the
    budget: a fitted separator has at least one trained epoch, and a budget
    shorter than one epoch means exactly one epoch. After the first epoch the
    budget is checked at the end of every epoch and after every training batch,
    so it holds even when one epoch is long: training stops within one batch of
    the budget, as if interrupted with Ctrl-C, and the weights of the best
    completed epoch are kept. A ``fit`` that resumes from a checkpoint starts a
    new budget.

    Parameters
    ----------
    seconds : float
        Training budget in seconds, counted from the start of ``fit``.
    clock : {"wall", "process"}, default="wall"
        What a second is: ``"wall"`` counts elapsed time (:func:`time.monotonic`),
        ``"process"`` the CPU time of this process over all its threads
        (:func:`time.process_time`). The process clock gives trainings that share a
        busy machine the same amount of computation: with one torch thread, a
        budget of 600 process seconds is 10 minutes of one core however loaded the
        machine is (it also counts data loading and validation, not time spent
        waiting).
    within_epoch : bool, default=True
        Also check the budget after every training batch, so that training stops
        within one batch of it. ``False`` checks only at the end of each epoch: the
        budget may be overrun by up to one epoch, but no partial epoch is thrown
        away, which is what a training resumed from its ``checkpoint`` in chunks
        wants (a checkpoint holds completed epochs only).

    Attributes
    ----------
    started_ : float or None
        The clock's reading when training began.
    epochs_completed_ : int
        Epochs completed in this ``fit`` (over all curriculum stages).
    exhausted_ : bool
        Whether the budget ended training (False when training ended by itself).

    Examples
    --------
    >>> from sksep import ChimeraSeparator
    >>> from sksep.callbacks import TimeBudget
    >>> est = ChimeraSeparator(max_epochs=1000, callbacks=[TimeBudget(600)])
    """

    def __init__(self, seconds, clock="wall", within_epoch=True):
        self.seconds = seconds
        self.clock = clock
        self.within_epoch = within_epoch

    def initialize(self):
        check_real(self.seconds, name="seconds", minimum=0.0, exclusive_minimum=True)
        if not isinstance(self.clock, str) or self.clock not in ("wall", "process"):
            raise InvalidParameterTypeError(
                f"clock={self.clock!r} must be 'wall' (elapsed time) or 'process' (CPU "
                f"time of this process)")
        if not isinstance(self.within_epoch, bool):
            raise InvalidParameterTypeError(
                f"within_epoch={self.within_epoch!r} must be True or False")
        self.started_ = None
        self.epochs_completed_ = 0
        self.exhausted_ = False
        return self

    def on_train_begin(self, net, **kwargs):
        if self.started_ is None:
            self.started_ = self._now()

    def _now(self):
        return monotonic() if self.clock == "wall" else process_time()

    def _spent(self):
        return self.epochs_completed_ > 0 and self._now() - self.started_ >= self.seconds

    def _stop(self):
        # skorch ends the fit loop on KeyboardInterrupt and still runs on_train_end.
        self.exhausted_ = True
        raise KeyboardInterrupt

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.within_epoch and self._spent():
            self._stop()

    def on_epoch_end(self, net, **kwargs):
        # After the separator's own callbacks: the epoch is already kept and checkpointed.
        self.epochs_completed_ += 1
        if self._spent():
            self._stop()


class EpochTimeEstimate(Callback):
    """Say, early in the first epoch, about how long one epoch of training takes.

    The first ``n_batches`` training batches of a ``fit`` are timed, and the
    median of their durations (the first batch also pays for warming up) times
    the number of training batches per epoch is the estimate. Validation, a
    forward pass over a smaller set, comes on top of it. Later curriculum stages
    and resumed fits are not estimated again.

    Parameters
    ----------
    n_batches : int, default=3
        Training batches to time (fewer if an epoch has fewer).
    sink : callable, default=print
        Called with the one line of the estimate, e.g.
        ``"about 41 s per epoch (162 batches; timed on the first 3)"``.

    Attributes
    ----------
    seconds_per_epoch_ : float or None
        The estimate, once made.
    batches_per_epoch_ : int or None
        Training batches per epoch.

    Examples
    --------
    >>> from sksep import ChimeraSeparator
    >>> from sksep.callbacks import EpochTimeEstimate
    >>> est = ChimeraSeparator(callbacks=[EpochTimeEstimate()])
    """

    def __init__(self, n_batches=3, sink=print):
        self.n_batches = n_batches
        self.sink = sink

    def initialize(self):
        check_int(self.n_batches, name="n_batches", minimum=1)
        _check_sink(self.sink)
        self.seconds_per_epoch_ = None
        self.batches_per_epoch_ = None
        self._durations = []
        self._batch_started = None
        return self

    def on_train_begin(self, net, X=None, **kwargs):
        if self.batches_per_epoch_ is None and hasattr(X, "__len__"):
            self.batches_per_epoch_ = max(1, math.ceil(len(X) / net.batch_size))

    def _timing(self, training):
        return (training and self.seconds_per_epoch_ is None
                and self.batches_per_epoch_ is not None)

    def on_batch_begin(self, net, training=False, **kwargs):
        if self._timing(training):
            self._batch_started = monotonic()

    def on_batch_end(self, net, training=False, **kwargs):
        if not self._timing(training) or self._batch_started is None:
            return
        self._durations.append(monotonic() - self._batch_started)
        timed = len(self._durations)
        if timed < min(self.n_batches, self.batches_per_epoch_):
            return
        self.seconds_per_epoch_ = statistics.median(self._durations) * self.batches_per_epoch_
        batches = self.batches_per_epoch_
        self.sink(f"about {_duration(self.seconds_per_epoch_)} per epoch ({batches} "
                  f"batch{'' if batches == 1 else 'es'}; timed on the first {timed})")


class EpochLog(Callback):
    """One plain line per epoch: its losses, whether it is the best so far, its duration.

    skorch's own epoch table (``verbose=1``) marks the best values with terminal
    colour codes, which read as noise in a log file or a CI job; this callback
    writes plain lines such as
    ``"epoch 3: training loss 0.2110, validation loss 0.2562 (best so far), 41 s"``.
    "Best" is the lowest validation loss (training loss without a validation set),
    the epoch whose weights a separator keeps.

    Parameters
    ----------
    sink : callable, default=print
        Called with each line.

    Examples
    --------
    >>> from sksep import ChimeraSeparator
    >>> from sksep.callbacks import EpochLog
    >>> est = ChimeraSeparator(callbacks=[EpochLog()])
    """

    def __init__(self, sink=print):
        self.sink = sink

    def initialize(self):
        _check_sink(self.sink)
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [f"{label} {row[key]:.4f}" for key, label in
                  (("train_loss", "training loss"), ("valid_loss", "validation loss"))
                  if key in row]
        monitored = "valid_loss" if "valid_loss" in row else "train_loss"
        if row.get(f"{monitored}_best"):
            losses[-1] += " (best so far)"
        duration = [_duration(row["dur"])] if "dur" in row else []
        self.sink(f"epoch {row['epoch']}: " + ", ".join(losses + duration))
