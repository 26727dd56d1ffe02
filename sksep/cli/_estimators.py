"""The separators ``sksep train`` can train, and their hyper-parameters from the command line.

Every constructor parameter of the chosen separator is reachable with ``--param
NAME=VALUE`` (values read as Python literals: ``64``, ``1e-3``, ``None``, ``(50, 100)``;
other text is a string), and the estimator validates the values with its own
messages. The common training parameters also have options of their own
(:data:`COMMON_OPTIONS`), and the recurrent separators' sizes too
(:data:`SIZE_OPTIONS`). Unset parameters take the small defaults of
:data:`ESTIMATORS`, chosen so that training finishes on a laptop CPU, or, with
``--paper-defaults``, the estimator's own (the papers' settings).
"""

import argparse
import ast
import difflib
import importlib
import re
import textwrap
from dataclasses import dataclass, field

from .._constants import SEPARATORS
from ._exit import UsageError


@dataclass(frozen=True)
class Trainable:
    """One separator ``sksep train --estimator NAME`` can train."""

    #: Class name of the separator, a key of :data:`sksep._constants.SEPARATORS` (its
    #: module is imported only when it is trained).
    class_name: str
    #: What it is, for ``--help``.
    summary: str
    #: Its main hyper-parameters, for ``--help``.
    main_parameters: tuple
    #: The command line's defaults, replacing the estimator's own (papers') sizes.
    defaults: dict = field(default_factory=dict)

    @property
    def module(self):
        """The module that defines the separator, from the one table of estimators."""
        return SEPARATORS[self.class_name]

    def new(self):
        """A new, unfitted instance with the estimator's own defaults."""
        return getattr(importlib.import_module(self.module), self.class_name)()


#: Epochs the command line trains for unless told otherwise (the estimators' own default,
#: the papers' 100, takes a day on a laptop CPU for the recurrent separators).
DEFAULT_EPOCHS = 20

#: Sizes of the recurrent separators' BLSTM by default: 2 layers of 128 units per
#: direction instead of the papers' 4 x 500 (about 20 times fewer weights).
_SMALL_BLSTM = {"hidden_size": 128, "num_layers": 2}

ESTIMATORS = {
    "chimera": Trainable(
        "ChimeraSeparator",
        "BLSTM with a deep-clustering and a mask-inference head (Luo et al. 2017)",
        ("alpha", "embedding_dim", "hidden_size", "num_layers", "mi_objective"),
        {"max_epochs": DEFAULT_EPOCHS, **_SMALL_BLSTM}),
    "dc": Trainable(
        "DeepClusteringSeparator",
        "BLSTM embeddings clustered by K-means (Hershey et al. 2016)",
        ("embedding_dim", "hidden_size", "num_layers", "cluster_naming"),
        {"max_epochs": DEFAULT_EPOCHS, **_SMALL_BLSTM}),
    "class-conditional": Trainable(
        "ClassConditionalSeparator",
        "embeddings with a Gaussian per source class (Seetharaman et al. 2019)",
        ("covariance_type", "embedding_dim", "dc_weight", "hidden_size", "num_layers"),
        {"max_epochs": DEFAULT_EPOCHS, **_SMALL_BLSTM}),
    "conv": Trainable(
        "ConvMaskSeparator",
        "CNN over a few context frames, soft or binary masks (Roma et al. 2018)",
        ("objective", "context", "conv_layers", "channels", "fc_layers", "hidden_size"),
        {"max_epochs": DEFAULT_EPOCHS, "channels": 8, "hidden_size": 256}),
    "unet": Trainable(
        "UNetSeparator",
        "U-Net on spectrogram patches; hybrid=True adds a Chimera BLSTM (the UH-net, Xi)",
        ("hybrid", "channels", "depth", "dropout"),
        {"max_epochs": DEFAULT_EPOCHS}),
}

#: Set for every estimator, ``--paper-defaults`` or not: the same command trains the same
#: model twice.
ALWAYS = {"random_state": 0}

#: Options every estimator takes: option destination -> constructor parameter.
COMMON_OPTIONS = {"epochs": "max_epochs", "segment_frames": "segment_frames", "lr": "lr",
                  "optimizer": "optimizer", "batch_size": "batch_size", "device": "device",
                  "validation_fraction": "validation_fraction",
                  "random_state": "random_state"}

