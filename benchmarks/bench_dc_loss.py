"""Deep-clustering loss, forward + backward: sksep vs asteroid, nussl and the naive affinity.

Each implementation runs in its own Python process (asteroid and nussl in their own
virtual environments, created here under ``benchmarks/_envs/`` on first use), one CPU
thread each, on the same inputs (a ``torch.save`` file of ``V (8, TF, 20)`` unit-norm
embeddings, one-hot ``Y`` for 2 sources and loudness weights). The processes are
started once and kept; the parent asks them in turn for one timing (the median of
``--repeats`` calls of forward + backward), in paired rounds ``sksep, peer, sksep, peer,
...``, and reports the median over rounds of ``time(peer) / time(sksep)``.

* ``asteroid.losses.deep_clustering_loss(V, labels (B, F, T), binary_mask)``
* ``nussl.ml.train.loss.DeepClusteringLoss()(V, Y, weights)``
* ``sksep.losses.naive_deep_clustering_loss`` (the ``TF x TF`` affinity) at sizes where it
  fits in memory, against sksep at the same size.

Usage::

    python benchmarks/bench_dc_loss.py [--quick] [--setup-only]
    python benchmarks/bench_dc_loss.py --worker {sksep,naive,asteroid,nussl} INPUTS  (internal)
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The workers run this file in the peers' environments: nothing of sksep is imported at
# the top (_common holds the standard library only).
from _common import (BENCHMARKS, RESULTS, ROOT, machine, one_thread_env, ratio_summary,
                     write_report)

ENVS = BENCHMARKS / "_envs"
WORK = BENCHMARKS / "_work"
TORCH = "torch==2.13.0"  # the local CPU wheel: an unpinned torch pulls GBs of CUDA

# pip steps per peer library: (pip arguments, ...) then packages to remove.
PEERS = {
    "asteroid": {"install": [[TORCH], ["asteroid", "requests"]],
                 "remove": ["torchaudio"]},
    # nussl requires soxbindings, which does not build here (and is not needed for its
    # losses): install nussl without dependencies, then its requirements but that one.
    "nussl": {"install": [[TORCH, "numpy<2", "scipy<1.13"],
                          ["--no-deps", "nussl"],
                          ["numpy<2", "scipy<1.13", "jams", "librosa", "matplotlib",
                           "museval", "musdb", "pyyaml", "zarr", "ffmpy", "pytorch-ignite",
                           "tensorboard", "norbert", "tqdm", "termtables", "gpytorch",
                           "ffmpeg-python", "importlib-resources", "sox", "pyloudnorm"]],
              "remove": ["soxbindings"]},
}


# -- worker (runs in any venv: torch and the library under test only) ----------------------

def _worker_loss(library):
    import torch

    if library == "sksep":
        from sksep.losses import deep_clustering_loss

        def loss(V, Y, labels, weights):
            return deep_clustering_loss(V, Y, weights)
    elif library == "naive":
        from sksep.losses import naive_deep_clustering_loss

        def loss(V, Y, labels, weights):
            return naive_deep_clustering_loss(V, Y, weights)
    elif library == "asteroid":
        from asteroid.losses import deep_clustering_loss as asteroid_loss

        def loss(V, Y, labels, weights):
            # asteroid wants the dominant-source index as (batch, freq, frames) and a
            # (batch, freq, frames) mask; its result is one loss per batch item.
            batch = V.shape[0]
            return asteroid_loss(V, labels.view(batch, 1, -1), weights.view(batch, 1, -1)).mean()
    elif library == "nussl":
        from nussl.ml.train.loss import DeepClusteringLoss
        nussl_loss = DeepClusteringLoss()

        def loss(V, Y, labels, weights):
            return nussl_loss(V, Y, weights)
    else:
        raise SystemExit(f"unknown library {library!r}")
    return torch, loss


def worker(library, inputs):
    """Answer each line ``size repeats`` on stdin with the median seconds of ``repeats``
    forward + backward passes at that TF size (a prefix of the stored inputs)."""
    torch, loss = _worker_loss(library)
    torch.set_num_threads(1)
    data = torch.load(inputs)
    print("ready", flush=True)
    for line in sys.stdin:
        size, repeats = (int(x) for x in line.split())
        V0 = data["V"][:, :size].contiguous()
        Y = data["Y"][:, :size].contiguous()
        labels = data["labels"][:, :size].contiguous()
        weights = data["weights"][:, :size].contiguous()
        times, value = [], None
        for _ in range(repeats):
            V = V0.clone().requires_grad_(True)
            start = time.perf_counter()
            out = loss(V, Y, labels, weights)
            out.backward()
            times.append(time.perf_counter() - start)
            value = float(out)
        print(json.dumps({"seconds": statistics.median(times), "loss": value}), flush=True)


# -- environments ---------------------------------------------------------------------------

def env_python(name):
    return ENVS / name / "bin" / "python"


def ensure_env(name, log):
    """Create ``_envs/name`` with the peer library; return None or the error text."""
    python = env_python(name)
    marker = ENVS / name / ".sksep-ready"
    if marker.exists():
        return None
    ENVS.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", str(ENVS / name)]]
    steps += [[str(python), "-m", "pip", "install", "-q", *args]
              for args in PEERS[name]["install"]]
    steps.append([str(python), "-m", "pip", "uninstall", "-y", *PEERS[name]["remove"]])
    for step in steps:
        print("$", " ".join(step), file=log, flush=True)
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        log.write(done.stdout[-3000:] + done.stderr[-3000:])
        if done.returncode != 0 and "uninstall" not in step:
            return f"`{' '.join(step[2:])}` failed: {done.stderr.strip()[-800:]}"
    marker.write_text("ok\n")
    return None


# -- parent ---------------------------------------------------------------------------------

def make_inputs(path, batch, size, dim, seed=0):
    import torch

    generator = torch.Generator().manual_seed(seed)
    V = torch.nn.functional.normalize(torch.randn(batch, size, dim, generator=generator), dim=-1)
    labels = torch.randint(0, 2, (batch, size), generator=generator)
    Y = torch.nn.functional.one_hot(labels, 2).float()
    weights = torch.rand(batch, size, generator=generator)
    torch.save({"V": V, "Y": Y, "labels": labels, "weights": weights}, path)


class Worker:
    def __init__(self, python, library, inputs):
        env = one_thread_env(PYTHONPATH=str(ROOT))
        self.library = library
        self.process = subprocess.Popen(
            [str(python), str(Path(__file__).resolve()), "--worker", library, str(inputs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        line = self.process.stdout.readline()
        while line and line.strip() != "ready":  # nussl prints a SoX notice on import
            line = self.process.stdout.readline()
        if line.strip() != "ready":
            error = self.process.stderr.read()[-1500:]
            raise RuntimeError(f"{library} worker did not start: {error.strip()}")

    def time(self, size, repeats):
        self.process.stdin.write(f"{size} {repeats}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        while line and not line.startswith("{"):
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.library} worker died: "
                               f"{self.process.stderr.read()[-1500:].strip()}")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def paired(base, other, size, rounds, repeats):
    """Paired rounds base, other; per-round ratios other / base."""
    base.time(size, 1), other.time(size, 1)  # warm-up
    a, b = [], []
    for _ in range(rounds):
        a.append(base.time(size, repeats))
        b.append(other.time(size, repeats))
    return {"size": size, "rounds": rounds, "repeats": repeats,
            **ratio_summary([y["seconds"] for y in b], [x["seconds"] for x in a]),
            "sksep_median_s": statistics.median(x["seconds"] for x in a),
            "other_median_s": statistics.median(y["seconds"] for y in b),
            "sksep_loss": a[-1]["loss"], "other_loss": b[-1]["loss"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and repeats")
    parser.add_argument("--setup-only", action="store_true", help="create the venvs, exit")
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "INPUTS"))
    args = parser.parse_args(argv)
    if args.worker:
        return worker(*args.worker)

    WORK.mkdir(exist_ok=True)
    errors = {}
    with open(WORK / "dc_envs.log", "a") as log:
        for name in PEERS:
            error = ensure_env(name, log)
            if error:
                errors[name] = error
                print(f"{name}: environment failed: {error}")
    if args.setup_only:
        return errors

    import torch

    start = time.perf_counter()
    batch, size, dim = 8, 15000, 20
    rounds, repeats = (8, 2) if args.quick else (20, 3)
    inputs = WORK / "dc_inputs.pt"
    make_inputs(inputs, batch, size, dim)
    base = Worker(sys.executable, "sksep", inputs)
    rows = {}
    for name in PEERS:
        if name in errors:
            continue
        try:
            other = Worker(env_python(name), name, inputs)
            rows[name] = paired(base, other, size, rounds, repeats)
            other.close()
        except Exception as error:  # a peer that installs but fails to run is reported
            errors[name] = f"{type(error).__name__}: {str(error)[-800:]}"
        print(name, rows.get(name) or errors[name])
    naive = Worker(sys.executable, "naive", inputs)
    naive_rows = []
    for tf in ((500, 1500) if args.quick else (500, 1500, 3000)):
        naive_rows.append(paired(base, naive, tf, rounds, repeats))
        print("naive", naive_rows[-1])
    naive.close()
    base.close()
    result = {
        "benchmark": "dc_loss", "quick": args.quick,
        "shape": [batch, size, dim], "n_sources": 2, "weights": True,
        "threads": 1, "rounds": rounds, "repeats": repeats,
        "peers": rows, "naive": naive_rows, "errors": errors,
        "naive_memory_note": (f"naive affinity at TF={size}: {batch} x {size}^2 float32 = "
                              f"{batch * size ** 2 * 4 / 2**30:.1f} GiB per affinity matrix "
                              "(two of them, plus their difference and its gradient): "
                              "does not fit in this machine's memory"),
        "machine": machine(), "seconds": time.perf_counter() - start,
        "torch": torch.__version__,
    }
    write_report(RESULTS / "dc_loss", result)
    print(f"{'implementation':<12} {'TF':>6} {'ratio to sksep':>15} {'sksep s':>9} {'other s':>9}")
    for name, row in list(rows.items()) + [("naive", r) for r in naive_rows]:
        print(f"{name:<12} {row['size']:>6} {row['ratio_median']:>15.2f} "
              f"{row['sksep_median_s']:>9.4f} {row['other_median_s']:>9.4f}")
    return result


if __name__ == "__main__":
    main()
