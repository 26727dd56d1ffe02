"""Two cores on one song: a song's blocks in threads against torch's own threads (issue 18).

``sksep separate SONG`` with two threads lets torch split every operation over them
(intra-op threads), which gains little for the shipped network's small batches;
``sksep separate SONG --jobs 2`` separates two blocks of the song at once instead, each in
a thread with one torch thread (``n_jobs`` of :func:`sksep.separation.separate_to_files`).
This benchmark runs, end to end as a user would (process start to stems written), on the
songs of ``bench_peers.py`` (MUSDB excerpts joined, 44.1 kHz stereo FLAC):

* ``1 thread``: ``OMP_NUM_THREADS=1``, the reference;
* ``2 threads``: ``OMP_NUM_THREADS=2``, one block at a time (the default);
* ``2 threads, --jobs 2``: ``OMP_NUM_THREADS=2`` and two blocks at once.

In paired rounds (the three back to back, order rotating every round), the median (range)
of the per-round ratios of wall times, each against ``1 thread`` and ``--jobs 2``
against ``2 threads``; and the peak memory. Needs both cores idle to mean anything.

Usage::

    python benchmarks/bench_block_jobs.py [--rounds 4] [--lengths 180]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import RESULTS, machine, machine_line, ratio_summary, write_report
from bench_peers import WORK, make_song

VARIANTS = {"1 thread": (1, []), "2 threads": (2, []), "2 threads, --jobs 2": (2, ["--jobs", "2"])}


def run(song, threads, extra):
    """Wall seconds and peak memory (MiB) of one ``sksep separate`` process."""
    out = WORK / "out" / "block_jobs"
    shutil.rmtree(out, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "sksep"), "separate", str(song), "-o",
               str(out), "--quiet", "--overwrite", *extra]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    shutil.rmtree(out, ignore_errors=True)
    return wall, usage.ru_maxrss / 1024


def measure(song, rounds):
    names = list(VARIANTS)
    walls = {name: [] for name in names}
    memory = {name: [] for name in names}
    run(song, 1, [])  # warm the file cache and the model's first load
    for k in range(rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            threads, extra = VARIANTS[name]
            wall, peak = run(song, threads, extra)
            walls[name].append(wall)
            memory[name].append(peak)
        print(f"  round {k + 1}/{rounds}: "
              + ", ".join(f"{n} {walls[n][-1]:.1f} s" for n in names), flush=True)
    base = walls["1 thread"]
    return {"wall_s": {n: statistics.median(v) for n, v in walls.items()},
            "peak_mib": {n: statistics.median(v) for n, v in memory.items()},
            "speedup_vs_1_thread": {n: ratio_summary(base, walls[n]) for n in names[1:]},
            "jobs_vs_threads": ratio_summary(walls["2 threads"], walls["2 threads, --jobs 2"]),
            "raw": walls}


def markdown(result):
    lines = ["# Two cores on one song: blocks in threads", "",
             f"Produced by `python benchmarks/bench_block_jobs.py --rounds {result['rounds']}`: "
             "`sksep separate SONG` end to end (process start to stems written, shipped "
             "model, 60 s blocks) on 44.1 kHz stereo songs from the MUSDB excerpts; paired "
             "rounds, order rotating. Speed-up: median (range) of per-round wall-time ratios "
             "(> 1 is faster).", "",
             "| song | variant | wall s (median) | speed-up vs 1 thread | peak MiB |",
             "|---:|---|---:|---|---:|"]
    for seconds, row in result["songs"].items():
        for name, wall in row["wall_s"].items():
            speed = row["speedup_vs_1_thread"].get(name)
            cell = (f"{speed['ratio_median']:.2f} ({speed['ratio_min']:.2f}–"
                    f"{speed['ratio_max']:.2f})" if speed else "1")
            lines.append(f"| {seconds} s | {name} | {wall:.2f} | {cell} | "
                         f"{row['peak_mib'][name]:.0f} |")
    lines += [""]
    for seconds, row in result["songs"].items():
        r = row["jobs_vs_threads"]
        lines.append(f"{seconds} s: `--jobs 2` against two intra-op threads: "
                     f"**{r['ratio_median']:.2f}** ({r['ratio_min']:.2f}–{r['ratio_max']:.2f}).")
    lines += ["", machine_line(result["machine"]), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--lengths", type=float, nargs="+", default=[180.0])
    args = parser.parse_args(argv)
    result = {"benchmark": "block_jobs", "rounds": args.rounds, "songs": {}}
    for seconds in args.lengths:
        song = make_song(seconds)
        print(f"{seconds:g} s song: {song}", flush=True)
        result["songs"][f"{seconds:g}"] = measure(song, args.rounds)
    result["machine"] = machine()
    write_report(RESULTS / "block_jobs", result, markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
