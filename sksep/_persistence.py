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
sksep classes.

A model file holds no paths and no device. Callbacks, checkpoint paths and
accelerators are not stored, and a file that carries them is refused (a stored
checkpoint path would make a later ``fit`` write there). The device is chosen
when loading (``device="cpu"`` unless asked); files written before this rule
store one, which is ignored.

Before anything in a file is used, loading checks, in this order:

1. the archive: a zip archive whose members are stored uncompressed (as
   ``torch.save`` writes them) and match their CRC-32, so bytes changed or lost
   after saving are found;
2. the plain data: at most :data:`MAX_PLAIN_DEPTH` levels deep,
   :data:`MAX_PLAIN_VALUES` values, strings (names, settings, keys) of at most
   :data:`MAX_PLAIN_STRING` characters, integers of at most 64 bits and
   :data:`MAX_PLAIN_BYTES` decoded in all, walked without expanding it (a pickle's
   shared references let a small file describe exponentially large data, or name
   every source with one 10 MB string);
3. the tensors: they describe no more bytes than the file stores (no tensor
   expanded from a smaller one, none repeated), and the weights are finite (no NaN
   or inf);
4. the hyper-parameters and fitted attributes: those ``fit`` would refuse
   (``hop_length=0``, two sources of one name) are refused (see
   :meth:`sksep.separators._base.BaseSeparator._check_restored`);
5. the sizes: the stored hyper-parameters and fitted sizes give exactly the
   stored tensors' shapes, checked on torch's ``meta`` device before the network
   is built (see
   :meth:`sksep.separators._weights.NetworkWeightsMixin._check_stored_sizes`).

