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
network), ``_quantize.py`` (int8 inference), ``_weights.py`` (the network's weights in
model files), ``_training.py`` (the skorch net and its callbacks) and ``_checkpoint.py``;
``_pipeline.py`` asks a separator, or a Pipeline ending in one, about itself (its final
step, whether its outputs are ordered and named). The torch modules are in
:mod:`sksep.nn`; running them over a clip is :mod:`sksep.inference`'s job.

The classes are imported on first use (PEP 562), so that the light modules of this
package (``_pipeline.py``) can be imported without torch and scikit-learn.
"""

import importlib

from .._constants import SEPARATORS

__all__ = [*SEPARATORS, "all_separators"]


def __getattr__(name):
    # The classes of the one table (sksep._constants.SEPARATORS), from their modules.
    if name not in SEPARATORS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(SEPARATORS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted([*globals(), *SEPARATORS])


def all_separators():
    """Every public separator class, as scikit-learn's ``all_estimators`` lists its own.

    Returns
    -------
    separators : list of (str, type)
        ``(name, class)`` pairs, in the order of the table above (the order
        model files, ``sksep train`` and the API reference use).

    Examples
    --------
    >>> from sksep.separators import all_separators
    >>> [name for name, _ in all_separators()][:2]
    ['OracleMaskSeparator', 'DeepClusteringSeparator']
    """
    return [(name, __getattr__(name)) for name in SEPARATORS]
