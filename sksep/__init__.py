"""sksep: scikit-learn-style music source separation.

Feature transformers and targets (:class:`MelFeatures`, :class:`IdealBinaryMask`,
:class:`WienerMask`), separators (:class:`OracleMaskSeparator`,
:class:`DeepClusteringSeparator`, :class:`ChimeraSeparator`,
:class:`ClassConditionalSeparator`, :class:`ConvMaskSeparator`,
:class:`UNetSeparator`), model files (:func:`load`, ``est.save``), losses in
:mod:`sksep.losses`, data loaders in :mod:`sksep.datasets`, metrics and scorers in
:mod:`sksep.metrics`, long songs in :mod:`sksep.separation`, figures in
:mod:`sksep.plotting`, the command line in :mod:`sksep.cli`.
"""

from ._chimera import ChimeraSeparator, DeepClusteringSeparator
from ._class_conditional import ClassConditionalSeparator
from ._conv import ConvMaskSeparator
from ._features import MelFeatures, SpectrogramRecord
from ._masks import IdealBinaryMask, WienerMask
from ._models import available_models, load
from ._oracle import OracleMaskSeparator
from ._spectral import FeatureGrid, apply_masks
from ._unet import UNetSeparator

__version__ = "0.1.0"

__all__ = [
    "MelFeatures",
    "SpectrogramRecord",
    "FeatureGrid",
    "IdealBinaryMask",
    "WienerMask",
    "OracleMaskSeparator",
    "DeepClusteringSeparator",
    "ChimeraSeparator",
    "ClassConditionalSeparator",
    "ConvMaskSeparator",
    "UNetSeparator",
    "apply_masks",
    "load",
    "available_models",
    "__version__",
]
