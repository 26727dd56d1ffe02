"""What the commands that separate with a trained model share: ``--head`` and ``--device``,
and loading the model they name."""

import argparse

from ._exit import usage_errors

#: The model ``separate`` uses by default, as :data:`sksep._api.DEFAULT_MODEL` (not imported
#: here: that module imports scikit-learn).
DEFAULT_MODEL = "chimera-mir1k"


def prediction_options():
    """A parent parser with ``--head`` and ``--device``."""
    prediction = argparse.ArgumentParser(add_help=False)
    prediction.add_argument("--head", choices=("mi", "dc"), default=None,
                            help="Chimera models: predict with the mask-inference head (mi, "
                                 "soft masks) or deep-clustering head (dc, K-means binary "
                                 "masks); default: the model's own setting")
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
