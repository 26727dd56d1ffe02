"""Torch devices: parse a ``device`` argument, check that this machine has it, and how
much memory it has."""

import os

import torch

from .exceptions import DeviceNotAvailableError, InvalidInputError

__all__ = ["check_device", "device_memory"]


def check_device(device, *, name="device"):
    """Validate a torch device argument and check that this machine has it.

    Parameters
    ----------
    device : str or torch.device
        E.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
    name : str, default="device"
        The argument's name, for the error message.

    Returns
    -------
    device : torch.device

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``device`` is not a torch device.
    sksep.exceptions.DeviceNotAvailableError
        This machine cannot hold tensors on ``device`` (e.g. ``"cuda"`` with a
        CPU-only torch, or no GPU).
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise InvalidInputError(f"{name}={device!r} is not a torch device: {error}") from None
    if parsed.type == "cpu":
        return parsed
    try:  # one probe for every backend (CUDA, MPS, XPU, ...) and device index
        torch.empty(0, device=parsed)
    except (AssertionError, RuntimeError) as error:  # no CUDA build raises AssertionError
        lines = str(error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        raise DeviceNotAvailableError(
            f"{name}={device!r} is not available on this machine ({reason}); pass "
            f"{name}='cpu'"
        ) from None
    return parsed


def device_memory(device):
    """Bytes of memory a network on ``device`` can use: a CUDA GPU's own memory, else
    this machine's physical memory; None where it cannot be told.

    Parameters
    ----------
    device : str or torch.device
        A device this machine has (see :func:`check_device`).

    Returns
    -------
    memory : int or None
    """
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no answer
        return None
