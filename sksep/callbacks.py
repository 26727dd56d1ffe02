"""skorch callbacks useful with sksep's separators (pass them in ``callbacks=[...]``)."""

import time

from skorch.callbacks import Callback

from ._validation import check_real

__all__ = ["TimeBudget"]


class TimeBudget(Callback):
    """End training cleanly once a wall-clock budget is spent.

    Checked at the end of each epoch: the epoch that crosses the budget is the
    last one. Training then ends as if ``max_epochs`` had been reached, and the
    best epoch's weights are kept as usual.

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

    def on_epoch_end(self, net, **kwargs):
        if time.monotonic() - self.started_ >= self.seconds:
            # skorch ends the fit loop on KeyboardInterrupt and still runs on_train_end.
            raise KeyboardInterrupt
