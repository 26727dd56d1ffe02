"""Base class of the separators that own a skorch network.

Subclasses provide four things:

* ``_build_module(n_features, n_bins, n_sources)`` -> a
  :class:`~sksep.nn.standardize.StandardizedNetwork` (``fit`` sets its feature statistics);
* ``_clip_targets(record, sources)`` -> dict of per-clip arrays whose first axis is time
  (one call of :func:`~sksep.separators._targets.clip_targets` with its settings);
* ``_objective()`` -> picklable ``objective(module_output, targets) -> loss`` (one of
  :mod:`sksep.losses` with its settings);
* ``_masks_from_outputs(outputs, record)`` after ``_reduce_outputs`` picked what
  :func:`~sksep.inference.segmentwise` keeps from the module output (the
  outputs ``_needed_outputs`` names), or after the subclass's own ``_network_outputs``
  ran the network through :mod:`sksep.inference` another way.

This class does the rest: seeding, the validation split (by clip), feature
standardisation, training on fixed-length segments with an optional curriculum,
keeping the best epoch, and segment-wise inference.

The training parameters every neural separator shares live here, once:
:meth:`NeuralSeparator.__init__` assigns them (a subclass lists them in its own
signature, as scikit-learn's ``get_params`` reads it, and hands them over with
:func:`training_arguments`), ``NeuralSeparator._parameter_constraints`` validates them
(a subclass merges its own constraints into a copy), and
:data:`TRAINING_PARAMETERS_DOC` documents them (:func:`document_training_parameters`
puts it into each class docstring).

Every separator's signature, and the Parameters section of its docstring, follow one
order (tests/separators/test_parameter_order.py checks it):

1. its one positional parameter;
2. the family's own parameters: the network, then the objective, then inference;
3. what it trains towards, in :data:`TARGET_PARAMETERS`' order (those it has);
4. :class:`NeuralSeparator`'s parameters, in the order of its ``__init__``
   (``features``, ``segment_frames``, ``lr``, ..., ``weight_decay``);
5. deprecated aliases (default ``"deprecated"``).
"""

import copy
import inspect
import itertools
import math
import os
import re
import textwrap
import threading
from collections import namedtuple
from functools import partial
from numbers import Integral
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.helper import predefined_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseSeparator
from ._checkpoint import FORMAT as CHECKPOINT_FORMAT
from ._checkpoint import EpochCheckpoint, early_stopped, read_checkpoint, training_fingerprint
from ._quantize import QuantizationMixin
from ._training import (AcceleratedSeparationNet, InferenceNet, KeepBestWeights,
                        SegmentDataset, SeparationNet, bare_module)
from ._weights import NetworkWeightsMixin
from ..inference import segmentwise
from .._validation import (InvalidInputError, check_choice, check_int, check_seed,
                          check_real, check_sources, shown)
from .._device import check_device, device_memory
from ..exceptions import InvalidParameterTypeError

__all__ = ["NeuralSeparator", "TrainingProblem", "OPTIMIZERS", "TRAINING_PARAMETERS_DOC", "NETWORK_CONSTRAINTS",
           "TARGET_PARAMETERS", "curriculum", "document_training_parameters",
           "training_arguments"]

#: The mask and target parameters, in the order every separator's signature lists those
#: it has, just before the shared parameters (``features`` first).
TARGET_PARAMETERS = ("mask_target", "dc_target", "mi_target", "mask_grid", "bin_weights")

#: What :meth:`NeuralSeparator.training_problem` returns.
TrainingProblem = namedtuple("TrainingProblem", ["module", "objective", "dataset"])
TrainingProblem.__doc__ = """What ``fit`` trains: a new network, its objective and the training segments.

Attributes
----------
module : torch.nn.Module
    A new, untrained network as ``fit`` builds it, standardising its input with the
    feature statistics of the clips it was built for; its initial weights are drawn
    from torch's global generator (seed it with ``torch.manual_seed``).
objective : callable
    ``objective(outputs, targets) -> loss``: the scalar training loss of the module's
    outputs on a batch and the batch's targets.
dataset : torch.utils.data.Dataset
    Fixed-length segments of the clips, ``(features, targets)`` pairs: features
    ``(segment_frames, n_features)`` float32 and a dict of target arrays, the items
    ``fit`` batches (segments of the first curriculum stage).
"""

