"""Resumable training: a checkpoint written after every epoch, and reading it back.

A neural separator given ``checkpoint=path`` writes, after every completed epoch,
everything a later ``fit`` needs to go on as if it had never stopped: the module's
weights, the optimizer's state, the history so far, the state of the callbacks
that decide what is kept and when to stop (:class:`~sksep.separators._training.KeepBestWeights`,
skorch's ``EarlyStopping``), the torch random number generators (they drive the
batch order and dropout), and where in the curriculum training is. The file is
replaced atomically (:func:`~sksep._atomic.atomic_write`), so a write that is cut
off leaves the previous checkpoint intact.

The file holds plain data and tensors only and is read with
``torch.load(weights_only=True)``. It is tied to the data and settings of the
run that wrote it by a fingerprint; a ``fit`` with other data or settings
refuses it rather than silently resuming something else.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping
from skorch.history import History

from .._atomic import atomic_write
from .._persistence import check_archive
from ._training import bare_module
from ..exceptions import InvalidInputError, ModelFileError

__all__ = ["EpochCheckpoint", "read_checkpoint", "write_checkpoint", "training_fingerprint",
           "early_stopped", "FORMAT"]

FORMAT = "sksep-checkpoint"
FORMAT_VERSION = 1

# Parameters that do not change what training computes: a run may be resumed with
# other values (e.g. without the callback that interrupted it, or on another device).
_IGNORED_PARAMS = ("checkpoint", "callbacks", "verbose", "device", "accelerator")


def training_fingerprint(estimator, records, sources, *, n_validation=0):
    """Hash of what determines a training run: the class, its settings and the data.

    Parameters
    ----------
    estimator : NeuralSeparator
    records : list of SpectrogramRecord
        The training features.
    sources : list of ndarray, each (n_sources, n_samples_i)
    n_validation : int, default=0
        How many of the last records are ``fit``'s ``validation_data`` (0: the
        split is drawn from ``validation_fraction``).

    Returns
    -------
    fingerprint : str
        Hex digest. ``random_state`` counts only when it is an integer: with
        ``None`` or a ``RandomState`` the seed and split are taken from the checkpoint.
    """
    digest = hashlib.sha256(type(estimator).__name__.encode())
    digest.update(f"n_validation={int(n_validation)};".encode())
    params = estimator.get_params(deep=False)
    for name in sorted(params):
        value = params[name]
        if name in _IGNORED_PARAMS or (name == "random_state" and not isinstance(value, int)):
            continue
        digest.update(f"{name}={value!r};".encode())
    for record, clip_sources in zip(records, sources):
        digest.update(np.ascontiguousarray(record.features).tobytes())
        digest.update(np.ascontiguousarray(clip_sources, dtype=np.float32).tobytes())
    return digest.hexdigest()


def _plain(value):
    """JSON fallback for the numpy scalars skorch callbacks put into the history."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _write_bytes(path, data):
    Path(path).write_bytes(data)


def write_checkpoint(path, payload):
    """Serialise ``payload`` and replace the file at ``path`` with it atomically."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    return atomic_write(path, lambda temporary: _write_bytes(temporary, data), overwrite=True)


def read_checkpoint(path, *, estimator_name, fingerprint):
    """The checkpoint at ``path`` if it belongs to this run, ``None`` if there is none.

    Raises
    ------
    ModelFileError
        ``path`` is not a sksep checkpoint, is truncated or damaged (its archive
        fails the CRC-32 check), or was written by a run with another estimator,
        other data or other settings.
    """
    path = Path(path)
    if not path.exists():
        return None
    name = f"checkpoint={str(path)!r}"
    if path.is_dir():
        raise ModelFileError(f"{name} is a directory; expected a file path")
    if zipfile.is_zipfile(path):  # not one: torch.load below says it is truncated
        check_archive(path, name=name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise ModelFileError(
            f"{name} is not a sksep training checkpoint, or it is truncated ({reason}); "
            f"delete it to train from scratch"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not a sksep training checkpoint (no {FORMAT} header)")
    if state.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{name} has checkpoint format version {state.get('format_version')!r}; "
            f"this sksep reads version {FORMAT_VERSION}"
        )
    if state.get("estimator") != estimator_name or state.get("fingerprint") != fingerprint:
        raise InvalidInputError(
            f"{name} was written by a {state.get('estimator')} fit with other data or "
            f"settings than this {estimator_name} fit; delete it, or pass another checkpoint "
            f"path, to train from scratch"
        )
    return state


def _early_stopping(net):
    for _, callback in net.callbacks_:
        if isinstance(callback, EarlyStopping):
            return callback
    return None


def early_stopped(net):
    """Whether skorch's ``EarlyStopping`` ended the last ``partial_fit`` of ``net``."""
    callback = _early_stopping(net)
    return callback is not None and callback.misses_ >= callback.patience


