"""skorch callbacks useful with sksep's separators (pass them in ``callbacks=[...]``)."""

from time import monotonic

from skorch.callbacks import Callback

from ._validation import check_real

__all__ = ["TimeBudget"]


class TimeBudget(Callback):
    """End training cleanly once a wall-clock budget is spent.

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

    Attributes
    ----------
    started_ : float or None
        :func:`time.monotonic` when training began.
    epochs_completed_ : int
        Epochs completed in this ``fit`` (over all curriculum stages).

    Examples
    --------
    >>> from sksep import ChimeraSeparator
    >>> from sksep.callbacks import TimeBudget
    >>> est = ChimeraSeparator(max_epochs=1000, callbacks=[TimeBudget(600)])
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def initialize(self):
        check_real(self.seconds, name="seconds", minimum=0.0, exclusive_minimum=True)
        self.started_ = None
        self.epochs_completed_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        if self.started_ is None:
            self.started_ = monotonic()

    def _spent(self):
        return self.epochs_completed_ > 0 and monotonic() - self.started_ >= self.seconds

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self._spent():
            # skorch ends the fit loop on KeyboardInterrupt and still runs on_train_end.
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        # After the separator's own callbacks: the epoch is already kept and checkpointed.
        self.epochs_completed_ += 1
        if self._spent():
            raise KeyboardInterrupt