# The ``optimizer`` parameter's choices: Luo et al. and Xi train with RMSprop, Roma et
# al. with Adam.
OPTIMIZERS = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}

#: Tensors the size of the weights that each optimizer keeps (RMSprop its running mean
#: of squared gradients; Adam both moments): training holds the weights, their gradients
#: and these.
OPTIMIZER_STATES = {"rmsprop": 1, "adam": 2}

#: Layer counts up to which a network is built, on torch's ``meta`` device, to count its
#: weights before training; each layer beyond adds as many weights as the last one built
#: (stacked layers of one width; a U-Net's ``depth``, which doubles its channels, is at
#: most 8). Building a thousand layers takes Python a second, even without memory.
COUNTED_LAYERS = 8

#: numpydoc entries of the training parameters every neural separator shares, in the
#: order of the signatures; ``{name}`` fields show each class's defaults. Documenting
#: a new training parameter is one entry here.
TRAINING_PARAMETERS_DOC = """\
lr : float, default={lr}
    Learning rate.
optimizer : {{"rmsprop", "adam"}}, default={optimizer}
    ``torch.optim.RMSprop`` or ``torch.optim.Adam``.
max_epochs : int or tuple of int, default={max_epochs}
    Epochs (per curriculum stage when ``segment_frames`` is a tuple).
batch_size : int, default={batch_size}
    Training segments per batch.
validation_fraction : float, default={validation_fraction}
    Share of the training clips held out (whole clips); the weights of the epoch with
    the lowest validation loss are kept. 0 keeps the lowest training loss. ``fit``'s
    ``validation_data`` replaces this split.
patience : int or None, default={patience}
    Stop after this many epochs without improvement (skorch ``EarlyStopping``);
    ``None`` runs every epoch.
max_grad_norm : float or None, default={max_grad_norm}
    Gradient norm clipping; ``None`` does not clip.
device : str, default={device}
    Torch device, e.g. ``"cuda"``.
random_state : int, RandomState or None, default={random_state}
    Seeds the split, the weights, the batch order (and the K-means of the clustering
    separators): the same value gives the same predictions on re-fit.
callbacks : list of skorch callbacks, default={callbacks}
    Added to the net (e.g. ``skorch.callbacks.ProgressBar()``). Not saved in model
    files.
verbose : int, default={verbose}
    skorch's per-epoch table when 1.
checkpoint : str or os.PathLike, default={checkpoint}
    File to which the state of training is written, atomically, after every epoch
    (weights, optimizer, history, best epoch, early stopping, random generators). If
    training is interrupted (Ctrl-C, a killed process, a callback such as
    :class:`~sksep.callbacks.TimeBudget`), ``fit`` with the same data and settings
    resumes from it and ends with the same model as an uninterrupted run with the
    same ``random_state``. The file is deleted once training is complete (all epochs
    run, or early stopping). A checkpoint from other data or settings is refused
    (``ValueError``), not overwritten. Not saved in model files.
accelerator : accelerate.Accelerator, default={accelerator}
    Train through Hugging Face ``accelerate`` (skorch's ``AccelerateMixin``): the
    accelerator places the model and batches, and under ``accelerate launch`` shards
    the batches over processes / GPUs. Inference then runs on ``device``. Not saved
    in model files.
weight_decay : float, default={weight_decay}
    L2 penalty of the optimizer (its ``weight_decay``); 0 adds none.
"""


