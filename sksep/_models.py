"""Loading model files and the trained models shipped inside the package."""

import json
import os
from importlib import resources
from pathlib import Path

from ._persistence import load_estimator
from ._validation import short_repr
from .exceptions import InvalidParameterTypeError

__all__ = ["load", "available_models"]


def available_models():
    """The trained models shipped with sksep.

    Returns
    -------
    models : dict of str to dict
        ``{name: {"file", "estimator", "description", "training", "scores", ...}}``;
        ``scores`` are measured on the MIR-1K test singers (see README).

    Examples
    --------
    >>> from sksep import available_models
    >>> "chimera-mir1k" in available_models()
    True
    """
    registry = resources.files("sksep.models").joinpath("registry.json")
    return json.loads(registry.read_text(encoding="utf-8"))


def load(model, *, device="cpu"):
    """Load a separator saved with ``est.save(path)``, or a shipped model by name.

    Loading never runs code from the file: it holds plain data and tensors only
    and is read with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    model : str, bytes or os.PathLike
        A shipped model's name (see :func:`available_models`, e.g.
        ``"chimera-mir1k"``) or the path of a model file (``bytes`` as
        :func:`os.fsdecode` reads it, as :func:`sksep.separate` takes it).
    device : str, default="cpu"
        Torch device the network is placed on. Model files hold no device: a model
        trained on a GPU loads on a CPU. A device this machine lacks (``"cuda"``
        without CUDA) raises :class:`~sksep.exceptions.DeviceNotAvailableError`.

    Returns
    -------
    estimator : fitted separator

    Raises
    ------
    FileNotFoundError
        No such shipped model or file.
    sksep.exceptions.ModelFileError
        The file is not a sksep model, is truncated, would run code, or comes from
        an incompatible version.

    Examples
    --------
    >>> import sksep
    >>> model = sksep.load("chimera-mir1k")
    >>> type(model).__name__, model.sample_rate_
    ('ChimeraSeparator', 16000)
    """
    if isinstance(model, bytes):
        model = os.fsdecode(model)
    if not isinstance(model, (str, os.PathLike)):
        raise InvalidParameterTypeError(
            f"model={short_repr(model)} must be a shipped model name or a file path (str, "
            f"bytes or os.PathLike)"
        )
    shipped = available_models()
    if isinstance(model, str) and model in shipped:
        entry = shipped[model]
        with resources.as_file(resources.files("sksep.models").joinpath(entry["file"])) as path:
            return load_estimator(path, device=device)
    path = Path(model)
    if not path.exists() and isinstance(model, str) and "/" not in model and \
            not path.suffix:
        names = ", ".join(sorted(shipped)) or "none"
        raise FileNotFoundError(
            f"model={model!r} is neither a shipped model ({names}) nor an existing file"
        )
    return load_estimator(path, device=device)
