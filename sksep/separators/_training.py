"""skorch plumbing shared by the neural separators.

* :class:`SegmentDataset` cuts per-clip arrays into fixed-length segments
  (Luo et al. train on 100-frame segments), padding short clips and marking the
  padding in ``valid``.
* :class:`SeparationNet` is a small skorch ``NeuralNet`` whose ``get_loss``
  delegates to an objective function ``objective(outputs, targets) -> loss``;
  :class:`InferenceNet` is the same net without an optimizer, for loaded models.
* :class:`KeepBestWeights` restores the weights of the epoch with the lowest
  validation loss at the end of training.
* :class:`AcceleratedSeparationNet` is the same net with skorch's
  ``AccelerateMixin`` (Hugging Face ``accelerate``: several GPUs or processes).

Running a trained module over a clip (segment by segment, as the paper does at test
time) is :mod:`sksep.inference`'s job.
"""

import copy

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

from ..inference import segment_starts

__all__ = ["SegmentDataset", "SeparationNet", "InferenceNet", "KeepBestWeights",
           "AcceleratedSeparationNet", "bare_module"]


class SegmentDataset(torch.utils.data.Dataset):
    """Fixed-length segments of per-clip arrays whose first axis is time.

    Parameters
    ----------
    features : list of ndarray, each (n_frames_i, n_features)
    targets : list of dict of ndarray
        Per clip, arrays whose first axis has ``n_frames_i`` entries.
    segment_frames : int
        Frames per segment; shorter clips are zero-padded and ``valid`` marks the
        real frames.

    Items are ``(features (L, n_features), {name: (L, ...), "valid": (L,)})``.
    """

    def __init__(self, features, targets, segment_frames):
        self.features = features
        self.targets = targets
        self.segment_frames = int(segment_frames)
        self.index = [(clip, start) for clip, f in enumerate(features)
                      for start in segment_starts(f.shape[0], self.segment_frames)]

    def __len__(self):
        return len(self.index)

    def _cut(self, array, start):
        piece = array[start:start + self.segment_frames]
        if piece.shape[0] < self.segment_frames:
            pad = [(0, self.segment_frames - piece.shape[0])] + [(0, 0)] * (piece.ndim - 1)
            piece = np.pad(piece, pad)
        return torch.from_numpy(np.ascontiguousarray(piece))

    def __getitem__(self, i):
        clip, start = self.index[i]
        n_real = min(self.segment_frames, self.features[clip].shape[0] - start)
        valid = torch.zeros(self.segment_frames)
        valid[:n_real] = 1.0
        targets = {name: self._cut(array, start) for name, array in self.targets[clip].items()}
        targets["valid"] = valid
        return self._cut(self.features[clip], start), targets


class SeparationNet(NeuralNet):
    """skorch ``NeuralNet`` whose loss is ``objective(module_output, targets)``.

    Parameters
    ----------
    objective : callable
        Picklable function of the module's output and the dict of target tensors.
    """

    def __init__(self, module, *args, objective=None, criterion=torch.nn.MSELoss, **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.objective = objective

    def get_loss(self, y_pred, y_true, X=None, training=False):
        targets = to_tensor(y_true, device=self.device)
        return self.objective(y_pred, targets)

    def fit_loop(self, X, y=None, **fit_params):
        # skorch's partial_fit swallows KeyboardInterrupt (Ctrl-C, EarlyStopping, TimeBudget)
        # and returns as if training were complete: remember that one came.
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise


class InferenceNet(SeparationNet):
    """:class:`SeparationNet` of a separator read from a model file: it predicts, so no
    optimizer is built. Building a torch optimizer imports ``torch._dynamo`` (about
    1.6 s of a command's start-up); ``fit`` trains a new net of its own."""

    def initialize_optimizer(self, triggered_directly=None):
        self.optimizer_ = None
        return self


class _ObjectiveOnly:
    """Criterion placeholder of :class:`AcceleratedSeparationNet`: the objective computes
    the loss. Not an ``nn.Module``, because accelerate would wrap a module in DDP, which
    refuses one without parameters (as ``MSELoss``) when several processes train."""

    def __call__(self, *args, **kwargs):
        raise RuntimeError("SeparationNet computes its loss with its objective")


class AcceleratedSeparationNet(AccelerateMixin, SeparationNet):
    """:class:`SeparationNet` trained through an ``accelerate.Accelerator``.

    skorch's mixin prepares the module, optimizer and data loaders with the
    accelerator (device placement, DDP across processes, mixed precision).
    ``skorch.hf`` imports ``accelerate`` only when an accelerator is used.
    """

    def __init__(self, module, *args, criterion=_ObjectiveOnly, **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)


def bare_module(net):
    """The net's module without the wrappers ``accelerate`` puts around it (e.g. DDP).

    Its ``state_dict`` has the same keys however the net was trained, and it shares
    its parameters with ``net.module_``.
    """
    accelerator = getattr(net, "accelerator", None)
    return net.module_ if accelerator is None else accelerator.unwrap_model(net.module_)


class KeepBestWeights(Callback):
    """Restore, when training ends, the weights of the epoch with the lowest validation
    loss (or training loss when there is no validation set)."""

    def initialize(self):
        self.best_loss_ = np.inf
        self.best_epoch_ = None
        self.best_state_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        loss = row.get("valid_loss", row.get("train_loss"))
        if loss is not None and np.isfinite(loss) and loss < self.best_loss_:
            self.best_loss_ = float(loss)
            self.best_epoch_ = int(row["epoch"])
            self.best_state_ = copy.deepcopy(bare_module(net).state_dict())

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            bare_module(net).load_state_dict(self.best_state_)