def _doc_default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def document_training_parameters(docstring, init):
    """Put :data:`TRAINING_PARAMETERS_DOC` into a neural separator's docstring.

    Parameters
    ----------
    docstring : str or None
        The class docstring; one line of its Parameters section is
        ``{training_parameters}`` alone, indented like the other entries. ``None``
        (docstrings stripped by ``python -OO``) is returned as is.
    init : function
        The class's ``__init__``, whose defaults the entries show.

    Returns
    -------
    docstring : str or None
    """
    if docstring is None:
        return None
    defaults = {name: _doc_default(parameter.default)
                for name, parameter in inspect.signature(init).parameters.items()}
    line = re.search(r"^( *)\{training_parameters\}\n", docstring, flags=re.MULTILINE)
    entries = textwrap.indent(TRAINING_PARAMETERS_DOC.format_map(defaults), line.group(1))
    return docstring[:line.start()] + entries + docstring[line.end():]


def training_arguments(arguments):
    """The shared training parameters among the arguments of a subclass's ``__init__``.

    Parameters
    ----------
    arguments : dict
        ``locals()`` at the start of the subclass's ``__init__``.

    Returns
    -------
    training : dict
        The arguments :meth:`NeuralSeparator.__init__` takes, by name.
    """
    return {name: arguments[name] for name in _TRAINING_PARAMETERS}


