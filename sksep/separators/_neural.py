"""Base class of the separators that own a skorch network.

Subclasses provide four things:

* ``_build_module(n_features, n_bins, n_sources)`` -> ``torch.nn.Module``;
* ``_clip_targets(record, sources)`` -> dict of per-clip arrays whose first axis is time;
* ``_objective()`` -> picklable ``objective(module_output, targets) -> loss``;
* ``_masks_from_outputs(outputs, record)`` after ``_reduce_outputs`` picked what
  :func:`~sksep.separators._training.segmentwise` keeps from the module output.

This class does the rest: seeding, the validation split (by clip), feature
standardisation, training on fixed-length segments with an optional curriculum,
keeping the best epoch, and segment-wise inference.

Two optional constructor parameters of the subclasses are read here (with
``getattr``, so a subclass without them still works):

* ``checkpoint`` (path or None): a resumable checkpoint written after every epoch
  (:mod:`sksep.separators._checkpoint`); ``fit`` resumes from it and deletes it once
  training is complete.
* ``accelerator`` (``accelerate.Accelerator`` or None): train through skorch's
  ``AccelerateMixin`` (several GPUs or processes under ``accelerate launch``).
"""

import os
from functools import partial
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.helper import predefined_split
from sklearn.utils import check_random_state

from ._base import BaseSeparator
from ._checkpoint import FORMAT as CHECKPOINT_FORMAT
from ._checkpoint import EpochCheckpoint, early_stopped, read_checkpoint, training_fingerprint
from ._training import (AcceleratedSeparationNet, KeepBestWeights, SegmentDataset,
                        SeparationNet, bare_module, segmentwise)
from .._validation import (InvalidAudioTypeError, InvalidInputError, check_choice, check_int,
                          check_real, check_sources)
from .._device import check_device
from ..exceptions import ModelFileError

__all__ = ["NeuralSeparator", "OPTIMIZERS", "check_stored_shapes"]

# The ``optimizer`` parameter's choices: Luo et al. and Xi train with RMSprop, Roma et
# al. with Adam.
OPTIMIZERS = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}


def check_stored_shapes(expected, stored):
    """Compare the tensor shapes a module would have with those a model file stores.

    Parameters
    ----------
    expected : dict of str to tuple of int
        Shapes of the module's ``state_dict`` built from the stored sizes.
    stored : dict of str to Tensor
        The stored weights.

    Raises
    ------
    sksep.exceptions.ModelFileError
        A tensor is missing, unexpected, or of another shape; the message names it.
    """
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise ModelFileError(
            f"its weights do not fit its hyper-parameters: missing tensors {missing[:5]}, "
            f"unexpected tensors {unexpected[:5]}"
        )
    for key, shape in expected.items():
        if tuple(stored[key].shape) != shape:
            raise ModelFileError(
                f"its hyper-parameters and fitted sizes ask for {key} of shape {shape}, "
                f"but the file stores shape {tuple(stored[key].shape)}"
            )


def _as_stages(value, name):
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if not values:
        raise InvalidInputError(f"{name}={value!r} must be an integer or a non-empty tuple")
    return [check_int(v, name=name, minimum=1) for v in values]


