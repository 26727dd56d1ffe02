"""Torch devices: parse a ``device`` argument and check that this machine has it."""

import torch

from .exceptions import DeviceNotAvailableError, InvalidInputError

__all__ = ["check_device"]


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