def _as_list(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _check_stages(value, *, name):
    """``segment_frames`` / ``max_epochs``: a positive integer or a non-empty tuple of them."""
    values = _as_list(value)
    if not values:
        raise InvalidInputError(f"{name}={value!r} must be an integer or a non-empty tuple")
    return [check_int(v, name=name, minimum=1) for v in values]


def curriculum(segment_frames, max_epochs):
    """The training stages: segment length and epochs of each.

    Parameters
    ----------
    segment_frames : int or tuple of int
        One segment length per stage.
    max_epochs : int or tuple of int
        Epochs of every stage, or one entry per stage.

    Returns
    -------
    stages : list of int
        Segment length of each stage, in frames.
    epochs : list of int
        Epochs of each stage.
    """
    stages = [int(s) for s in _as_list(segment_frames)]
    epochs = [int(e) for e in _as_list(max_epochs)]
    if len(epochs) == 1:
        epochs = epochs * len(stages)
    if len(epochs) != len(stages):
        raise InvalidInputError(
            f"max_epochs={max_epochs!r} must be an integer or have one entry per "
            f"segment_frames stage ({len(stages)})"
        )
    return stages, epochs


def _check_callbacks(value, *, name):
    if value is not None and not isinstance(value, (list, tuple)):
        raise InvalidParameterTypeError(
            f"{name}={value!r} must be a list of skorch callbacks or None"
        )
    return value


def _check_checkpoint(value, *, name):
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidParameterTypeError(
            f"{name}={value!r} must be a file path (str or os.PathLike) or None"
        )
    if Path(value).is_dir():
        raise InvalidInputError(f"{name}={str(value)!r} is a directory; expected a file path")
    return value


def _check_accelerator(value, *, name):
    if value is not None and not (hasattr(value, "prepare") and hasattr(value, "unwrap_model")):
        raise InvalidParameterTypeError(
            f"{name}={value!r} must be an accelerate.Accelerator or None"
        )
    return value


#: Constraints of the network parameters that several separators share (a separator
#: picks those it has); declared once so that they read the same everywhere.
NETWORK_CONSTRAINTS = {
    "embedding_dim": partial(check_int, minimum=1),
    "hidden_size": partial(check_int, minimum=1),
    "num_layers": partial(check_int, minimum=1),
    "rnn_type": partial(check_choice, choices=("lstm", "gru")),
    "dropout": partial(check_real, minimum=0.0, maximum=0.95),
    "alpha": partial(check_real, minimum=0.0, maximum=1.0),
    # Index in ``Y`` of the source the MIREX low-frequency rule names (two sources).
    "low_frequency_source": partial(check_int, minimum=-2, maximum=1),
}


class NeuralSeparator(QuantizationMixin, NetworkWeightsMixin, BaseSeparator):
    """Shared fit / predict machinery of the neural separators (see module docstring).

    ``__init__`` takes the training parameters every neural separator shares,
    keyword-only; the subclasses' signatures give their positions and defaults, and
    :data:`TRAINING_PARAMETERS_DOC` documents them in each subclass docstring.
    """

    def __init__(self, *, features, segment_frames, lr, optimizer, max_epochs, batch_size,
                 validation_fraction, patience, max_grad_norm, device, random_state,
                 callbacks, verbose, checkpoint, accelerator, weight_decay):
        self.features = features
        self.segment_frames = segment_frames
        self.lr = lr
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.accelerator = accelerator
        self.weight_decay = weight_decay

    #: ``{parameter: check(value, name=name)}``, validated once per fit by
    #: :meth:`_check_params`; subclasses merge theirs into a copy
    #: (``{**NeuralSeparator._parameter_constraints, ...}``).
    _parameter_constraints = {
        **BaseSeparator._parameter_constraints,
        "segment_frames": _check_stages,
        "max_epochs": _check_stages,
        "lr": partial(check_real, minimum=0.0, exclusive_minimum=True),
        "optimizer": partial(check_choice, choices=tuple(OPTIMIZERS)),
        "batch_size": partial(check_int, minimum=1),
        "validation_fraction": partial(check_real, minimum=0.0, maximum=0.9),
        "patience": partial(check_int, minimum=1, allow_none=True),
        "max_grad_norm": partial(check_real, minimum=0.0, exclusive_minimum=True,
                                 allow_none=True),
        "callbacks": _check_callbacks,
        "verbose": partial(check_int, minimum=0),
        "checkpoint": _check_checkpoint,
        "accelerator": _check_accelerator,
        "device": check_device,
        "random_state": check_seed,
        "weight_decay": partial(check_real, minimum=0.0),
    }

    _saved_attributes = BaseSeparator._saved_attributes + (
        "n_features_", "inference_frames_", "seed_", "best_epoch_", "epoch_summary_")

    _attribute_constraints = {
        **BaseSeparator._attribute_constraints,
        "n_features_": partial(check_int, minimum=1),
        # Inference steps through each clip in segments of this many frames.
        "inference_frames_": partial(check_int, minimum=1),
    }

    #: Hook: the constructor parameters of a subclass that count layers. Building a module
    #: loops over each in Python, so a model file may not ask for more layers than it
    #: stores tensors, and weights are counted beyond :data:`COUNTED_LAYERS` by extrapolation.
    _layer_count_params = ()

    def _check_params(self):
        """Validate the hyper-parameters (:attr:`_parameter_constraints`) and that
        ``max_epochs`` fits the ``segment_frames`` curriculum."""
        super()._check_params()
        curriculum(self.segment_frames, self.max_epochs)

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
        n_validation = 0
        if validation_data is not None:
            valid_records, valid_sources = self._validation_data(validation_data)
            records, sources = records + valid_records, sources + valid_sources
            n_validation = len(valid_records)
        self._fit(records, sources, n_validation=n_validation)
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

    def _training_run(self, records, sources, n_validation):
        """The checkpoint to resume (or None) and the header of this run's checkpoints.

        The header holds the seed and the train / validation split: drawn from
        ``random_state``, or those of the run being resumed (``random_state`` may be None).
        The last ``n_validation`` records are ``fit``'s ``validation_data`` (0: none).
        """
        header = {"format": CHECKPOINT_FORMAT, "format_version": 1,
                  "estimator": type(self).__name__}
        resume = None
        if self.checkpoint is not None:
            header["fingerprint"] = training_fingerprint(self, records, sources,
                                                         n_validation=n_validation)
            resume = read_checkpoint(self.checkpoint, estimator_name=header["estimator"],
                                     fingerprint=header["fingerprint"])
        if resume is None:
            rng = check_random_state(self.random_state)
            seed = int(rng.randint(2**31 - 1))
            if n_validation:  # validation_data: the last n_validation records
                train = np.arange(len(records) - n_validation)
                valid = np.arange(len(records) - n_validation, len(records))
            else:
                train, valid = self._split(len(records), rng)
        else:
            seed, train, valid = resume["seed"], resume["train"], resume["valid"]
        header.update(seed=int(seed), train=[int(i) for i in train],
                      valid=[int(i) for i in valid])
        return resume, header

    def _fit(self, records, sources, *, n_validation=0):
        """Train on ``records`` and ``sources``; the last ``n_validation`` of them are
        ``fit``'s ``validation_data`` (0: the split follows ``validation_fraction``)."""
        stages, epochs = curriculum(self.segment_frames, self.max_epochs)
        checkpoint = self.checkpoint
        resume, header = self._training_run(records, sources, n_validation)
        train, valid = header["train"], header["valid"]
        torch.manual_seed(header["seed"])
        self.seed_ = header["seed"]

        features = [r.features for r in records]
        targets = [self._clip_targets(r, s) for r, s in zip(records, sources)]
        train_features = [features[i] for i in train]

        self.n_features_ = int(features[0].shape[1])
        module = self._standardized_module(train_features)

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
        accelerator = self.accelerator
        callbacks.append(("epoch_checkpoint",
                          EpochCheckpoint(checkpoint, header, accelerator=accelerator)))
        callbacks.extend(self.callbacks or [])

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
                  accelerator=None, inference=False):
        """The skorch net that trains ``module`` (with ``inference``, one that only
        predicts with it: :class:`~sksep.separators._training.InferenceNet`).

        With an ``accelerate.Accelerator`` the net is an
        :class:`~sksep.separators._training.AcceleratedSeparationNet`: the accelerator places the
        module and batches on its device(s) and, under ``accelerate launch``, shards
        the batches over the processes and averages the gradients.
        """
        settings = dict(
            objective=self._objective(),
            optimizer=OPTIMIZERS[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            iterator_train__shuffle=True,
            callbacks=list(callbacks),
            verbose=self.verbose,
        )
        if inference:  # no optimizer, so no optimizer settings (skorch refuses them)
            del settings["optimizer__weight_decay"]
            return InferenceNet(module, device=self.device, **settings)
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

    def _n_weights(self, **overrides):
        """Weights of the network this separator builds for its fitted sizes, with
        ``overrides`` of its hyper-parameters, counted without allocating them; ``inf``
        for a network too large to be built at all (more elements than torch counts)."""
        twin = copy.copy(self)  # only the attributes _build_module reads change
        for name, value in overrides.items():
            setattr(twin, name, value)
        sizes = (twin.n_features_, twin.grid_.n_bins, twin.n_sources_)
        stacked = {name: getattr(twin, name) for name in self._layer_count_params
                   if isinstance(getattr(twin, name, None), Integral)
                   and getattr(twin, name) > COUNTED_LAYERS}

        def count(**layers):
            for name, value in layers.items():
                setattr(twin, name, value)
            with torch.device("meta"):
                module = twin._build_module(*sizes)
            return sum(parameter.numel() for parameter in module.parameters())

        try:
            capped = {name: COUNTED_LAYERS for name in stacked}
            total = count(**capped)
            for name, value in stacked.items():
                per_layer = count(**{**capped, name: COUNTED_LAYERS + 1}) - total
                total += per_layer * (value - COUNTED_LAYERS)
        except (RuntimeError, TypeError, ValueError, OverflowError):
            return math.inf  # e.g. a dimension beyond int64
        return total

    def _check_network_fits(self):
        """Refuse, before allocating anything, a network whose training needs more memory
        than ``device`` has: its weights (float32), their gradients and the optimizer's
        state (:data:`OPTIMIZER_STATES`), counted on the ``meta`` device. Activations are
        not counted, so a network that passes may still not fit; one refused never would.

        Raises
        ------
        sksep.exceptions.InvalidInputError
            The message names the hyper-parameter that makes the network this large
            (the one whose default shrinks it most) and the estimate.
        """
        n_weights = self._n_weights()
        memory = device_memory(self.device)
        needed = n_weights * 4 * (2 + OPTIMIZER_STATES[self.optimizer])
        if memory is None or needed <= memory:
            return
        name = self._largest_network_parameter(n_weights)
        cause = (f"{name}={shown(getattr(self, name))}" if name
                 else f"{type(self).__name__}'s network parameters")
        where = "this machine" if check_device(self.device).type == "cpu" else \
            f"device {self.device!r}"
        if math.isinf(n_weights):
            size = "a network too large for torch to build (a tensor of over 2**63 bytes)"
        else:
            size = (f"a network of {n_weights:.3g} weights ({_in_bytes(4 * n_weights)} as "
                    f"float32; training needs about {_in_bytes(needed)} with the gradients "
                    f"and the {self.optimizer} optimizer's state)")
        raise InvalidInputError(
            f"{cause} asks for {size}, more than the {_in_bytes(memory)} of memory "
            f"{where} has; lower {name or 'the network sizes'}")

    def _largest_network_parameter(self, n_weights):
        """The integer hyper-parameter (not a training one) whose default value shrinks
        the network the most, or None if none does."""
        defaults = {name: parameter.default for name, parameter in
                    inspect.signature(type(self).__init__).parameters.items()}
        shrinks = {}
        for name, value in self.get_params(deep=False).items():
            if (name in _TRAINING_PARAMETERS or not isinstance(value, Integral)
                    or isinstance(value, bool) or value == defaults.get(name, value)):
                continue
            smaller = self._n_weights(**{name: defaults[name]})
            shrinks[name] = n_weights - smaller if smaller < n_weights else 0
        best = max(shrinks, key=shrinks.get, default=None)
        return best if best is not None and shrinks[best] > 0 else None

    def _standardized_module(self, features):
        """A new network that standardises its input with the statistics of ``features``
        (a list of ``(n_frames, n_features)`` arrays)."""
        self._check_network_fits()
        module = self._build_module(self.n_features_, self.grid_.n_bins, self.n_sources_)
        stacked = np.concatenate(features, axis=0)
        module.set_feature_statistics(stacked.mean(0), stacked.std(0) + 1e-5)
        return module

    def training_problem(self, X, Y):
        """What ``fit`` trains on, built for ``X`` and ``Y`` with this separator's settings.

        For profiling a training step, writing a custom training loop or checking an
        objective: the network, objective and segments are those ``fit`` uses, without
        skorch around them. The separator must be fitted (its features, grid and number
        of sources are fixed by ``fit``); its own weights are not used.

        Parameters
        ----------
        X : ndarray (n_clips, n_samples), list of 1-D arrays, or list of SpectrogramRecord
            Mixtures, as for :meth:`fit`.
        Y : ndarray (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
            Their sources, in the order the separator was fitted with.

        Returns
        -------
        problem : TrainingProblem
            ``(module, objective, dataset)``; see :class:`TrainingProblem`.

        Examples
        --------
        >>> import torch
        >>> from sksep import ChimeraSeparator
        >>> from sksep.datasets import load_mir1k
        >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
        >>> X, Y = data.X, data.Y
        >>> est = ChimeraSeparator(hidden_size=8, num_layers=1, embedding_dim=4,
        ...                        segment_frames=16, max_epochs=1).fit(X, Y)
        >>> module, objective, dataset = est.training_problem(X, Y)
        >>> loader = torch.utils.data.DataLoader(dataset, batch_size=4)
        >>> features, targets = next(iter(loader))
        >>> loss = objective(module(features), targets)
        >>> loss.backward()
        """
        check_is_fitted(self, "net_")
        records, _ = self._as_records(X)
        sources = check_sources(Y, [r.n_samples for r in records], name="Y",
                                n_sources=self.n_sources_)
        features = [r.features for r in records]
        targets = [self._clip_targets(r, s) for r, s in zip(records, sources)]
        stages, _ = curriculum(self.segment_frames, self.max_epochs)
        return TrainingProblem(self._standardized_module(features), self._objective(),
                               SegmentDataset(features, targets, stages[0]))

    # -- inference --------------------------------------------------------------------------

    #: Names of the outputs of the network, in the order it returns them.
    _output_names = ("masks",)

    def network_outputs(self, X, *, outputs=None):
        """The network's raw outputs on each clip, before they become masks.

        Parameters
        ----------
        X : ndarray (n_clips, n_samples), list of 1-D arrays, or list of SpectrogramRecord
            Mixtures, as for :meth:`predict`.
        outputs : tuple of str or None, default=None
            Which outputs to compute, among ``"masks"`` (every separator) and
            ``"embedding"`` (the separators with a deep-clustering head); ``None`` is
            the ones :meth:`predict` reads. Asking only for ``"masks"`` skips an
            embedding head.

        Returns
        -------
        outputs : list of dict
            One dict per clip from output name to array: ``"masks"`` ``(n_sources,
            n_frames, n_bins)``, the mask head's output before :meth:`predict_masks`'s
            post-processing (e.g. log-probabilities for a softmax head), and
            ``"embedding"`` ``(n_frames, n_bins, embedding_dim)``.
        """
        check_is_fitted(self, "net_")
        available = self._output_names
        if outputs is None:
            keep = tuple(name for name in available if name in self._needed_outputs())
        else:
            if (isinstance(outputs, str) or not isinstance(outputs, (tuple, list))
                    or not outputs or any(name not in available for name in outputs)):
                raise InvalidParameterTypeError(
                    f"outputs={outputs!r} must be a non-empty tuple of names among "
                    f"{available} (the outputs of {type(self).__name__}'s network), or None")
            keep = tuple(name for name in available if name in outputs)
        records, _ = self._as_records(X)
        return [dict(zip(keep, self._network_outputs(record, keep=keep)))
                for record in records]

    def _check_ready(self):
        # ``device`` may have been set after fit or load: the network follows it.
        device = check_device(self.device)
        net = getattr(self, "net_", None)
        if net is not None:
            if device.type != "cpu" and self.is_quantized_:
                raise InvalidInputError(
                    f"device={self.device!r}: this separator runs int8 layers "
                    f"(quantized()), which run on the CPU only")
            _move_module(net.module_, device)

    def _needed_outputs(self):
        """Names of the network outputs prediction reads, in ``("embedding", "masks")``."""
        return ("masks",)

    def _reduce_outputs(self, outputs, keep=None):
        """Pick ``(tensor, time_axis)`` pairs to keep from the module output.

        A network with two heads returns ``(embedding (batch, T, F, D), masks (batch, C,
        T, F))``; ``keep`` (default :meth:`_needed_outputs`) names the ones to keep, in
        that order. A single output is masks ``(batch, C, T, F)``.
        """
        if not isinstance(outputs, tuple):
            return [(outputs, 2)]
        embedding, masks = outputs
        keep = keep or self._needed_outputs()
        kept = []
        if "embedding" in keep:
            kept.append((embedding, 1))
        if "masks" in keep:
            kept.append((masks, 2))
        return kept

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


#: The shared training parameters, named as in :meth:`NeuralSeparator.__init__`.
_TRAINING_PARAMETERS = tuple(inspect.signature(NeuralSeparator.__init__).parameters)[1:]


def _in_bytes(count):
    """``"4.8 TB"``: a number of bytes in decimal units."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB", "EB"):
        if count < 1000 or unit == "EB":
            return f"{count:.3g} {unit}" if unit != "bytes" else f"{count:.0f} bytes"
        count /= 1000


_MOVING = threading.Lock()


def _move_module(module, device):
    """Put ``module`` on ``device`` unless it is there already.

    Moving a module, even to where it is, makes every RNN in it rebuild its flat weights,
    and a forward pass running meanwhile in another thread (the blocks of one song
    separated with ``n_jobs > 1``) then reads them half rebuilt. So prediction moves the
    network only when its device changed, one thread at a time. A module without
    parameters or buffers (int8 layers keep theirs packed, on the CPU) stays.
    """
    with _MOVING:
        tensor = next(itertools.chain(module.parameters(), module.buffers()), None)
        if tensor is not None and not _is_on(tensor, device):
            module.to(device)


def _is_on(tensor, device):
    """Whether ``tensor`` is on ``device`` (``"cuda"`` without an index matches any GPU)."""
    return tensor.device.type == device.type and (
        device.index is None or tensor.device.index == device.index)