Messages echo at most a short, escaped prefix of what the file holds
(:func:`sksep._validation.short_repr`).
"""

import dataclasses
import importlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from ._atomic import atomic_write
from ._constants import SEPARATORS, TRANSFORMERS
from ._device import check_device
from ._spectral import FeatureGrid
from ._version import __version__
from ._validation import MAX_ECHO, short_repr
from .exceptions import InvalidInputError, ModelFileError

__all__ = ["save_estimator", "load_estimator", "check_archive", "FORMAT_VERSION",
           "MAX_PLAIN_DEPTH", "MAX_PLAIN_VALUES", "MAX_PLAIN_STRING", "MAX_PLAIN_BYTES"]

FORMAT = "sksep-model"
FORMAT_VERSION = 1

# Objects and paths that only matter while training on one machine: never stored, and
# a file that stores them is refused; a loaded model gets their defaults.
_TRAINING_ONLY_PARAMS = ("callbacks", "checkpoint", "accelerator")
# Where the network runs is chosen by ``load(..., device=)``, not by the file.
_MACHINE_PARAMS = ("device",)

#: Deepest nesting of the plain data in a model file. What sksep writes is at most 5
#: levels deep (``epoch_summary_``: a list of per-epoch dicts; a sub-estimator's tuple).
MAX_PLAIN_DEPTH = 32
#: Most values in a model file's plain data. The largest part of what sksep writes is
#: ``epoch_summary_``, about 5 values per epoch: this allows 200,000 epochs, and
#: walking it takes well under a second.
MAX_PLAIN_VALUES = 1_000_000
#: Longest string (or dict key) in a model file, in characters. What sksep writes are
#: names and settings of at most about 30 (``"ClassConditionalSeparator"``).
MAX_PLAIN_STRING = 1024
#: Most bytes the plain data may decode to, a shared value counted each time it is
#: used (strings: their characters, arrays: their bytes, any other value: 8).
#: ``MAX_PLAIN_VALUES`` values with their keys fit with room to spare.
MAX_PLAIN_BYTES = 64 * 2**20
#: Widest integer in a model file (sizes, seeds, counts are int64).
_MAX_INTEGER_BITS = 64


#: Every class a model file may name (the estimator and its sub-estimators), with the
#: module that defines it. A class missing here can be neither saved inside a model
#: file nor loaded from one; modules are imported only when a file names them.
MODEL_CLASSES = {**TRANSFORMERS, **SEPARATORS}


def _registry():
    """``{name: class}`` of :data:`MODEL_CLASSES`."""
    return {name: getattr(importlib.import_module(module), name)
            for name, module in MODEL_CLASSES.items()}


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


def _under_current_names(stored, former_names):
    """Stored parameters or attributes with names from before a rename replaced.

    Parameters
    ----------
    stored : dict
        Decoded ``params`` or ``attributes`` of a model file.
    former_names : dict of str to str
        ``{former name: current name}`` (the class's ``_former_names``). A value
        stored under a former name replaces the current name's, unless it is
        ``"deprecated"``: the default of a deprecated parameter, which files written
        after the rename store beside the current name.

    Returns
    -------
    current : dict
    """
    current = dict(stored)
    for former, name in former_names.items():
        value = current.pop(former, "deprecated")
        if not (isinstance(value, str) and value == "deprecated"):
            current[name] = value
    return current


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
                raise ModelFileError(f"unknown estimator {short_repr(value['__estimator__'])} "
                                     f"in model file")
            if not isinstance(value.get("params"), dict):
                raise ModelFileError(f"its {value['__estimator__']} has no params dict")
            _refuse_training_only(value["params"], owner=f"its {value['__estimator__']}")
            return registry[value["__estimator__"]](
                **{k: _decode(v) for k, v in value["params"].items()})
        return {k: _decode(v) for k, v in value.items()}
    return value


def save_estimator(estimator, path, *, attributes, state_dict, overwrite=False, half=False):
    """Write ``estimator`` to ``path`` atomically (see the module docstring).

    Parameters
    ----------
    estimator : BaseSeparator
        Its ``get_params(deep=False)`` are stored, minus ``callbacks``, ``checkpoint``,
        ``accelerator`` and ``device``.
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

    params = {k: v for k, v in estimator.get_params(deep=False).items()
              if k not in _TRAINING_ONLY_PARAMS + _MACHINE_PARAMS}
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
    try:  # load would refuse the file: refuse to write it
        _check_finite((f"weight {k!r}", v) for k, v in (payload["state_dict"] or {}).items())
    except ModelFileError as error:
        hint = " (float16 holds at most 65504: save with half=False)" if half else ""
        raise InvalidInputError(f"{str(path)!r} was not written: {error}{hint}") from None
    try:
        for section in ("params", "attributes"):
            for _ in _plain_values(payload[section], section=section):
                pass
    except ModelFileError as error:
        raise InvalidInputError(f"{str(path)!r} was not written: {error}") from None
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write(path, lambda temporary: Path(temporary).write_bytes(buffer.getvalue()),
                        overwrite=overwrite)


def _stored_tensor(tensor, half):
    tensor = tensor.detach().cpu().clone()
    return tensor.half() if half and tensor.is_floating_point() else tensor


def _refuse_training_only(params, *, owner):
    """Refuse stored parameters that only a training run may have (paths, objects);
    ``owner`` says whose parameters they are in the message."""
    stored = sorted(set(params) & set(_TRAINING_ONLY_PARAMS))
    if stored:
        raise ModelFileError(
            f"{owner} stores {stored[0]}={short_repr(params[stored[0]])}; a model file holds "
            f"no paths or training-time objects ({', '.join(_TRAINING_ONLY_PARAMS)}), and "
            f"save never writes them"
        )


def _plain_values(data, *, section):
    """Every value inside a model file's plain data, depth first, within bounds.

    Parameters
    ----------
    data : dict
        ``params`` or ``attributes`` as unpickled (dicts, lists, tuples, scalars,
        tensors); values may be shared, which makes the data larger than the file.
    section : str
        Its name, for the messages.

    Yields
    ------
    name, value : str, object
        The top-level key the value is under, and the value.

    Raises
    ------
    ModelFileError
        Deeper than :data:`MAX_PLAIN_DEPTH`, more than :data:`MAX_PLAIN_VALUES`
        values, a string or key longer than :data:`MAX_PLAIN_STRING`, an integer
        wider than 64 bits, or more than :data:`MAX_PLAIN_BYTES` decoded; raised
        after walking at most that many values.
    """
    size = _decoded_size(data, where=f"its {section}")
    stack = [(value, 1, key) for key, value in data.items()]
    count = 0
    while stack:
        value, depth, key = stack.pop()
        count += 1
        where = f"its {section}[{short_repr(key)}]"
        if count > MAX_PLAIN_VALUES:
            raise ModelFileError(f"its {section} hold more than {MAX_PLAIN_VALUES} values; "
                                 f"expected the plain data of a fitted separator")
        if depth > MAX_PLAIN_DEPTH:
            raise ModelFileError(f"{where} is nested more than {MAX_PLAIN_DEPTH} levels "
                                 f"deep; expected the plain data of a fitted separator")
        size += _decoded_size(value, where=where)
        if size > MAX_PLAIN_BYTES:
            raise ModelFileError(
                f"its {section} decode to more than {MAX_PLAIN_BYTES} bytes (a value used "
                f"several times counts each time; the bound was crossed at {where}); "
                f"expected the plain data of a fitted separator")
        yield key, value
        stack.extend((child, depth + 1, key) for child in _children(value))


def _decoded_size(value, *, where):
    """Bytes that decoding one value of a model file's plain data builds, after checking
    its strings and integers (a container counts its keys; its values are walked).

    Raises
    ------
    ModelFileError
        A string or key longer than :data:`MAX_PLAIN_STRING`, or an integer wider
        than 64 bits; the message names ``where`` and echoes a short prefix.
    """
    if isinstance(value, (str, bytes)):
        _check_string(value, where=where)
        return len(value)
    if isinstance(value, int) and value.bit_length() > _MAX_INTEGER_BITS:
        raise ModelFileError(f"{where} holds an integer of {value.bit_length()} bits; "
                             f"expected at most {_MAX_INTEGER_BITS}")
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return 8 + sum(_decoded_size(key, where=f"a key of {where}") for key in value)
    return 8


def _check_string(text, *, where):
    """Refuse a string (or bytes) longer than :data:`MAX_PLAIN_STRING`."""
    if len(text) > MAX_PLAIN_STRING:
        raise ModelFileError(
            f"{where} holds a string of {len(text)} characters "
            f"({short_repr(text, limit=MAX_ECHO // 4)}); expected names and settings of at "
            f"most {MAX_PLAIN_STRING}")


def _children(value):
    """The values directly inside a container of unpickled plain data."""
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, (list, tuple)):
        return value
    return ()


