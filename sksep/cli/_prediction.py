"""What the commands that separate with a trained model share: loading the model they
name with ``--head``, ``--device`` and ``--int8`` applied, and refusing stems whose
names the model cannot vouch for (the options themselves are in ``_arguments.py``)."""

from .._api import check_sources_named, configured, named_model
from ..exceptions import InvalidInputError
from ..separators._pipeline import final_step
from ._exit import UsageError, usage_errors


def load_model(args):
    """The fitted separator named by ``--model``, with ``--head``, ``--device`` and
    ``--int8`` applied, and its source names."""
    if getattr(args, "int8", False) and args.device not in (None, "cpu"):
        raise UsageError(f"--int8 runs the network on the CPU; it cannot be combined with "
                         f"--device {args.device}")
    model, names = named_model(args.model)
    with usage_errors():
        model = configured(model, head=args.head, device=args.device, copy_first=False)
        if getattr(args, "int8", False):
            model = _int8(model, final_step(model))
    return model, names


def _int8(model, separator):
    """``model`` (a separator or a Pipeline ending in one) with its separator quantized."""
    if not hasattr(separator, "quantized"):
        raise InvalidInputError(f"--int8 applies to neural separators; this model is a "
                                f"{type(separator).__name__}")
    quantized = separator.quantized()
    if separator is model:
        return quantized
    model.steps[-1] = (model.steps[-1][0], quantized)
    return model


def check_cluster_names(args, model, names):
    """Refuse, for ``separate``, a model whose stems would be written under names that
    are not theirs (:func:`sksep._api.check_sources_named`, which asks the separator).

    Raises
    ------
    UsageError
        ``--head dc`` was asked for (exit code 2).
    sksep.exceptions.InvalidInputError
        The model itself predicts with unnamed clusters (exit code 3).
    """
    try:
        check_sources_named(model, names, model=str(args.model), head=args.head,
                            spelling="cli")
    except InvalidInputError as error:
        if args.head == "dc":
            raise UsageError(str(error)) from None
        raise
