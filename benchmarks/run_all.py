"""Run every benchmark, then regenerate ``benchmarks/RESULTS.md``.

Each ``bench_*.py`` runs in its own process with ``OMP_NUM_THREADS=1`` (the scripts also
call ``torch.set_num_threads(1)``); its JSON goes to ``benchmarks/results/``. A failing
benchmark is recorded (``results/run_all_*.json``) and the others still run. Then
``make_report.py`` writes RESULTS.md from the JSON files.

Usage::

    python benchmarks/run_all.py [--quick] [--only dc_loss training ...]

``--quick`` is smaller everywhere (under 15 minutes on a shared 2-core CPU); the full run
takes longer. Each writes its wall time to ``results/run_all_quick.json`` or
``results/run_all_full.json``, and RESULTS.md shows the last of both.
"""

import argparse
import subprocess
import sys
import time

from _common import BENCHMARKS, RESULTS, machine, one_thread_env, write_report

#: The ``bench_<name>.py`` scripts, in the order they run.
NAMES = ("quality", "features", "dc_loss", "training", "separation", "alpha_sweep")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=NAMES, default=None)
    args = parser.parse_args(argv)
    env = one_thread_env()
    start = time.perf_counter()
    steps = {}
    for name in args.only or NAMES:
        command = [sys.executable, str(BENCHMARKS / f"bench_{name}.py")]
        if args.quick and name != "quality":
            command.append("--quick")
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        tic = time.perf_counter()
        done = subprocess.run(command, env=env, check=False)
        steps[name] = {"seconds": time.perf_counter() - tic, "ok": done.returncode == 0,
                       "returncode": done.returncode}
        print(f"== {name}: {'ok' if done.returncode == 0 else 'FAILED'} in "
              f"{steps[name]['seconds']:.0f} s", flush=True)
    summary = {"quick": args.quick, "steps": steps, "seconds": time.perf_counter() - start,
               "machine": machine(threads=1)}
    if args.only is None:  # the quick and the full run are kept side by side
        write_report(RESULTS / ("run_all_quick" if args.quick else "run_all_full"), summary)
    subprocess.run([sys.executable, str(BENCHMARKS / "make_report.py")], check=True)
    print(f"total {summary['seconds'] / 60:.1f} min")
    return 0 if all(s["ok"] for s in steps.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