def _check_tensor_bytes(tensors):
    """Refuse tensors that describe more bytes than the file stores.

    A tensor can be saved as a view that repeats a smaller storage (``expand``), and
    one storage can back many tensors: such a file is small, but checking or using
    its tensors allocates their full size. ``save`` writes every tensor in a storage
    of its own.

    Parameters
    ----------
    tensors : list of (str, Tensor)
        Each tensor with how the message names it.
    """
    described, stored, seen = 0, 0, set()
    for name, tensor in tensors:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            stored += storage.nbytes()
        described += tensor.numel() * tensor.element_size()
        if described > stored:
            raise ModelFileError(
                f"its {name} describes more bytes than the file stores for its tensors (a "
                f"tensor expanded from a smaller one, or one storage used by several); "
                f"expected weights as save writes them")


def _check_finite(tensors):
    """Refuse floating-point tensors holding NaN or inf.

    Parameters
    ----------
    tensors : iterable of (str, Tensor)
        Each tensor with how the message names it.
    """
    for name, tensor in tensors:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"its {name} holds NaN or infinite values; expected finite "
                                 f"weights")


def _check_contents(payload):
    """Check a payload's parts before any of it is decoded (see the module docstring).

    Raises
    ------
    ModelFileError
        The message says what is wrong, without the file's name.
    """
    params, attributes = payload.get("params"), payload.get("attributes")
    state_dict = payload.get("state_dict")
    if not isinstance(params, dict) or not isinstance(attributes, dict):
        raise ModelFileError("it lacks its params or attributes (expected two dicts)")
    if state_dict is not None and not (
            isinstance(state_dict, dict)
            and all(isinstance(v, torch.Tensor) for v in state_dict.values())):
        raise ModelFileError("its state_dict is not a dict of tensors")
    if state_dict is not None and len(state_dict) > MAX_PLAIN_VALUES:
        raise ModelFileError(f"its state_dict holds more than {MAX_PLAIN_VALUES} tensors; "
                             f"expected the weights of a network")
    _decoded_size(state_dict or {}, where="its state_dict")
    _refuse_training_only(params, owner="it")
    tensors = [(f"{section}[{short_repr(key)}]", value)
               for section, data in (("params", params), ("attributes", attributes))
               for key, value in _plain_values(data, section=section)
               if isinstance(value, torch.Tensor)]
    tensors += [(f"weight {short_repr(k)}", v) for k, v in (state_dict or {}).items()]
    _check_tensor_bytes(tensors)
    _check_finite(tensors)


