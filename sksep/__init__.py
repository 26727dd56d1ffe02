"""sksep: scikit-learn-style music source separation.

Feature transformers and targets (:class:`MelFeatures`, :class:`IdealBinaryMask`,
:class:`WienerMask`, :class:`PhaseSensitiveMask`), separators (:class:`OracleMaskSeparator`,
:class:`DeepClusteringSeparator`, :class:`ChimeraSeparator`,
:class:`ClassConditionalSeparator`, :class:`ConvMaskSeparator`,
:class:`UNetSeparator`), songs in one line (:func:`separate`), model files
(:func:`load`, ``est.save``), losses in :mod:`sksep.losses`, data loaders in
:mod:`sksep.datasets`, metrics and scorers in :mod:`sksep.metrics`, long songs in
:mod:`sksep.separation`, segment-wise inference and stitching in :mod:`sksep.inference`,
figures in :mod:`sksep.plotting`, the command line in :mod:`sksep.cli`.

The public names are imported on first use (PEP 562), so that ``import sksep`` and
``sksep --version`` do not import torch, librosa or scikit-learn.
"""

import importlib

from ._constants import SEPARATORS, TRANSFORMERS
from ._version import __version__

#: Public name -> the private module that defines it (the estimators from their one
#: table, :data:`sksep._constants.SEPARATORS` and ``TRANSFORMERS``).
_MODULES = {
    **{name: module.removeprefix("sksep") for name, module in TRANSFORMERS.items()},
    "SpectrogramRecord": "._features",
    "FeatureGrid": "._spectral", "apply_masks": "._spectral",
    **{name: module.removeprefix("sksep") for name, module in SEPARATORS.items()},
    "load": "._models", "available_models": "._models",
    "separate": "._api",
}

__all__ = [*_MODULES, "__version__"]

#: Public submodules, also imported on first use (``sksep.metrics.si_sdr`` after a bare
#: ``import sksep`` works as it did when the estimators imported them).
_SUBMODULES = ("audio_io", "callbacks", "cli", "datasets", "exceptions", "inference",
               "losses", "metrics", "models", "nn", "plotting", "separation", "separators")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _MODULES:
        raise AttributeError(f"module 'sksep' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_MODULES, *_SUBMODULES])