_RECURRENT = ("chimera", "dc", "class-conditional")

#: Options for the size of the recurrent separators: destination -> (parameter, estimators).
SIZE_OPTIONS = {"hidden_size": ("hidden_size", _RECURRENT),
                "layers": ("num_layers", _RECURRENT),
                "embedding_dim": ("embedding_dim", _RECURRENT),
                "alpha": ("alpha", ("chimera",))}

#: Parameters ``sksep train`` sets itself (progress output), or that no literal can give.
CONTROLLED = {"callbacks": "sksep train sets it (progress output, --time-budget)",
              "verbose": "sksep train sets it (--quiet)",
              "accelerator": "it takes an accelerate.Accelerator object"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parameter(text):
    """An argparse ``type`` for ``--param NAME=VALUE``: the pair ``(name, value)``."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not _NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"{text!r} must be NAME=VALUE, e.g. hidden_size=256 or rnn_type=gru")
    return name, _literal(value.strip())


def _literal(text):
    """A Python literal (``64``, ``1e-3``, ``(50, 100)``, ``None``, ``True``; also ``none``,
    ``true``, ``false``), else the text itself."""
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def make_estimator(args):
    """The separator ``args`` asks for, its parameters set but not yet validated (the
    estimator validates them when it is fitted).

    Raises
    ------
    UsageError
        An option that does not apply to the estimator, a parameter it does not have or
        that the command line sets itself, or one set twice.
    """
    trainable = ESTIMATORS[args.estimator]
    estimator = trainable.new()
    known = estimator.get_params(deep=True)
    given = _given_parameters(args, known)
    for name in given:
        if name in CONTROLLED:
            raise UsageError(f"--param {name}: not settable from the command line; "
                             f"{CONTROLLED[name]}")
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            raise UsageError(
                f"--param {name}: {trainable.class_name} has no parameter {name!r}"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + f"; its parameters: {', '.join(sorted(set(known) - set(CONTROLLED)))}")
    defaults = {} if args.paper_defaults else trainable.defaults
    estimator.set_params(**{**ALWAYS, **defaults, **given})
    return estimator


def _given_parameters(args, known):
    """The parameters set on the command line: ``--param`` pairs and the options of
    :data:`COMMON_OPTIONS` and :data:`SIZE_OPTIONS`; each at most once. ``known``: the
    estimator's parameters."""
    given, origin = {}, {}
    options = [(f"--{dest.replace('_', '-')}", name, getattr(args, dest))
               for dest, name in COMMON_OPTIONS.items()]
    for dest, (name, estimators) in SIZE_OPTIONS.items():
        option, value = f"--{dest.replace('_', '-')}", getattr(args, dest)
        if value is not None and args.estimator not in estimators:
            instead = (f"; set {args.estimator}'s {name} with --param {name}=..."
                       if name in known else "")
            raise UsageError(f"{option} applies to --estimator {', '.join(estimators)} "
                             f"only{instead}")
        options.append((option, name, value))
    options += [(f"--param {name}", name, value) for name, value in args.param or ()]
    for option, name, value in options:
        if value is None and not option.startswith("--param"):
            continue
        if name in given:
            raise UsageError(f"{origin[name]} and {option} both set {name}; give it once")
        given[name], origin[name] = value, option
    return given


def planned_epochs(estimator):
    """Epochs ``estimator`` trains at most: ``max_epochs``, over every curriculum stage."""
    epochs, frames = estimator.max_epochs, estimator.segment_frames
    if isinstance(epochs, (tuple, list)):
        return sum(epochs)
    return epochs * (len(frames) if isinstance(frames, (tuple, list)) else 1)


def estimators_help():
    """The ``--help`` lines that list the estimators, their main parameters and defaults."""
    entries = []
    for name, trainable in ESTIMATORS.items():
        small = ", ".join(f"{key}={value}" for key, value in trainable.defaults.items()
                          if key != "max_epochs")
        text = (f"{trainable.class_name}: {trainable.summary}. Main parameters: "
                f"{', '.join(trainable.main_parameters)}"
                + (f" (here by default {small})." if small else "."))
        entries.append(textwrap.fill(text, width=79, initial_indent=f"  {name:<19}",
                                     subsequent_indent=" " * 21, break_on_hyphens=False))
    return "\n".join(entries)