def check_archive(path, *, name):
    """Refuse a zip archive written by ``torch.save`` that was changed after writing.

    Every member must be stored uncompressed (``torch.save`` never compresses,
    and reading a compressed member could take unbounded time) and match the
    CRC-32 recorded for it; names must be unique. Reading costs one pass over the
    file.

    Parameters
    ----------
    path : str or os.PathLike
        A zip archive (see :func:`zipfile.is_zipfile`).
    name : str
        How messages name the file, e.g. ``"'model.sksep'"``.

    Raises
    ------
    ModelFileError
        The message names the damaged member.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = [member.filename for member in members]
            if len(set(names)) != len(names):
                raise ModelFileError(f"{name} is damaged: its archive lists a member twice")
            for member in members:
                if member.compress_type != zipfile.ZIP_STORED:
                    raise ModelFileError(
                        f"{name} is not as torch.save writes it: {member.filename!r} is "
                        f"compressed"
                    )
                with archive.open(member) as handle:  # checks the CRC-32 at the end
                    while handle.read(1 << 20):
                        pass
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as error:
        raise ModelFileError(
            f"{name} is damaged: its archive fails its integrity check ({error}); it was "
            f"changed or corrupted after it was saved"
        ) from None


def _not_an_archive(path):
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PK\x03\x04":  # a zip archive whose end (the central directory) is missing
        return f"{str(path)!r} is not a sksep model file, or it is truncated (incomplete archive)"
    return f"{str(path)!r} is not a sksep model file (not a PyTorch zip archive)"


def _read_payload(path):
    path = Path(os.fsdecode(path))
    if not path.exists():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if path.is_dir():
        raise ModelFileError(f"model file {str(path)!r} is a directory; expected a file")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{str(path)!r} is not a sksep model file: it is empty (0 bytes)")
    # Only zip archives are unpickled: save writes nothing else, and a bare pickle
    # (torch's legacy format) has no checksum.
    if not zipfile.is_zipfile(path):
        raise ModelFileError(_not_an_archive(path))
    check_archive(path, name=repr(str(path)))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        lines = str(error).strip().splitlines()
        reason = (lines[0][:200] if lines else "") or type(error).__name__
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
            f"{str(path)!r} has model format version {short_repr(version)}; this sksep reads "
            f"version {FORMAT_VERSION} (saved by sksep "
            f"{short_repr(payload.get('sksep_version'))})"
        )
    try:
        _check_contents(payload)
    except ModelFileError as error:
        raise ModelFileError(f"{str(path)!r} is refused: {error}") from None
    return payload


def load_estimator(path, *, expected=None, device="cpu"):
    """Read a model file written by :func:`save_estimator`.

    Parameters
    ----------
    path : str or os.PathLike
    expected : type, optional
        Refuse a file holding another estimator class.
    device : str, default="cpu"
        Torch device of the loaded network, whatever device it was trained on.

    Returns
    -------
    estimator : BaseSeparator
        Fitted, ready to ``predict``.

    Raises
    ------
    sksep.exceptions.DeviceNotAvailableError
        This machine has no ``device`` (checked before the file is read).
    sksep.exceptions.ModelFileError
        The file is not a sksep model file, is damaged or inconsistent, or holds
        another class than ``expected``; the message names the file.
    """
    check_device(device)
    payload = _read_payload(path)
    registry = _registry()
    name = payload.get("estimator")
    if not isinstance(name, str) or name not in registry:
        raise ModelFileError(f"{str(path)!r} holds an unknown estimator {short_repr(name)}")
    cls = registry[name]
    if expected is not None and not issubclass(cls, expected):
        raise ModelFileError(
            f"{str(path)!r} holds a {name}, not a {expected.__name__}; load it with sksep.load"
        )
    former_names = getattr(cls, "_former_names", {})
    try:
        params = {k: _decode(v) for k, v in payload["params"].items()
                  if k not in _MACHINE_PARAMS}
        estimator = cls(**_under_current_names(params, former_names))
        if "device" in estimator.get_params(deep=False):
            estimator.set_params(device=device)
        attributes = _under_current_names(
            {k: _decode(v) for k, v in payload["attributes"].items()}, former_names)
        state_dict = payload["state_dict"]
        if state_dict is not None:
            state_dict = {k: v.float() if v.is_floating_point() else v
                          for k, v in state_dict.items()}
        estimator._restore(attributes, state_dict)
    except ModelFileError as error:
        raise ModelFileError(f"{str(path)!r} is refused: {error}") from None
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise ModelFileError(
            f"{str(path)!r} does not match this version of {name}, or is inconsistent: "
            f"{_reason(error)}"
        ) from None
    return estimator


def _reason(error):
    """The first line of ``error``'s message, cut to a short prefix (it may quote the
    file: ``unexpected keyword argument '...'``)."""
    lines = str(error).strip().splitlines()
    reason = lines[0] if lines else type(error).__name__
    return reason if len(reason) <= 2 * MAX_ECHO else reason[:2 * MAX_ECHO] + "..."
