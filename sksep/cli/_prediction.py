"""What the commands that separate with a trained model share: ``--head`` and ``--device``,
loading the model they name, and when the deep-clustering head's clusters can be named."""

import argparse

from ._exit import UsageError, usage_errors

#: The model ``separate`` uses by default, as :data:`sksep._api.DEFAULT_MODEL` (not imported
#: here: that module imports scikit-learn).
DEFAULT_MODEL = "chimera-mir1k"

#: Why the clusters of more than two sources get no names, for messages. Measured with two
#: 4-stem Chimera models (2 x 96 BLSTM; alpha 0.1 for 15 epochs, alpha 0.5 for 40) trained
#: on the three MUSDB excerpts at 16 kHz: on every song the mask-inference head's stems
#: came in the true stems' order, while the K-means clusters, ordered by their overlap with
#: that head's masks, did so on 1 song of the 6 (drums under bass, vocals under drums...).
UNNAMED_CLUSTERS = (
    "its K-means clusters get names for two sources only (the low-frequency rule: vocals, "
    "accompaniment); matched to the mask-inference head's masks, four clusters were "
    "misnamed (drums as bass) in 5 of 6 trials on the MUSDB excerpts")

#: ``--head`` help, shared by ``separate`` and ``evaluate``.
HEAD_HELP = ("Chimera models: predict with the mask-inference head (mi, soft masks) or "
             "deep-clustering head (dc, K-means binary masks); default: the model's own "
             "setting. The dc head names its clusters only for 2-source models: for more "
             "sources `separate` refuses it and `evaluate` matches each clip's clusters to "
             "the true stems (permutation-invariant scores)")


def prediction_options():
    """A parent parser with ``--head`` and ``--device``."""
    prediction = argparse.ArgumentParser(add_help=False)
    prediction.add_argument("--head", choices=("mi", "dc"), default=None, help=HEAD_HELP)
    prediction.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where the network runs (default cpu); cuda needs a GPU "
                                 "and a CUDA build of torch, else exit code 2")
    return prediction


def load_model(args):
    """The fitted separator named by ``--model``, with ``--head`` and ``--device`` applied,
    and its source names."""
    from .._api import configured, named_model

    model, names = named_model(args.model)
    with usage_errors():
        model = configured(model, head=args.head, device=args.device, copy_first=False)
    return model, names


def clusters_are_named(model, names):
    """Whether the model's outputs carry reliable names: True unless it predicts with
    the deep-clustering head (K-means) and either separates more than two sources or
    leaves its clusters unnamed (``permutation_invariant_``)."""
    from ..separation import final_step

    separator = final_step(model)
    if not _predicts_with_clusters(separator):
        return True
    return len(names) == 2 and not getattr(separator, "permutation_invariant_", False)


def check_cluster_names(args, model, names):
    """Refuse, for ``separate``, a model whose stems would be written under names that
    are not theirs (see :func:`clusters_are_named`).

    Raises
    ------
    UsageError
        ``--head dc`` was asked for (exit code 2).
    sksep.exceptions.InvalidInputError
        The model itself predicts with unnamed clusters (exit code 3).
    """
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


def _predicts_with_clusters(separator):
    """Whether ``separator``'s masks come from K-means on its embeddings: a
    DeepClusteringSeparator, or a ChimeraSeparator with ``head="dc"`` or ``alpha=1``
    (which never trains its mask-inference head)."""
    params = separator.get_params(deep=False)
    if "cluster_naming" in params:  # DeepClusteringSeparator
        return True
    return "head" in params and "alpha" in params and (
        params["head"] == "dc" or params["alpha"] == 1)
