"""Model files: weights plus hyper-parameters as plain data, never executable code.

A model file is written by ``torch.save`` and holds only dicts, lists, strings,
numbers and tensors::

    {"format": "sksep-model", "format_version": 1, "sksep_version": "0.1.0",
     "estimator": "ChimeraSeparator", "params": {...}, "attributes": {...},
     "state_dict": {...}}

It is read back with ``torch.load(weights_only=True)``, whose restricted
unpickler refuses anything but those types: a file that would run code when
unpickled is rejected before anything in it runs. Sub-estimators among the
parameters (``features=MelFeatures(...)``, targets) are stored as
``{"__estimator__": name, "params": {...}}`` and rebuilt from an allow-list of
sksep classes. Callbacks, checkpoint paths and accelerators are not stored.
"""

import dataclasses
import io
from pathlib import Path

import numpy as np
import torch

from ._atomic import atomic_write
from ._spectral import FeatureGrid
from .exceptions import InvalidInputError, ModelFileError

__all__ = ["save_estimator", "load_estimator", "FORMAT_VERSION"]

FORMAT = "sksep-model"
FORMAT_VERSION = 1

# Objects and paths that only matter while training on one machine; a loaded model
# gets their defaults.
_TRAINING_ONLY_PARAMS = ("callbacks", "checkpoint", "accelerator")


def _registry():
    import sksep
    return {name: getattr(sksep, name) for name in sksep.__all__
            if isinstance(getattr(sksep, name), type)
            and hasattr(getattr(sksep, name), "get_params")}


def _encode(value, *, name):
    """Plain-data form of a hyper-parameter or fitted attribute."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return {"__tuple__" if isinstance(value, tuple) else "__list__":
                [_encode(v, name=f"{name}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiub":
            raise InvalidInputError(f"{name} is an array of dtype {value.dtype}; cannot save it")
        return {"__array__": torch.from_numpy(np.ascontiguousarray(value))}
    if isinstance(value, dict):
        return {"__dict__": {str(k): _encode(v, name=f"{name}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, FeatureGrid):
        return {"__grid__": dataclasses.asdict(value)}
    if hasattr(value, "get_params") and type(value).__name__ in _registry():
        return {"__estimator__": type(value).__name__,
                "params": {k: _encode(v, name=f"{name}.{k}")
                           for k, v in value.get_params(deep=False).items()}}
    raise InvalidInputError(
        f"{name}={value!r} cannot be stored in a model file (only numbers, strings, tuples, "
        f"arrays and sksep estimators)"
    )


def _decode(value):
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_decode(v) for v in value["__tuple__"])
        if "__list__" in value:
            return [_decode(v) for v in value["__list__"]]
        if "__array__" in value:
            return value["__array__"].numpy()
        if "__dict__" in value:
            return {k: _decode(v) for k, v in value["__dict__"].items()}
        if "__grid__" in value:
            return FeatureGrid(**value["__grid__"])
        if "__estimator__" in value:
            registry = _registry()
            if value["__estimator__"] not in registry:
                raise ModelFileError(f"unknown estimator {value['__estimator__']!r} in model file")
            return registry[value["__estimator__"]](
                **{k: _decode(v) for k, v in value["params"].items()})
        return {k: _decode(v) for k, v in value.items()}
    return value


def save_estimator(estimator, path, *, attributes, state_dict, overwrite=False, half=False):
    """Write ``estimator`` to ``path`` atomically (see the module docstring).

    Parameters
    ----------
    estimator : BaseSeparator
        Its ``get_params(deep=False)`` are stored, minus ``callbacks``, ``checkpoint``
        and ``accelerator``.
    path : str or os.PathLike
    attributes : dict
        Fitted attributes needed at predict, plain data.
    state_dict : dict of str to Tensor or None
        Network weights (moved to the CPU).
    overwrite : bool, default=False
    half : bool, default=False
        Store floating-point tensors as float16.

    Returns
    -------
    path : pathlib.Path
    """
    from . import __version__

    params = {k: v for k, v in estimator.get_params(deep=False).items()
              if k not in _TRAINING_ONLY_PARAMS}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sksep_version": __version__,
        "estimator": type(estimator).__name__,
        "params": {k: _encode(v, name=k) for k, v in params.items()},
        "attributes": {k: _encode(v, name=k) for k, v in attributes.items()},
        "state_dict": None if state_dict is None else
        {k: _stored_tensor(v, half) for k, v in state_dict.items()},
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write(path, lambda temporary: Path(temporary).write_bytes(buffer.getvalue()),
                        overwrite=overwrite)


def _stored_tensor(tensor, half):
    tensor = tensor.detach().cpu().clone()
    return tensor.half() if half and tensor.is_floating_point() else tensor


def _read_payload(path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if path.is_dir():
        raise ModelFileError(f"model file {str(path)!r} is a directory; expected a file")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{str(path)!r} is not a sksep model file: it is empty (0 bytes)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        lines = str(error).strip().splitlines()
        reason = (lines[0][:200] if lines else "") or type(error).__name__
        # Only a real pickle (a torch zip archive, or a bare pickle) can hold code; other
        # bytes also fail the restricted unpickler, but they are simply not a model file.
        with open(path, "rb") as handle:
            head = handle.read(4)
        if head != b"PK\x03\x04" and head[:1] != b"\x80":
            raise ModelFileError(
                f"{str(path)!r} is not a sksep model file (not a PyTorch archive)") from None
        if "weights only load failed" in str(error).lower():
            raise ModelFileError(
                f"{str(path)!r} was refused: loading it would need to run code from the file, "
                f"and a sksep model file holds plain data only ({reason})"
            ) from None
        raise ModelFileError(
            f"{str(path)!r} is not a sksep model file, or it is truncated ({reason})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{str(path)!r} is not a sksep model file (no sksep-model header)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} has model format version {version!r}; this sksep reads version "
            f"{FORMAT_VERSION} (saved by sksep {payload.get('sksep_version')!r})"
        )
    return payload


def load_estimator(path, *, expected=None):
    """Read a model file written by :func:`save_estimator`.

    Parameters
    ----------
    path : str or os.PathLike
    expected : type, optional
        Refuse a file holding another estimator class.

    Returns
    -------
    estimator : BaseSeparator
        Fitted, ready to ``predict``.
    """
    payload = _read_payload(path)
    registry = _registry()
    name = payload.get("estimator")
    if name not in registry:
        raise ModelFileError(f"{str(path)!r} holds an unknown estimator {name!r}")
    cls = registry[name]
    if expected is not None and not issubclass(cls, expected):
        raise ModelFileError(
            f"{str(path)!r} holds a {name}, not a {expected.__name__}; load it with sksep.load"
        )
    try:
        estimator = cls(**{k: _decode(v) for k, v in payload["params"].items()})
        attributes = {k: _decode(v) for k, v in payload["attributes"].items()}
        state_dict = payload["state_dict"]
        if state_dict is not None:
            state_dict = {k: v.float() if v.is_floating_point() else v
                          for k, v in state_dict.items()}
        estimator._restore(attributes, state_dict)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ModelFileError(
            f"{str(path)!r} does not match this version of {name}: {error}"
        ) from None
    return estimator
