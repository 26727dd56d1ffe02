"""int8 inference of a fitted neural separator.

:class:`QuantizationMixin` gives :class:`~sksep.separators._neural.NeuralSeparator` its
``quantized()`` and ``is_quantized_``; the two functions below do the work on a bare
torch module. An int8 separator predicts on the CPU only and is not saved
(``_weights.py`` refuses it).
"""

import copy
import warnings

import torch
from sklearn.utils.validation import check_is_fitted

from .._device import check_device
from .._validation import InvalidInputError, check_choice

__all__ = ["QuantizationMixin", "quantize_int8", "runs_int8"]


def quantize_int8(module):
    """``module`` with its ``nn.LSTM`` and ``nn.Linear`` layers quantised to int8 (dynamic).

    Parameters
    ----------
    module : torch.nn.Module
        A float32 network on the CPU; it is changed in place (quantise a copy to keep
        the float one).

    Returns
    -------
    module : torch.nn.Module
        What ``torch.ao.quantization.quantize_dynamic`` returns; layers of other kinds
        stay in float32.
    """
    with warnings.catch_warnings():
        # torch 2.13 warns that quantized tensor creation is deprecated (the dynamic
        # LSTM builds placeholder weights with it); it works in the supported range.
        # torch.ao.quantization also announces its move to torchao.
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor",
                                category=UserWarning)
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated",
                                category=DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)


def runs_int8(module):
    """Whether any layer of ``module`` is one of torch's quantised (int8) layers."""
    return any(type(m).__module__.startswith("torch.ao.nn.quantized")
               for m in module.modules())


class QuantizationMixin:
    """``quantized()`` and ``is_quantized_`` of a separator whose fitted network is
    ``self.net_.module_``."""

    def quantized(self, dtype="int8"):
        """A copy of this fitted separator whose LSTM and linear layers run in int8.

        Dynamic quantisation (``torch.ao.quantization.quantize_dynamic``): the weights of
        every ``nn.LSTM`` and ``nn.Linear`` are stored as int8 and the activations are
        quantised on the fly, on the CPU. For the shipped ``chimera-mir1k`` this takes the
        weights from 21.7 to 5.5 MB and the network's time on a 30 s clip to about 0.7x,
        with the validation SI-SDRi unchanged to 0.001 dB (``benchmarks/bench_quantize.py``;
        RESULTS.md). Layers of other kinds (convolutions, the GMM) stay in float32.

        Parameters
        ----------
        dtype : {"int8"}, default="int8"

        Returns
        -------
        separator : same class, fitted
            A deep copy; this separator is left as it was. It predicts on the CPU only
            and cannot be saved (save the float model and quantise after loading) or
            trained further (``fit`` builds a new float32 network).

        Raises
        ------
        sksep.exceptions.InvalidInputError
            ``dtype`` is not ``"int8"``, the separator's ``device`` is not the CPU, or its network has no LSTM or
            linear layer (a U-Net without its recurrent hybrid head).

        Notes
        -----
        torch 2.13 marks ``torch.ao.quantization`` as deprecated in favour of torchao;
        it works across the supported range ``torch>=2.2,<2.14`` (tests/separators/test_quantize.py).

        Examples
        --------
        >>> import sksep
        >>> int8 = sksep.load("chimera-mir1k").quantized()
        >>> int8.is_quantized_
        True
        """
        check_is_fitted(self, "net_")
        check_choice(dtype, name="dtype", choices=("int8",))
        if check_device(self.device).type != "cpu":
            raise InvalidInputError(
                f"quantized() runs the network in int8 on the CPU; this separator's "
                f"device is {self.device!r}: set_params(device='cpu') first")
        twin = copy.deepcopy(self)
        twin.net_.module_ = quantize_int8(twin.net_.module_)
        if not twin.is_quantized_:
            raise InvalidInputError(
                f"this {type(self).__name__}'s network has no LSTM or linear layer to run "
                f"in int8 (a convolutional network stays in float32)")
        return twin

    @property
    def is_quantized_(self):
        """Whether the fitted network runs int8 layers (see :meth:`quantized`)."""
        net = getattr(self, "net_", None)
        return net is not None and runs_int8(net.module_)
