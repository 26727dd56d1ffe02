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
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BENCHMARKS = ("quality", "features", "dc_loss", "training", "separation", "alpha_sweep")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=None)
    args = parser.parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    RESULTS.mkdir(exist_ok=True)
    start = time.perf_counter()
    steps = {}
    for name in args.only or BENCHMARKS:
        command = [sys.executable, str(HERE / f"bench_{name}.py")]
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
               "machine": {"cpu": platform.processor() or platform.machine(),
                           "cores": os.cpu_count(), "threads": 1,
                           "load_average": [round(x, 2) for x in os.getloadavg()],
                           "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}}
    if args.only is None:  # the quick and the full run are kept side by side
        name = "run_all_quick.json" if args.quick else "run_all_full.json"
        (RESULTS / name).write_text(json.dumps(summary, indent=2))
    subprocess.run([sys.executable, str(HERE / "make_report.py")], check=True)
    print(f"total {summary['seconds'] / 60:.1f} min")
    return 0 if all(s["ok"] for s in steps.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
