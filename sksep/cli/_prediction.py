"""What the commands that separate with a trained model share: ``--head`` and ``--device``,
loading the model they name, and when the deep-clustering head's clusters can be named."""

import argparse

from ._exit import UsageError, usage_errors


#: ``--head`` help, shared by ``separate`` and ``evaluate``.
HEAD_HELP = ("Chimera models: predict with the mask-inference head (mi, soft masks) or "
             "deep-clustering head (dc, K-means binary masks); default: the model's own "
             "setting. The dc head names its clusters only for 2-source models: for more "
             "sources `separate` refuses it and `evaluate` matches each clip's clusters to "
             "the true stems (permutation-invariant scores)")


def prediction_options():
    """A parent parser with ``--head``, ``--device`` and ``--int8``."""
    prediction = argparse.ArgumentParser(add_help=False)
    prediction.add_argument("--head", choices=("mi", "dc"), default=None, help=HEAD_HELP)
    prediction.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where the network runs (default cpu); cuda needs a GPU "
                                 "and a CUDA build of torch, else exit code 2")
    prediction.add_argument("--int8", action="store_true",
                            help="run the model's LSTM and linear layers in int8 on the CPU "
                                 "(dynamic quantisation: about 0.7x the network's time for "
                                 "chimera-mir1k, its scores unchanged to 0.01 dB; not with "
                                 "--device cuda)")
    return prediction


def load_model(args):
    """The fitted separator named by ``--model``, with ``--head``, ``--device`` and
    ``--int8`` applied, and its source names."""
    from .._api import configured, named_model
    from ..separation import final_step

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
    from ..exceptions import InvalidInputError

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
    are not theirs (see :func:`sksep._api.clusters_are_named`).

    Raises
    ------
    UsageError
        ``--head dc`` was asked for (exit code 2).
    sksep.exceptions.InvalidInputError
        The model itself predicts with unnamed clusters (exit code 3).
    """
    from .._api import UNNAMED_CLUSTERS, clusters_are_named
    from ..exceptions import InvalidInputError

    if clusters_are_named(model, names):
        return
    reason = (UNNAMED_CLUSTERS if len(names) > 2 else
              "it leaves its K-means clusters unnamed (cluster_naming=None), in no fixed order")
    what = (f"model {str(args.model)!r} separates {len(names)} sources "
            f"({', '.join(names)}) with its deep-clustering head, and {reason}")
    if args.head == "dc":
        raise UsageError(f"--head dc: {what}; expected --head mi, or `sksep evaluate "
                         f"--head dc`, which matches the clusters to the true stems")
    if args.head == "mi":  # a Chimera trained with alpha=1
        what += " (--head mi: trained with alpha=1, its mask-inference head never learned)"
    raise InvalidInputError(
        f"{what}: its stems would be written under arbitrary names; expected a model that "
        f"names its sources (a Chimera with alpha < 1 and --head mi, or another "
        f"estimator). `sksep evaluate` scores this one against the true stems")
