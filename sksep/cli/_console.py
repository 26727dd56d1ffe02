"""What the commands print: status lines, progress on terminals only, tables, numbers.

Results go to stdout; status messages go to stderr and ``--quiet`` silences them.
Progress bars and colours appear only on a terminal: piped into a log file or a CI
job, the output is plain lines.
"""

import contextlib
import math
import os
import sys
import warnings


def say(args, message):
    """A status message on stderr, silenced by --quiet (results go to stdout)."""
    if not args.quiet:
        _line(sys.stderr, message)


def warn(message):
    """A warning on stderr, ``sksep: warning: ...``, shown with --quiet too."""
    _line(sys.stderr, f"sksep: warning: {message}")


@contextlib.contextmanager
def warnings_shown(describe=str):
    """Show the warnings raised inside as :func:`warn` lines, each once, rather than
    Python's ``file:line: Category: message`` and the source line.

    ``describe(warning)`` gives the text of a warning (e.g. with the command's names
    for what the library calls by index).
    """
    def show(message, category, filename, lineno, file=None, line=None):
        warn(describe(message))

    with warnings.catch_warnings():  # restores showwarning on the way out
        warnings.showwarning = show
        yield


def result(message):
    """A line of results on stdout (e.g. ``wrote PATH``)."""
    _line(sys.stdout, message)


def _line(stream, message):
    """Write ``message`` and its newline in one call: unbuffered (``PYTHONUNBUFFERED``),
    ``print`` writes them apart, and the lines of ``separate --jobs`` workers would mix."""
    stream.write(f"{message}\n")
    stream.flush()


def shows_progress(args):
    """Whether to draw progress bars: not --quiet, and stderr is a terminal."""
    return not args.quiet and _is_terminal(sys.stderr)


def shows_colour():
    """Whether stdout may hold colour codes: a terminal, and ``NO_COLOR`` unset
    (https://no-color.org)."""
    return _is_terminal(sys.stdout) and not os.environ.get("NO_COLOR")


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress(iterable, *, total, description, enabled):
    """``iterable`` wrapped in a tqdm bar when ``enabled`` and tqdm is installed."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm  # optional dependency; start-up of `sksep --version`
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False)


def markdown_table(header, rows, *, text_columns=1):
    """Markdown table: text columns left-aligned (the first ``text_columns``, or the
    columns a collection of indices names), numbers right-aligned."""
    text = set(range(text_columns)) if isinstance(text_columns, int) else set(text_columns)
    widths = [max(len(str(row[c])) for row in [header] + rows) for c in range(len(header))]

    def line(cells):
        padded = [str(cell).ljust(width) if c in text else str(cell).rjust(width)
                  for c, (cell, width) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) if c in text else "-" * (width + 1) + ":"
                          for c, width in enumerate(widths)) + "|"
    return "\n".join([line(header), rule] + [line(row) for row in rows])


def plural(count, noun):
    """``"1 clip"``, ``"3 clips"``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def decibels(value, digits=2):
    """A table cell: ``value`` with ``digits`` decimals, empty for None, NaN or inf."""
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


@contextlib.contextmanager
def warnings_as_lines():
    """Show sksep's own warnings (:mod:`sksep.exceptions`: a damaged song...) as one line
    on stderr, ``sksep: warning: ...``, not as Python's file, line and source; others
    as Python shows them."""
    show = warnings.showwarning

    def shown(message, category, filename, lineno, file=None, line=None):
        if category.__module__ != "sksep.exceptions":
            return show(message, category, filename, lineno, file, line)
        _line(sys.stderr if file is None else file, f"sksep: warning: {message}")

    with warnings.catch_warnings():
        warnings.showwarning = shown
        yield


@contextlib.contextmanager
def escaped_stdout():
    """Print file names that are not valid UTF-8 with escapes, as stderr does, not fail."""
    errors = getattr(sys.stdout, "errors", None)
    if errors is None or not hasattr(sys.stdout, "reconfigure"):
        yield
        return
    sys.stdout.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        sys.stdout.reconfigure(errors=errors)
