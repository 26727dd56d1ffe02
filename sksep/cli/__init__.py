"""The ``sksep`` command line: separate songs, train and evaluate models, list shipped models.

Run ``sksep --help`` or ``sksep COMMAND --help`` (``python -m sksep`` is the same).
The commands only call the library: :func:`sksep.separation.separate_file` for
``separate``, the separators' ``fit`` and ``save`` for ``train``,
:func:`sksep.metrics.separation_scores` for ``evaluate``,
:func:`sksep.available_models` for ``models``.

Layout: ``_parser.py`` builds the parser from ``_arguments.py`` (every command's
options and help); :func:`main` then imports the module of the command that runs
(``_separate.py``, ``_train.py`` with the estimators it trains in ``_estimators.py``,
``_evaluate.py``, ``_list_models.py``), which imports the library at its top;
``_options.py`` holds the option types, ``_prediction.py`` the model loading that
``separate`` and ``evaluate`` share; ``_exit.py`` the exit codes and how errors and signals
become them; ``_console.py`` what is printed; ``_files.py`` the checks of output
files; ``_jobs.py`` the worker processes of ``separate --jobs``. Heavy packages
(torch, librosa, scikit-learn) are imported only with the command that runs, so that
``--help`` and ``--version`` answer at once.

Exit codes, for scripts:

====  ==========================================================================
0     success
1     unexpected error (a bug, or an environment problem such as a failing disk)
2     bad usage: unknown option, bad option value, conflicting arguments, a
      ``--stems`` name the model does not have, ``--device cuda`` without CUDA,
      a ``train --param`` the estimator does not have or refuses, ``separate
      --head dc`` for a model of more than two sources (its clusters have no names),
      ``separate --query`` with a model that cannot separate by example, a
      ``models NAME`` that is not a shipped model
3     bad input: missing, unreadable, damaged or non-audio file, a pipe or a
      device given as a song (standard input is not read), a sample rate outside
      1 kHz..768 kHz, a folder with neither supported layout, a file that is not
      a valid sksep model, a model that needs the true sources (an oracle), or one
      whose deep-clustering head cannot name its stems (``separate``)
4     refused to overwrite an existing output file (pass ``--overwrite``)
5     a missing external program or optional package (``ffmpeg``, ``matplotlib``),
      or a libsndfile that cannot write the ``--format`` asked (MP3 before 1.1.0)
6     cannot write an output: ``--out`` is a file or read-only, a file stands
      where a song's folder goes, a folder is read-only, a song's name would
      put its stems outside ``--out`` (``..wav``), a name or path is longer than
      the file system allows, a device, pipe, socket or folder stands where an
      output file goes (``--overwrite`` replaces regular files only), or the disk
      is full
130   interrupted (Ctrl-C); 143: terminated (SIGTERM). No partial file is left;
      ``train`` keeps the best completed epoch and writes it.
====  ==========================================================================

Every output target is checked before any work is done, so codes 4 and 6 (but
for a full disk) come before a song is separated. Errors print one line to
stderr, ``sksep: error: ...``; ``--debug`` adds the traceback.
"""

import importlib

from ._console import escaped_stdout, warnings_as_lines
from ._exit import (EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_ERROR, EXIT_EXISTS,
                    EXIT_INTERRUPTED, EXIT_MISSING_PROGRAM, EXIT_OK, EXIT_TERMINATED,
                    EXIT_USAGE, Terminated, report_error, report_interruption,
                    report_termination, unwind_on_sigterm)
from ._parser import build_parser

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE",
           "EXIT_BAD_INPUT", "EXIT_EXISTS", "EXIT_MISSING_PROGRAM", "EXIT_CANNOT_WRITE",
           "EXIT_INTERRUPTED", "EXIT_TERMINATED"]


def main(argv=None):
    """Run the ``sksep`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``sksep``; default ``sys.argv[1:]``.

    Returns
    -------
    code : int
        The exit code (see the module docstring). Bad usage found by the argument
        parser exits with code 2 (``SystemExit``), as ``--help`` exits with 0.
    """
    args = build_parser().parse_args(argv)
    try:
        with unwind_on_sigterm(), escaped_stdout(), warnings_as_lines():
            # start-up: `sksep --version`/`--help` must not import torch
            command = importlib.import_module(f".{args.command_module}", __name__)
            return command.run(args)
    except KeyboardInterrupt as interruption:
        return report_interruption(interruption)
    except Terminated:
        return report_termination()
    except Exception as error:  # noqa: BLE001 -- every error becomes one line and an exit code
        return report_error(error, debug=args.debug)
