"""Command-line start-up before and after: ``--version``, ``--help``, ``separate`` (issue 17).

Each round runs the same command with the code of two revisions back to back (paired
rounds, BENCHMARKS.md): ``before`` is a git revision checked out into a temporary
folder and put first on ``PYTHONPATH``, ``after`` is this working tree; both run in
this virtual environment's Python. Commands:

- ``sksep --version`` and ``sksep --help``;
- ``sksep separate SONG`` with a warm numba cache (what every later run pays), on the
  30 s 44.1 kHz stereo excerpt of ``MUSDB18-excerpts``;
- the same with an empty ``NUMBA_CACHE_DIR``: what the very first run after installing
  pays when librosa's numba kernels have to be compiled.

Wall time of each whole process (start to exit), one torch/OpenMP thread. Reported:
the median per-round ratio before / after with its range, and the medians.

Usage::

    python benchmarks/bench_startup.py [--before ed1f838] [--rounds 5] [--cold-rounds 2]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (MUSDB_EXCERPTS, RESULTS, ROOT, machine, one_thread_env, ratio_summary,
                     write_report)

SONG = MUSDB_EXCERPTS / "AM Contra - Heart Peripheral" / "mixture.flac"


def _checkout(revision, folder):
    """The package of ``revision`` exported into ``folder`` (``folder/sksep``)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "sksep"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _timed(command, env, cwd):
    # ``cwd`` outside the repository: ``python -m`` puts the working folder first on
    # sys.path, before PYTHONPATH, so running from the repository would import its sksep.
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _paired(command, envs, rounds, fresh_cache=False):
    """Seconds of ``command`` under each env of ``envs`` (before, after), alternating,
    and with ``fresh_cache`` the numba kernels each run compiled into its empty cache."""
    times = {name: [] for name in envs}
    kernels = {name: [] for name in envs}
    for k in range(rounds):
        order = list(envs) if k % 2 == 0 else list(reversed(envs))  # alternate who goes first
        for name in order:
            env = dict(envs[name])
            with tempfile.TemporaryDirectory() as cache, \
                    tempfile.TemporaryDirectory() as out:
                if fresh_cache:
                    env["NUMBA_CACHE_DIR"] = cache
                times[name].append(_timed([part.replace("{out}", out) for part in command],
                                          env, cwd=out))
                kernels[name].append(len(list(Path(cache).rglob("*.nbi"))))
    return times, kernels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="ed1f838",
                        help="git revision measured as 'before' (default ed1f838)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-rounds", type=int, default=2)
    args = parser.parse_args(argv)
    sksep = [sys.executable, "-m", "sksep"]
    commands = {
        "--version": (sksep + ["--version"], args.rounds, False),
        "--help": (sksep + ["--help"], args.rounds, False),
        "separate (warm numba cache)": (sksep + ["separate", str(SONG), "-o", "{out}",
                                                 "--quiet"], args.rounds, False),
        "separate (first run: empty numba cache)": (
            sksep + ["separate", str(SONG), "-o", "{out}", "--quiet"], args.cold_rounds,
            True),
    }
    rows = {}
    with tempfile.TemporaryDirectory() as old:
        _checkout(args.before, Path(old))
        envs = {"before": one_thread_env(PYTHONPATH=old),
                "after": one_thread_env(PYTHONPATH=str(ROOT))}
        for name, env in envs.items():  # each side imports the sksep it should
            where = subprocess.run([sys.executable, "-c", "import sksep; print(sksep.__file__)"],
                                   env=env, cwd=tempfile.gettempdir(), check=True,
                                   capture_output=True,
                                   text=True).stdout.strip()
            expected = Path(env["PYTHONPATH"]) / "sksep" / "__init__.py"
            if Path(where) != expected:
                raise SystemExit(f"{name} imports {where}, not {expected}")
        # Warm the numba cache and the file system for both before the warm rows.
        for env in envs.values():
            with tempfile.TemporaryDirectory() as out:
                _timed(sksep + ["separate", str(SONG), "-o", out, "--quiet"], env, cwd=out)
        for label, (command, rounds, fresh) in commands.items():
            times, kernels = _paired(command, envs, rounds, fresh_cache=fresh)
            rows[label] = {"rounds": rounds, "before_s": times["before"],
                           "after_s": times["after"],
                           **({"before_kernels_compiled": kernels["before"],
                               "after_kernels_compiled": kernels["after"]} if fresh else {}),
                           **ratio_summary(times["before"], times["after"])}
            print(label, rows[label], flush=True)
    lines = ["# Command-line start-up, before and after", "",
             f"Produced by `python benchmarks/bench_startup.py --before {args.before} "
             f"--rounds {args.rounds} --cold-rounds {args.cold_rounds}`: whole-process wall "
             f"time, paired rounds alternating which revision goes first, one thread; "
             f"'before' is revision {args.before}, 'after' this tree. Song: "
             f"{SONG.parent.name} (30 s, 44.1 kHz stereo FLAC), shipped model.", "",
             "| command | rounds | before (median s) | after (median s) | before / after "
             "(median of per-round ratios, range) | numba kernels compiled (before / after) |",
             "|---|---:|---:|---:|---|---|"]
    for label, row in rows.items():
        compiled = (f"{max(row['before_kernels_compiled'])} / "
                    f"{max(row['after_kernels_compiled'])}"
                    if "before_kernels_compiled" in row else "")
        lines.append(f"| `{label}` | {row['rounds']} | {statistics.median(row['before_s']):.2f} "
                     f"| {statistics.median(row['after_s']):.2f} | {row['ratio_median']:.2f} "
                     f"({row['ratio_min']:.2f}–{row['ratio_max']:.2f}) | {compiled} |")
    record = machine(threads=1)
    lines += ["", f"Machine: {record['cpu']}, {record['cores']} cores, load average "
              f"{record['load_average'][0]:.1f} at the end (shared; ratios, not wall times, "
              f"are the result), {record['date_utc']}.", ""]
    markdown = "\n".join(lines)
    write_report(RESULTS / "startup", {"before": args.before, "rows": rows, "machine": record},
                 markdown)
    print(markdown)


if __name__ == "__main__":
    main()
