"""The network weights of a neural separator in a model file.

:class:`NetworkWeightsMixin` gives :class:`~sksep.separators._neural.NeuralSeparator`
what :meth:`~sksep.separators._base.BaseSeparator.save` stores besides the
hyper-parameters and fitted attributes (the network's ``state_dict``), and what loading
does with them: check the stored sizes against the stored tensors without allocating
the network, build it, load the weights. ``sksep/_persistence.py`` reads and writes the
file itself.
"""

import torch

from .._validation import InvalidInputError
from ..exceptions import ModelFileError

__all__ = ["NetworkWeightsMixin", "check_stored_shapes"]


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


class NetworkWeightsMixin:
    """The weights part of ``save``/``load`` for a separator that builds its network with
    ``_build_module`` and wraps it with ``_make_net``."""

    def _state_dict(self):
        if self.is_quantized_:
            raise InvalidInputError(
                f"this {type(self).__name__} runs int8 layers (quantized()), which a model "
                f"file does not store: save the float separator and call quantized() after "
                f"loading it")
        return self.net_.module_.state_dict()

    def _restore(self, attributes, state_dict):
        super()._restore(attributes, state_dict)
        if state_dict is None:
            raise ModelFileError(f"it holds no network weights; a {type(self).__name__} "
                                 f"needs them")
        self._check_stored_sizes(state_dict)
        if self.features_ is not None and self.features_.n_features_out_ != self.n_features_:
            raise ModelFileError(
                f"its fitted attributes are invalid: features_ make "
                f"{self.features_.n_features_out_} features per frame, but n_features_="
                f"{self.n_features_}; expected the same number (what the network reads)")
        module = self._build_module(self.n_features_, self.grid_.n_bins, self.n_sources_)
        module.load_state_dict(state_dict)
        self.net_ = self._make_net(module, max_epochs=0, inference=True).initialize()
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
