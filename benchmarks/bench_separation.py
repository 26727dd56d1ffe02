"""Separation speed and memory of the shipped model for clips of 10 s to 5 min.

Each duration runs in its own process (one CPU thread, ``torch.set_num_threads(1)``):
load the model, build a 16 kHz mono clip by tiling the MIR-1K test mixtures, run
:func:`sksep.separation.separate_long` (one ``predict`` up to 60 s, then 60-second blocks)
a few times and report the median wall time, the real-time factor (wall time / audio
duration), the share of the time spent in the network's forward pass (timed by forward
hooks on the module), the share in feature extraction (``MelFeatures.transform``), and
the peak resident memory of the process (``resource.getrusage``: ``ru_maxrss``), also
as an increment over the memory after loading (torch, the model and the input audio).
A PNG plots time and memory against duration.

The model is the shipped ``chimera-mir1k`` (Chimera, 2 x 300 BLSTM, D = 20).

Usage::

    python benchmarks/bench_separation.py [--quick] [--profile]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from _common import (MIR1K, RESULTS, atomic_write_text, machine,
                     one_thread_env, paired_rounds, ratio_summary, write_report)

DURATIONS = (10, 30, 60, 300)


def load_model():
    import sksep

    if "chimera-mir1k" in sksep.available_models():
        return sksep.load("chimera-mir1k"), "shipped model chimera-mir1k (registry)"
    raise SystemExit("no shipped model: run tools/train_shipped_model.py first")


def make_clip(seconds, rate=16000):
    import numpy as np

    from sksep.datasets import load_mir1k

    data = load_mir1k(MIR1K, "test", max_clips=20)
    song = np.concatenate(data.X).astype(np.float32)
    total = int(seconds * rate)
    return np.tile(song, total // len(song) + 1)[:total]


def worker(seconds, repeats, profile):
    import torch

    from sksep.separation import separate_long

    torch.set_num_threads(1)
    model, origin = load_model()
    audio = make_clip(seconds)
    module = model.net_.module_
    clock = {"forward": 0.0, "features": 0.0}
    state = {}

    def before(*_):
        state["t"] = time.perf_counter()

    def after(*_):
        clock["forward"] += time.perf_counter() - state["t"]

    # From the first to the last layer of the network: the same window whether the
    # whole module runs or only its mask path (sksep skips the embedding head when
    # predicting with the MI head).
    module.standardize.register_forward_pre_hook(before)
    module.mask_head.register_forward_hook(after)
    transform = model.features_.transform

    def timed_transform(X):
        t0 = time.perf_counter()
        out = transform(X)
        clock["features"] += time.perf_counter() - t0
        return out

    model.features_.transform = timed_transform
    separate_long(model, audio[: 16000 * 5])  # warm-up
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs = []
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    for _ in range(repeats):
        clock.update(forward=0.0, features=0.0)
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        separate_long(model, audio)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - t0
        runs.append({"wall": wall, "forward": clock["forward"], "features": clock["features"]})
    if profiler:
        import io
        import pstats
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        atomic_write_text(RESULTS / f"separation_profile_{seconds}s.txt", text.getvalue())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    skip = embedding_skip_gain(model, audio) if seconds == 30 else None
    best = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    print(json.dumps({"seconds": seconds, "repeats": repeats, "model": origin,
                      "wall_s": best["wall"], "walls_s": [r["wall"] for r in runs],
                      "rtf": best["wall"] / seconds,
                      "forward_share": best["forward"] / best["wall"],
                      "features_share": best["features"] / best["wall"],
                      "peak_rss_mib": peak, "baseline_rss_mib": baseline,
                      "peak_increment_mib": peak - baseline, "embedding_skip": skip}))


def embedding_skip_gain(model, audio, rounds=10):
    """Paired rounds: the network pass of a whole clip computing both heads (the generic
    NeuralSeparator path) vs the mask path alone (what predict does with the MI head)."""
    record = model.features_.transform([audio])
    both, masks_only = paired_rounds(
        lambda: model.network_outputs(record, outputs=("embedding", "masks")),
        lambda: model.network_outputs(record, outputs=("masks",)), rounds)
    return {"rounds": rounds, **ratio_summary(masks_only, both),
            "both_heads_median_s": statistics.median(both),
            "masks_only_median_s": statistics.median(masks_only)}


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = [r["seconds"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(seconds, [r["wall_s"] for r in rows], "o-", label="wall time")
    left.plot(seconds, [r["wall_s"] * r["forward_share"] for r in rows], "s--",
              label="network forward")
    left.set_xlabel("clip duration (s)")
    left.set_ylabel("seconds")
    left.set_title("separation time (1 thread)")
    left.legend()
    right.plot(seconds, [r["peak_rss_mib"] for r in rows], "o-", label="peak RSS")
    right.plot(seconds, [r["peak_increment_mib"] for r in rows], "s--",
               label="increment over loaded model")
    right.set_xlabel("clip duration (s)")
    right.set_ylabel("MiB")
    right.set_title("peak memory")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="also write a cProfile of each duration to results/")
    parser.add_argument("--worker", nargs=2, type=int, metavar=("SECONDS", "REPEATS"))
    args = parser.parse_args(argv)
    if args.worker:
        return worker(*args.worker, args.profile)
    start = time.perf_counter()
    env = one_thread_env()
    rows = []
    for seconds in DURATIONS:
        repeats = 1 if seconds >= 300 else (2 if args.quick else 5)
        command = [sys.executable, __file__, "--worker", str(seconds), str(repeats)]
        if args.profile:
            command.append("--profile")
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{seconds:>4} s: wall {r['wall_s']:.2f} s, RTF {r['rtf']:.3f}, forward "
              f"{100 * r['forward_share']:.0f} %, features {100 * r['features_share']:.0f} %, "
              f"peak {r['peak_rss_mib']:.0f} MiB (+{r['peak_increment_mib']:.0f})", flush=True)
    plot(rows, RESULTS / "separation.png")
    result = {"benchmark": "separation", "quick": args.quick, "threads": 1, "rows": rows,
              "machine": machine(), "seconds": time.perf_counter() - start}
    write_report(RESULTS / "separation", result)
    return result


if __name__ == "__main__":
    main()
