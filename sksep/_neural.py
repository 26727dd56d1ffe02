"""Base class of the separators that own a skorch network.

Subclasses provide four things:

* ``_build_module(n_features, n_bins, n_sources)`` -> ``torch.nn.Module``;
* ``_clip_targets(record, sources)`` -> dict of per-clip arrays whose first axis is time;
* ``_objective()`` -> picklable ``objective(module_output, targets) -> loss``;
* ``_masks_from_outputs(outputs, record)`` after ``_reduce_outputs`` picked what
  :func:`~sksep._training.segmentwise` keeps from the module output.

This class does the rest: seeding, the validation split (by clip), feature
standardisation, training on fixed-length segments with an optional curriculum,
keeping the best epoch, and segment-wise inference.
"""

from functools import partial

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.helper import predefined_split
from sklearn.utils import check_random_state

from ._base import BaseSeparator
from ._training import KeepBestWeights, SegmentDataset, SeparationNet, segmentwise
from ._validation import (InvalidAudioTypeError, InvalidInputError, check_int, check_real)

__all__ = ["NeuralSeparator"]


def _as_stages(value, name):
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if not values:
        raise InvalidInputError(f"{name}={value!r} must be an integer or a non-empty tuple")
    return [check_int(v, name=name, minimum=1) for v in values]


class NeuralSeparator(BaseSeparator):
    """Shared fit / predict machinery of the neural separators (see module docstring)."""

    _saved_attributes = BaseSeparator._saved_attributes + (
        "n_features_", "inference_frames_", "seed_", "best_epoch_", "epoch_summary_")

    def _check_params(self):
        stages = _as_stages(self.segment_frames, "segment_frames")
        epochs = _as_stages(self.max_epochs, "max_epochs")
        if len(epochs) == 1:
            epochs = epochs * len(stages)
        if len(epochs) != len(stages):
            raise InvalidInputError(
                f"max_epochs={self.max_epochs!r} must be an integer or have one entry per "
                f"segment_frames stage ({len(stages)})"
            )
        check_real(self.lr, name="lr", minimum=0.0, exclusive_minimum=True)
        check_int(self.batch_size, name="batch_size", minimum=1)
        check_real(self.validation_fraction, name="validation_fraction", minimum=0.0,
                   maximum=0.9)
        check_int(self.patience, name="patience", minimum=1, allow_none=True)
        check_real(self.max_grad_norm, name="max_grad_norm", minimum=0.0,
                   exclusive_minimum=True, allow_none=True)
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise InvalidAudioTypeError(
                f"callbacks={self.callbacks!r} must be a list of skorch callbacks or None"
            )
        check_int(self.verbose, name="verbose", minimum=0)
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError) as error:
            raise InvalidInputError(f"device={self.device!r} is not a torch device: {error}")
        return stages, epochs

    # -- training ---------------------------------------------------------------------------

    def _split(self, n_clips, rng):
        n_valid = int(round(self.validation_fraction * n_clips))
        if self.validation_fraction > 0 and n_clips >= 2:
            n_valid = max(1, min(n_valid, n_clips - 1))
        else:
            n_valid = 0
        order = rng.permutation(n_clips)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _fit(self, records, sources):
        stages, epochs = self._check_params()
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1))
        torch.manual_seed(seed)
        self.seed_ = seed

        features = [r.features for r in records]
        targets = [self._clip_targets(r, s) for r, s in zip(records, sources)]
        train, valid = self._split(len(records), rng)
        train_features = [features[i] for i in train]

        self.n_features_ = int(features[0].shape[1])
        module = self._build_module(self.n_features_, self.grid_.n_bins, self.n_sources_)
        stacked = np.concatenate(train_features, axis=0)
        module.standardize.mean.copy_(torch.from_numpy(stacked.mean(0)))
        module.standardize.scale.copy_(torch.from_numpy(stacked.std(0) + 1e-5))

        def datasets(length):
            train_set = SegmentDataset(train_features, [targets[i] for i in train], length)
            if len(valid) == 0:
                return train_set, None
            return train_set, SegmentDataset([features[i] for i in valid],
                                             [targets[i] for i in valid], length)

        callbacks = [("keep_best", KeepBestWeights())]
        if self.max_grad_norm is not None:
            callbacks.append(("clip", GradientNormClipping(self.max_grad_norm)))
        if self.patience is not None:
            monitor = "valid_loss" if len(valid) else "train_loss"
            callbacks.append(("early_stopping",
                              EarlyStopping(monitor=monitor, patience=self.patience)))
        callbacks.extend(self.callbacks or [])

        train_set, valid_set = datasets(stages[0])
        net = self._make_net(module, max_epochs=epochs[0], callbacks=callbacks,
                             train_split=None if valid_set is None else predefined_split(valid_set))
        net.fit(train_set, None)
        for length, n_epochs in zip(stages[1:], epochs[1:]):
            train_set, valid_set = datasets(length)
            if valid_set is not None:
                net.set_params(train_split=predefined_split(valid_set))
            net.partial_fit(train_set, None, epochs=n_epochs)
        net.module_.eval()
        self.net_ = net
        self.history_ = net.history
        best = dict(net.callbacks_)["keep_best"]
        self.best_epoch_ = best.best_epoch_
        self.inference_frames_ = stages[-1]
        self.epoch_summary_ = [
            {key: row[key] for key in ("epoch", "train_loss", "valid_loss", "dur") if key in row}
            for row in net.history]
        return self

    def _make_net(self, module, *, max_epochs, callbacks=(), train_split=None):
        return SeparationNet(
            module,
            objective=self._objective(),
            optimizer=torch.optim.RMSprop,
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            iterator_train__shuffle=True,
            callbacks=list(callbacks),
            device=self.device,
            verbose=self.verbose,
        )

    # -- model files ------------------------------------------------------------------------

    def _state_dict(self):
        return self.net_.module_.state_dict()

    def _restore(self, attributes, state_dict):
        super()._restore(attributes, state_dict)
        module = self._build_module(self.n_features_, self.grid_.n_bins, self.n_sources_)
        module.load_state_dict(state_dict)
        self.net_ = self._make_net(module, max_epochs=0).initialize()
        self.net_.module_.eval()
        self.history_ = self.net_.history
        return self

    # -- inference --------------------------------------------------------------------------

    def _reduce_outputs(self, outputs, keep=None):
        """Pick ``(tensor, time_axis)`` pairs to keep from the module output."""
        return [(outputs, 2)]

    def _network_outputs(self, record, keep=None):
        return segmentwise(self.net_.module_, record.features, self.inference_frames_,
                           device=self.device, batch_size=self.batch_size,
                           reduce=partial(self._reduce_outputs, keep=keep))

    def _predict_masks(self, records):
        return [self._masks_from_outputs(self._network_outputs(r), r) for r in records]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
