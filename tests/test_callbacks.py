"""Tests for sksep.callbacks: the lines EpochLog and EpochTimeEstimate write and what
TimeBudget records, on a tiny Chimera fitted for real (``sksep train`` relies on them)."""

import re
import time

import pytest

from fast_settings import make
from sksep.callbacks import EpochLog, EpochTimeEstimate, TimeBudget
from sksep.exceptions import InvalidInputError, InvalidParameterTypeError


@pytest.fixture(scope="module")
def clips(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return X[:3], Y[:3]


def _fit(clips, callbacks, **settings):
    return make("ChimeraSeparator", callbacks=callbacks, **settings).fit(*clips)


class TestEpochLog:
    def test_one_plain_line_per_epoch(self, clips):
        lines = []
        _fit(clips, [EpochLog(sink=lines.append)], max_epochs=2, validation_fraction=0.3)
        assert len(lines) == 2
        for epoch, line in enumerate(lines, start=1):
            assert re.fullmatch(rf"epoch {epoch}: training loss \d+\.\d{{4}}, validation loss "
                                rf"\d+\.\d{{4}}( \(best so far\))?, \d+(\.\d)? (s|min|h)", line)
        assert lines[0].count("(best so far)") == 1  # the first epoch is the best so far
        assert not any("\x1b" in line for line in lines)  # no colour codes

    def test_without_validation_the_training_loss_is_monitored(self, clips):
        lines = []
        _fit(clips, [EpochLog(sink=lines.append)], validation_fraction=0.0)
        assert re.fullmatch(r"epoch 1: training loss \d+\.\d{4} \(best so far\), .+", lines[0])

    def test_sink_must_be_callable(self, clips):
        with pytest.raises(InvalidParameterTypeError,
                           match="sink='log.txt' must be a callable that takes one line"):
            _fit(clips, [EpochLog(sink="log.txt")])


class TestEpochTimeEstimate:
    def test_one_estimate_from_the_first_batches(self, clips):
        lines = []
        estimate = EpochTimeEstimate(n_batches=2, sink=lines.append)
        model = _fit(clips, [estimate], max_epochs=2, batch_size=2)
        batches = [row for row in model.history_[0, "batches"] if "train_loss" in row]
        assert estimate.batches_per_epoch_ == len(batches)
        assert estimate.seconds_per_epoch_ > 0
        assert len(lines) == 1, lines  # the first epoch only
        assert re.fullmatch(rf"about \d+(\.\d)? (s|min|h) per epoch \({len(batches)} "
                            rf"batch(es)?; timed on the first {min(2, len(batches))}\)",
                            lines[0])

    def test_bad_settings(self, clips):
        with pytest.raises(InvalidInputError, match="n_batches=0 must be an integer >= 1"):
            _fit(clips, [EpochTimeEstimate(n_batches=0)])
        with pytest.raises(InvalidParameterTypeError, match="sink=None must be a callable"):
            _fit(clips, [EpochTimeEstimate(sink=None)])


class TestTimeBudgetRecordsWhetherItStoppedTraining:
    def test_spent(self, clips):
        budget = TimeBudget(1e-9)
        model = _fit(clips, [budget], max_epochs=3, patience=None)
        assert budget.exhausted_ and budget.epochs_completed_ == 1
        assert [row["epoch"] for row in model.epoch_summary_ if "train_loss" in row] == [1]

    def test_not_spent(self, clips):
        budget = TimeBudget(3600)
        _fit(clips, [budget], max_epochs=2, patience=None)
        assert not budget.exhausted_ and budget.epochs_completed_ == 2

    @pytest.mark.parametrize("clock", ["wall", "process"])
    def test_clocks(self, clips, clock):
        spent, ample = TimeBudget(1e-9, clock=clock), TimeBudget(3600, clock=clock)
        _fit(clips, [spent], max_epochs=3, patience=None)
        _fit(clips, [ample], max_epochs=2, patience=None)
        assert (spent.exhausted_, spent.epochs_completed_) == (True, 1)
        assert (ample.exhausted_, ample.epochs_completed_) == (False, 2)

    def test_process_clock_counts_cpu_time(self, clips):
        budget = TimeBudget(3600, clock="process")
        before = time.process_time()
        _fit(clips, [budget], max_epochs=1, patience=None)
        assert before <= budget.started_ <= time.process_time()

    @pytest.mark.parametrize("clock", ["cpu", None, 1])
    def test_bad_clock(self, clips, clock):
        with pytest.raises(InvalidParameterTypeError, match=r"clock=.* must be 'wall'"):
            _fit(clips, [TimeBudget(10, clock=clock)])


class TestTimeBudgetWithinEpoch:
    """``within_epoch=False`` stops only at the end of an epoch, so a training resumed from
    its checkpoint in chunks loses no partial epoch."""

    def _spent_budget(self, within_epoch):
        budget = TimeBudget(1.0, within_epoch=within_epoch).initialize()
        budget.started_ = budget._now() - 10.0  # ten seconds ago: the budget is spent
        budget.epochs_completed_ = 1
        return budget

    def test_batches_go_on_until_the_epoch_ends(self):
        budget = self._spent_budget(within_epoch=False)
        budget.on_batch_end(None, training=True)  # does not stop
        assert not budget.exhausted_
        with pytest.raises(KeyboardInterrupt):
            budget.on_epoch_end(None)
        assert budget.exhausted_

    def test_default_stops_after_a_batch(self):
        budget = self._spent_budget(within_epoch=True)
        with pytest.raises(KeyboardInterrupt):
            budget.on_batch_end(None, training=True)

    def test_a_fit_keeps_whole_epochs(self, clips):
        budget = TimeBudget(1e-9, within_epoch=False)
        model = _fit(clips, [budget], max_epochs=3, patience=None, batch_size=1)
        assert budget.exhausted_ and budget.epochs_completed_ == 1
        assert [row["epoch"] for row in model.epoch_summary_ if "train_loss" in row] == [1]

    @pytest.mark.parametrize("value", [None, 1, "no"])
    def test_bad_value(self, clips, value):
        with pytest.raises(InvalidParameterTypeError, match=r"within_epoch=.* must be True or"):
            _fit(clips, [TimeBudget(10, within_epoch=value)])