class NeuralSeparator(BaseSeparator):
    """Shared fit / predict machinery of the neural separators (see module docstring)."""

    _saved_attributes = BaseSeparator._saved_attributes + (
        "n_features_", "inference_frames_", "seed_", "best_epoch_", "epoch_summary_")

    # Constructor parameters that count layers: building a module loops over each in
    # Python, so a model file may not ask for more layers than it stores tensors.
    _layer_count_params = ("num_layers", "conv_layers", "fc_layers", "depth")

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
        check_choice(self.optimizer, name="optimizer", choices=tuple(OPTIMIZERS))
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
        checkpoint = getattr(self, "checkpoint", None)
        if checkpoint is not None:
            if not isinstance(checkpoint, (str, os.PathLike)):
                raise InvalidAudioTypeError(
                    f"checkpoint={checkpoint!r} must be a file path (str or os.PathLike) or None"
                )
            if Path(checkpoint).is_dir():
                raise InvalidInputError(
                    f"checkpoint={str(checkpoint)!r} is a directory; expected a file path"
                )
        accelerator = getattr(self, "accelerator", None)
        if accelerator is not None and not (hasattr(accelerator, "prepare")
                                            and hasattr(accelerator, "unwrap_model")):
            raise InvalidAudioTypeError(
                f"accelerator={accelerator!r} must be an accelerate.Accelerator or None"
            )
        check_device(self.device)
        return stages, epochs

    # -- training ---------------------------------------------------------------------------

    def fit(self, X, Y, *, validation_data=None):
        """Learn to separate the sources ``Y`` from the mixtures ``X``.

        Parameters
        ----------
        X : ndarray (n_clips, n_samples), list of 1-D arrays, or list of SpectrogramRecord
            Mono mixtures at the features' sample rate.
        Y : ndarray (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
            The sources of each mixture, in a fixed order.
        validation_data : tuple (X_valid, Y_valid) or None, default=None
            Clips to validate on, in the forms of ``X`` and ``Y`` (records if ``X`` is
            records). They take the place of the ``validation_fraction`` split: all
            of ``X`` trains, and the validation loss on ``X_valid`` drives early
            stopping and picks the best epoch. Use it when the clips of ``X`` are not
            independent, e.g. when ``X`` holds remixes of the same songs
            (:func:`sksep.datasets.make_remix`), so that no song is on both sides.

        Returns
        -------
        self
        """
        records, sources = self._fit_data(X, Y)
        self._n_validation_clips = 0
        if validation_data is not None:
            valid_records, valid_sources = self._validation_data(validation_data)
            records, sources = records + valid_records, sources + valid_sources
            self._n_validation_clips = len(valid_records)
        try:
            self._fit(records, sources)
        finally:
            del self._n_validation_clips
        return self

    def _validation_data(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InvalidInputError(
                f"validation_data must be a pair (X_valid, Y_valid); got "
                f"{type(validation_data).__name__}"
                + (f" of length {len(validation_data)}"
                   if isinstance(validation_data, (tuple, list)) else "")
            )
        X_valid, Y_valid = validation_data
        if X_valid is None or Y_valid is None or len(X_valid) == 0:
            raise InvalidInputError("validation_data=(X_valid, Y_valid) needs at least one "
                                    "clip and its sources; got an empty or None part")
        try:
            records, _ = self._as_records(X_valid)
        except InvalidInputError as error:  # name the argument the message is about
            raise type(error)(f"validation_data: {error}") from None
        sources = check_sources(Y_valid, [r.n_samples for r in records], name="Y_valid",
                                n_sources=self.n_sources_)
        return records, sources

    def _split(self, n_clips, rng):
        n_valid = int(round(self.validation_fraction * n_clips))
        if self.validation_fraction > 0 and n_clips >= 2:
            n_valid = max(1, min(n_valid, n_clips - 1))
        else:
            n_valid = 0
        order = rng.permutation(n_clips)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _training_run(self, records, sources, checkpoint):
        """The checkpoint to resume (or None) and the header of this run's checkpoints.

        The header holds the seed and the train / validation split: drawn from
        ``random_state``, or those of the run being resumed (``random_state`` may be None).
        """
        header = {"format": CHECKPOINT_FORMAT, "format_version": 1,
                  "estimator": type(self).__name__}
        resume = None
        if checkpoint is not None:
            header["fingerprint"] = training_fingerprint(
                self, records, sources,
                n_validation=getattr(self, "_n_validation_clips", 0))
            resume = read_checkpoint(checkpoint, estimator_name=header["estimator"],
                                     fingerprint=header["fingerprint"])
        if resume is None:
            rng = check_random_state(self.random_state)
            seed = int(rng.randint(2**31 - 1))
            n_given = getattr(self, "_n_validation_clips", 0)
            if n_given:  # validation_data: the last n_given records
                train = np.arange(len(records) - n_given)
                valid = np.arange(len(records) - n_given, len(records))
            else:
                train, valid = self._split(len(records), rng)
        else:
            seed, train, valid = resume["seed"], resume["train"], resume["valid"]
        header.update(seed=int(seed), train=[int(i) for i in train],
                      valid=[int(i) for i in valid])
        return resume, header

    def _fit(self, records, sources):
        stages, epochs = self._check_params()
        checkpoint = getattr(self, "checkpoint", None)
        resume, header = self._training_run(records, sources, checkpoint)
        train, valid = header["train"], header["valid"]
        torch.manual_seed(header["seed"])
        self.seed_ = header["seed"]

        features = [r.features for r in records]
        targets = [self._clip_targets(r, s) for r, s in zip(records, sources)]
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
        # After keep_best and early_stopping (their end-of-epoch state is saved), before
        # the user's callbacks (one that interrupts does so after the epoch is saved).
        callbacks.append(("epoch_checkpoint", EpochCheckpoint(checkpoint, header)))
        callbacks.extend(self.callbacks or [])

        accelerator = getattr(self, "accelerator", None)
        net = self._make_net(module, max_epochs=epochs[0], callbacks=callbacks,
                             accelerator=accelerator).initialize()
        counter = dict(net.callbacks_)["epoch_checkpoint"]
        first, done = 0, 0
        if resume is not None:
            first, done = int(resume["stage"]), int(resume["stage_epochs"])
            stage_complete = done >= epochs[first]
            counter.restore(net, resume, stage_complete=stage_complete)
            if stage_complete:
                first, done = first + 1, 0
        finished, stage = True, first
        for stage in range(first, len(stages)):
            train_set, valid_set = datasets(stages[stage])
            net.set_params(train_split=None if valid_set is None else predefined_split(valid_set))
            remaining = epochs[stage] - done
            counter.start_stage(stage, done)
            net.partial_fit(train_set, None, epochs=remaining)
            done = 0
            # skorch ends training quietly on KeyboardInterrupt: unless early stopping
            # raised it, it was Ctrl-C or a callback such as TimeBudget, and the whole fit
            # ends here (the checkpoint, if any, is kept for a later fit to resume).
            if net.interrupted_ and not early_stopped(net):
                finished = False
                break
        self.best_epoch_ = dict(net.callbacks_)["keep_best"].best_epoch_
        if accelerator is not None:
            # A plain net on ``device`` for inference, saving and pickling.
            plain = self._make_net(bare_module(net).to(self.device), max_epochs=0).initialize()
            plain.history = net.history
            net = plain
        net.module_.eval()
        if checkpoint is not None and finished:
            Path(checkpoint).unlink(missing_ok=True)
        self.net_ = net
        self.history_ = net.history
        self.inference_frames_ = stages[min(stage, len(stages) - 1)]
        self.epoch_summary_ = [
            {key: row[key] for key in ("epoch", "train_loss", "valid_loss", "dur") if key in row}
            for row in net.history]
        return self

    def _make_net(self, module, *, max_epochs, callbacks=(), train_split=None,
                  accelerator=None):
        """The skorch net that trains ``module``.

        With an ``accelerate.Accelerator`` the net is an
        :class:`~sksep.separators._training.AcceleratedSeparationNet`: the accelerator places the
        module and batches on its device(s) and, under ``accelerate launch``, shards
        the batches over the processes and averages the gradients.
        """
        settings = dict(
            objective=self._objective(),
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            iterator_train__shuffle=True,
            callbacks=list(callbacks),
            verbose=self.verbose,
        )
        if accelerator is None:
            return SeparationNet(module, device=self.device, **settings)
        # The module is unwrapped once, at the end of fit, not after each curriculum
        # stage (partial_fit would go on training the unwrapped module).
        # The mixin's default sink (accelerator.print) would print the table even
        # with verbose=0; skorch stays quiet only with the plain print.
        return AcceleratedSeparationNet(module, accelerator=accelerator, device=None,
                                        unwrap_after_train=False,
                                        callbacks__print_log__sink="auto" if self.verbose
                                        else print, **settings)

    # -- model files ------------------------------------------------------------------------

    def _state_dict(self):
        return self.net_.module_.state_dict()

    def _restore(self, attributes, state_dict):
        super()._restore(attributes, state_dict)
        if state_dict is None:
            raise ModelFileError(f"it holds no network weights; a {type(self).__name__} "
                                 f"needs them")
        self._check_stored_sizes(state_dict)
        module = self._build_module(self.n_features_, self.grid_.n_bins, self.n_sources_)
        module.load_state_dict(state_dict)
        self.net_ = self._make_net(module, max_epochs=0).initialize()
        self.net_.module_.eval()
        self.history_ = self.net_.history
        return self

    def _check_stored_sizes(self, state_dict):
        """Refuse stored sizes that do not match the stored weights, allocating nothing.

        The module is built on torch's ``meta`` device (shapes without storage), so a
        file asking for ``hidden_size=10**9`` fails here instead of allocating it.
        """
        for name in self._layer_count_params:
            value = getattr(self, name, None)
            if isinstance(value, int) and value > len(state_dict):
                raise ModelFileError(
                    f"{name}={value} asks for more layers than the file stores tensors "
                    f"({len(state_dict)})"
                )
        sizes = (self.n_features_, self.grid_.n_bins, self.n_sources_)
        try:
            with torch.device("meta"):
                module = self._build_module(*sizes)
        except RuntimeError as error:  # e.g. more elements than an int64 counts
            raise ModelFileError(
                f"its hyper-parameters and fitted sizes (n_features_, n_bins, n_sources_ = "
                f"{sizes}) ask for a network that cannot be built: {error}"
            ) from None
        check_stored_shapes({key: tuple(tensor.shape)
                             for key, tensor in module.state_dict().items()}, state_dict)

    # -- inference --------------------------------------------------------------------------

    def _check_ready(self):
        # ``device`` may have been set after fit or load: the network follows it.
        device = check_device(self.device)
        net = getattr(self, "net_", None)
        if net is not None:
            net.module_.to(device)

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
