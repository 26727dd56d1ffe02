"""skorch callbacks useful with sksep's separators (pass them in ``callbacks=[...]``)."""

import time

from skorch.callbacks import Callback

from ._validation import check_real

__all__ = ["TimeBudget"]


class TimeBudget(Callback):
    """End training cleanly once a wall-clock budget is spent.

    Checked after every training batch, so the budget holds even when one epoch
    is long: training stops within one batch of the budget, as if interrupted
    with Ctrl-C, and the weights of the best completed epoch are kept (the
    current ones if no epoch completed).

    Parameters
    ----------
    seconds : float
        Training budget in seconds, counted from the start of ``fit``.

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
        return self

    def on_train_begin(self, net, **kwargs):
        if self.started_ is None:
            self.started_ = time.monotonic()

    def on_batch_end(self, net, training=False, **kwargs):
        if training and time.monotonic() - self.started_ >= self.seconds:
            # skorch ends the fit loop on KeyboardInterrupt and still runs on_train_end.
            raise KeyboardInterrupt
