"""The ``sksep`` argument parser: the top-level options and one subparser per command
(their options in ``_arguments.py``)."""

import argparse
import re
import sys

from .._version import __version__
from ._arguments import add_evaluate, add_models, add_separate, add_train, prediction_options
from ._exit import EXIT_CODES_HELP
from ._options import common_options, formatter, paragraphs

_NUMBER = re.compile(r"-?[0-9.]+(e-?[0-9]+)?")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors point file names that start with '-' to '--'."""

    def parse_known_args(self, args=None, namespace=None):
        self._arguments = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        if "unrecognized arguments: " in message:
            candidates = message.split("unrecognized arguments: ", 1)[1].split()
        elif "the following arguments are required" in message:
            candidates = getattr(self, "_arguments", [])
        else:
            candidates = []
        dashed = next((token for token in candidates if self._is_dashed_name(token)), None)
        if dashed is not None:
            message += (f" (a file name that starts with '-' must follow '--', after every "
                        f"option: `-- {dashed}`)")
        super().error(message)

    def _is_dashed_name(self, token):
        """Whether ``token`` looks like a file name argparse took for an unknown option."""
        option = token.split("=", 1)[0]
        return (token.startswith("-") and token not in ("-", "--")
                and not _NUMBER.fullmatch(token)
                and not any(known.startswith(option) for known in self._option_string_actions))


def build_parser():
    """The ``sksep`` argument parser (exposed for documentation tools)."""
    common, prediction = common_options(), prediction_options()
    parser = Parser(
        prog="sksep", formatter_class=formatter,
        description=paragraphs(
            "Music source separation with scikit-learn-style models: separate songs into "
            "stems, train a model on your own stems, evaluate it."),
        epilog="examples:\n"
               "  sksep separate song.mp3    # ./separated/song/{vocals,accompaniment}.wav\n"
               "  sksep train ../MIR-1K --out my.sksep --time-budget 30m\n"
               "  sksep evaluate --model my.sksep ../MIR-1K --out-csv scores.csv\n"
               "  sksep models\n\n" + EXIT_CODES_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", default=False,
                        help="no progress bars or status messages")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="print the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_separate(commands, [common, prediction])
    add_train(commands, [common])
    add_evaluate(commands, [common, prediction])
    add_models(commands, [common])
    return parser
