"""The separators: scikit-learn estimators that learn masks and separate mixtures.

=====================================  ==================================================
:class:`OracleMaskSeparator`           ideal masks from the true sources (an upper bound)
:class:`DeepClusteringSeparator`       deep clustering (Hershey et al. 2016)
:class:`ChimeraSeparator`              deep clustering + mask inference (Luo et al. 2017)
:class:`ClassConditionalSeparator`     class-conditional GMM embeddings (Seetharaman et al.)
:class:`ConvMaskSeparator`             the context CNN and its DNN baseline (Roma et al.)
:class:`UNetSeparator`                 the U-Net and its Chimera hybrid (Xi)
=====================================  ==================================================

Each module holds one family's parameters and hooks; what they share lives in
``_base.py`` (every separator), ``_neural.py`` (training and inference of a torch
network), ``_training.py`` (the skorch net and its callbacks) and ``_checkpoint.py``.
The torch modules are in :mod:`sksep.nn`.
"""

from .chimera import ChimeraSeparator, DeepClusteringSeparator
from .class_conditional import ClassConditionalSeparator
from .conv import ConvMaskSeparator
from .oracle import OracleMaskSeparator
from .unet import UNetSeparator

__all__ = ["OracleMaskSeparator", "DeepClusteringSeparator", "ChimeraSeparator",
           "ClassConditionalSeparator", "ConvMaskSeparator", "UNetSeparator"]