class EpochCheckpoint(Callback):
    """Count completed epochs and, given a path, write a resumable checkpoint after each.

    Put it after ``KeepBestWeights`` and ``EarlyStopping`` (their state at the end of
    the epoch is saved) and before user callbacks (one that interrupts training
    then does so after the epoch is saved).

    Parameters
    ----------
    path : str or os.PathLike or None
        Checkpoint file; ``None`` only counts epochs.
    header : dict
        Plain data written into every checkpoint (format, estimator, fingerprint,
        seed, split).
    accelerator : accelerate.Accelerator or None
        The accelerator training runs through, if any: only its main process writes
        the checkpoint.
    """

    def __init__(self, path=None, header=None, accelerator=None):
        self.path = path
        self.header = header
        self.accelerator = accelerator

    def initialize(self):
        self.stage_ = 0
        self.stage_epochs_ = 0
        self.completed_ = 0
        self.pending_early_stopping_ = None
        return self

    def start_stage(self, stage, epochs_done):
        """Called before each ``partial_fit``: curriculum stage and epochs already done."""
        self.stage_ = int(stage)
        self.stage_epochs_ = int(epochs_done)
        self.completed_ = 0

    def on_train_begin(self, net, **kwargs):
        # EarlyStopping resets itself in its own on_train_begin, which runs before this
        # one: its saved state can only be put back here.
        state, self.pending_early_stopping_ = self.pending_early_stopping_, None
        callback = _early_stopping(net)
        if state is not None and callback is not None:
            callback.misses_ = int(state["misses"])
            callback.dynamic_threshold_ = float(state["dynamic_threshold"])
            callback.best_epoch_ = int(state["best_epoch"])

    def on_epoch_end(self, net, **kwargs):
        self.completed_ += 1
        if self.path is None:
            return
        if self.accelerator is not None and not self.accelerator.is_main_process:
            return
        write_checkpoint(self.path, self._state(net))

    def _state(self, net):
        keep_best = dict(net.callbacks_)["keep_best"]
        early_stopping = _early_stopping(net)
        state = dict(self.header)
        state.update({
            "stage": self.stage_,
            "stage_epochs": self.stage_epochs_ + self.completed_,
            "module": {k: v.detach().cpu() for k, v in bare_module(net).state_dict().items()},
            "optimizer": net.optimizer_.state_dict(),
            "history": json.dumps(net.history.to_list(), default=_plain),
            "keep_best": {"best_loss": float(keep_best.best_loss_),
                          "best_epoch": keep_best.best_epoch_,
                          "best_state": keep_best.best_state_},
            "early_stopping": None if early_stopping is None else {
                "misses": int(early_stopping.misses_),
                "dynamic_threshold": float(early_stopping.dynamic_threshold_),
                "best_epoch": int(early_stopping.best_epoch_)},
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        })
        return state

    def restore(self, net, state, *, stage_complete):
        """Put an initialised net back where ``state`` was written.

        ``stage_complete`` says the checkpoint's stage had run all its epochs: its
        best weights are then restored (as ``KeepBestWeights`` does when a stage ends)
        and the early-stopping state, which belongs to that stage, is dropped.
        """
        module = bare_module(net)
        module.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history = History(json.loads(state["history"]))
        keep_best = dict(net.callbacks_)["keep_best"]
        keep_best.best_loss_ = float(state["keep_best"]["best_loss"])
        keep_best.best_epoch_ = state["keep_best"]["best_epoch"]
        keep_best.best_state_ = state["keep_best"]["best_state"]
        if stage_complete:
            if keep_best.best_state_ is not None:
                module.load_state_dict(keep_best.best_state_)
        else:
            self.pending_early_stopping_ = state["early_stopping"]
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
