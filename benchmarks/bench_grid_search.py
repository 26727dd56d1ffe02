"""Grid-search throughput: the README's alpha x D grid with ``GroupKFold(3)``, three ways.

The search of README.md's "Ten lines" (``Pipeline(MelFeatures, ChimeraSeparator)``,
alpha in {0, 0.1, 0.5, 1} x D in {10, 20}, ``GroupKFold(3)`` over songs: 24 fits and a
refit) at a small, stated size, run

* ``serial``: ``n_jobs=1``, torch on every core of the machine (its default);
* ``n_jobs=2``: joblib's process workers, one torch thread each
  (``parallel_config(inner_max_num_threads=1)``);
* ``dask``: the Dask ``LocalCluster`` recipe of docs/user_guide/scaling.md (one worker
  process per core, one thread each), cluster start-up included.

Each mode runs in a fresh process (so thread settings do not leak between them), in
paired rounds with the order rotating; the result is the median of per-round ratios
``time(serial) / time(mode)`` (> 1: faster than serial) and the best parameters each
mode found (the same search, so the same choice, up to floating-point rounding).

Usage::

    python benchmarks/bench_grid_search.py [--rounds N] [--clips N] [--epochs N]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _common import MIR1K, RESULTS, machine, machine_line, ratio_summary, write_report

MODES = ("serial", "n_jobs=2", "dask")


def search(mode, n_clips, epochs, hidden_size):
    """Run the README's grid search in ``mode``; ``(seconds, best_params)``."""
    import joblib
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline

    from sksep import ChimeraSeparator, MelFeatures
    from sksep.datasets import load_mir1k

    data = load_mir1k(MIR1K, "train")
    keep = np.linspace(0, len(data.X) - 1, n_clips).round().astype(int)  # many songs
    X, Y, groups = [data.X[i] for i in keep], [data.Y[i] for i in keep], data.groups[keep]
    pipe = Pipeline([("features", MelFeatures(n_mels=150, deltas=True)),
                     ("separator", ChimeraSeparator(hidden_size=hidden_size, num_layers=1,
                                                    max_epochs=epochs, random_state=0))])
    grid = {"separator__alpha": [0.0, 0.1, 0.5, 1.0], "separator__embedding_dim": [10, 20]}
    start = time.perf_counter()
    if mode == "dask":
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        with Client(cluster), joblib.parallel_backend("dask"):
            found = GridSearchCV(pipe, grid, cv=GroupKFold(3), error_score="raise").fit(
                X, Y, groups=groups)
        cluster.close()
    else:
        n_jobs = 1 if mode == "serial" else int(mode.split("=")[1])
        with joblib.parallel_config(backend="loky",
                                    inner_max_num_threads=1 if n_jobs > 1 else None):
            found = GridSearchCV(pipe, grid, cv=GroupKFold(3), n_jobs=n_jobs,
                                 error_score="raise").fit(X, Y, groups=groups)
    return time.perf_counter() - start, found.best_params_


def run_mode(mode, args):
    """``search`` in a fresh process; its JSON answer."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
               "--clips", str(args.clips), "--epochs", str(args.epochs),
               "--hidden-size", str(args.hidden_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clips", type=int, default=12, help="MIR-1K training clips")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        seconds, best = search(args.child, args.clips, args.epochs, args.hidden_size)
        print(json.dumps({"seconds": seconds, "best_params": best}))
        return None
    times = {mode: [] for mode in MODES}
    best = {}
    for i in range(args.rounds):
        order = MODES[i % len(MODES):] + MODES[:i % len(MODES)]
        for mode in order:
            answer = run_mode(mode, args)
            times[mode].append(answer["seconds"])
            best[mode] = answer["best_params"]
            print(f"round {i + 1} {mode}: {answer['seconds']:.1f} s {answer['best_params']}",
                  flush=True)
    rows = {mode: {"median_s": statistics.median(times[mode]), "seconds": times[mode],
                   "best_params": best[mode],
                   **ratio_summary(times["serial"], times[mode])} for mode in MODES}
    result = {"benchmark": "grid_search", "rounds": args.rounds, "clips": args.clips,
              "epochs": args.epochs, "hidden_size": args.hidden_size, "fits": 8 * 3 + 1,
              "rows": rows, "machine": machine()}
    write_report(RESULTS / "grid_search", result, markdown(result))
    return result


def markdown(result):
    lines = [
        "# Grid-search throughput", "",
        f"Produced by `python benchmarks/bench_grid_search.py --rounds {result['rounds']}`: "
        f"README's search (alpha x D = 4 x 2 candidates, `GroupKFold(3)`: "
        f"{result['fits']} fits with the refit) of `Pipeline(MelFeatures(150, deltas), "
        f"ChimeraSeparator(1 x {result['hidden_size']} BLSTM, {result['epochs']} epoch))` "
        f"on {result['clips']} MIR-1K training clips; each mode a fresh process, order "
        f"rotating per round. Speed-up: median (range) of per-round time(serial) / "
        f"time(mode).", "",
        "| mode | median s | speed-up over serial | best alpha, D |", "|---|---:|---|---|"]
    for mode, row in result["rows"].items():
        params = row["best_params"]
        lines.append(f"| {mode} | {row['median_s']:.1f} | {row['ratio_median']:.2f} "
                     f"({row['ratio_min']:.2f}–{row['ratio_max']:.2f}) | "
                     f"{params['separator__alpha']:g}, {params['separator__embedding_dim']} |")
    lines += ["", machine_line(result["machine"]), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
