"""What the subcommands' options share: value types, help layout, the common flags."""

import argparse
import math
import re
import textwrap


def formatter(prog):
    """Help layout: descriptions wrapped by :func:`paragraphs`, epilogs kept as written."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def paragraphs(text):
    """Wrap each blank-line-separated paragraph (the raw formatter keeps the epilogs' layout)."""
    return "\n\n".join(textwrap.fill(" ".join(paragraph.split()), width=79,
                                      break_on_hyphens=False)
                       for paragraph in text.split("\n\n"))


def common_options():
    """A parent parser with ``--quiet`` and ``--debug``, accepted after every command."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the command they override, not reset, the top-level flags.
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or status messages (results still go to stdout)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the full traceback of an error")
    return common


def _number_type(parse, kind, accept, requirement):
    """An argparse ``type`` that parses a number and checks its range."""
    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
        return value
    return convert


positive_float = _number_type(float, "a number", lambda v: v > 0 and math.isfinite(v),
                              "a positive number")
positive_int = _number_type(int, "an integer", lambda v: v >= 1, "a positive integer")
fraction = _number_type(float, "a number", lambda v: 0.0 <= v <= 0.9, "between 0 and 0.9")
wiener_iterations = _number_type(int, "an integer", lambda v: 0 <= v <= 10, "between 0 and 10")
unit_interval = _number_type(float, "a number", lambda v: 0.0 <= v <= 1.0, "between 0 and 1")
job_count = _number_type(int, "an integer", lambda v: v >= 1,
                         "a positive integer: the number of songs separated at once "
                         "(1: one at a time)")

_DURATION = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|min|h)?\s*", re.IGNORECASE)
_SECONDS_PER_UNIT = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def duration(text):
    """Seconds from ``"90"``, ``"90s"``, ``"20m"``, ``"20min"`` or ``"1.5h"``."""
    match = _DURATION.fullmatch(text)
    seconds = (float(match.group(1)) * _SECONDS_PER_UNIT[(match.group(2) or "").lower() or None]
               if match else None)
    if seconds is None or not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a positive duration: seconds, or a number followed by s, m "
            f"or h (e.g. 90, 20m, 1.5h)")
    return seconds


def name_list(text):
    """Comma-separated names, e.g. ``vocals,accompaniment``."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"{text!r} must be comma-separated stem names, e.g. vocals,accompaniment")
    return names


def source_list(text):
    """At least two comma-separated names."""
    names = name_list(text)
    if len(names) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be at least two comma-separated stem names, e.g. vocals,accompaniment")
    return names
