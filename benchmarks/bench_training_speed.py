"""Training speed of the shipped recipe: what this CPU offers, each as a paired ratio (issue 18).

The training step measured is the one ``tools/train_shipped_model.py`` runs: a
``ChimeraSeparator`` (2 x 300 BLSTM, alpha 0.1, D 20, mMSA, dropout 0.3, Adam, 100-frame
segments, batches of 16) on MIR-1K training clips, built with
:meth:`~sksep.separators._neural.NeuralSeparator.training_problem` (the network,
objective and segments ``fit`` uses) and driven by a bare loop
``zero_grad / forward / objective / backward / step`` over the same collated batches.

Each variant runs in paired rounds against the current code (float32, eager, batches of
16, one thread), the two back to back in every round; the result is the median (and
range) over rounds of ``frames/s(variant) / frames/s(current)``, with the loss both reach
after the same batches from the same initial weights (same numerics => same loss):

* ``bf16``: bfloat16 compute, float32 weights and loss. ``torch.autocast("cpu")`` cannot
  run ``nn.LSTM`` here (oneDNN has no bfloat16 LSTM primitive for this CPU), so the LSTM
  runs on bfloat16 copies of its weights (``torch.func.functional_call``; the gradients
  reach the float32 weights) and the linear layers under autocast;
* ``autocast``: what ``tools/train_shipped_model.py --bf16`` and an
  ``accelerate.Accelerator(cpu=True, mixed_precision="bf16")`` do: the forward pass and
  the objective under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (float32 weights,
  optimiser and gradients); oneDNN runs the LSTM in bfloat16 where the CPU has
  AVX512-BF16 / AMX. ``autocast 2 threads``: the same on two intra-op threads, against
  the current code on one;
* ``4 x 500``: a larger network (4 x 500 BLSTM instead of 2 x 300, the rest of the
  recipe the same) on the same batches: what an epoch of the quality issue's "larger
  network" costs (frames/s only: a different model, so no loss is compared);
* ``compile``: ``torch.compile(module)`` (inductor, CPU); its compile time is reported
  apart and the first call is excluded from the rounds;
* ``no oneDNN``: ``torch.backends.mkldnn`` off, so the LSTM runs on torch's own
  kernels instead of oneDNN's;
* ``batch 32`` / ``batch 64``: the same segments in larger batches (frames/s only: a
  larger batch is a different optimisation, so its loss is not compared);
* ``2 threads``: ``torch.set_num_threads(2)`` in the same process (needs both cores
  idle to mean anything);
* ``2 processes``: two processes of one thread each training at the same time (what
  ``GridSearchCV(n_jobs=2)`` does), total frames/s against one process alone.

The CPU's vector extensions (``/proc/cpuinfo``) and torch's CPU capability are recorded:
whether bfloat16 can pay depends on them.

``--profile`` instead writes ``results/training_profile.{json,md}``: where one thread's
time goes in the same training step (``torch.profiler`` over passes of the same batches,
after a warm-up pass): the share of each phase (forward, objective, backward, optimiser
step) and the operators that take the most time. Shares within one process, so they
hold on a busy machine too.

Usage::

    python benchmarks/bench_training_speed.py [--quick] [--rounds N] [--variants ...]
    python benchmarks/bench_training_speed.py --profile
"""

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from _common import (MIR1K, RESULTS, machine, machine_line, one_thread_env, ratio_summary,
                     write_report)
from bench_training import train_pass

VARIANTS = ("bf16", "autocast", "autocast 2 threads", "4 x 500", "compile", "no oneDNN",
            "batch 32", "batch 64", "2 threads", "2 processes")

#: The shipped recipe's network (``tools/train_shipped_model.py``'s defaults).
RECIPE = dict(alpha=0.1, embedding_dim=20, mi_objective="mmsa", hidden_size=300,
              num_layers=2, dropout=0.3, optimizer="adam", lr=1e-3, segment_frames=100,
              batch_size=16)


def cpu_extensions():
    """The vector extensions relevant to bfloat16 that this CPU reports."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        flags = []
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"flags": [f for f in wanted if f in flags],
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def problem(n_clips, **changes):
    """``(module, objective, segments)`` of the shipped recipe on ``n_clips`` clips, with
    ``changes`` to the recipe's settings (e.g. ``hidden_size=500``)."""
    from sksep import ChimeraSeparator
    from sksep.datasets import load_mir1k

    data = load_mir1k(MIR1K, "train", max_clips=n_clips)
    est = ChimeraSeparator(**{**RECIPE, **changes}, max_epochs=1, random_state=0)
    est.fit(data.X[:2], data.Y[:2])  # fixes the features, grid and number of sources
    module, objective, dataset = est.training_problem(data.X, data.Y)
    return module, objective, dataset


def batches_of(dataset, batch_size, n_frames):
    """The first ``n_frames`` training frames of ``dataset`` in batches, collated once."""
    n_segments = max(1, n_frames // dataset.segment_frames)
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, range(
        min(n_segments, len(dataset)))), batch_size=batch_size)
    return list(loader)


class _Bfloat16LSTM(torch.nn.Module):
    """``lstm`` run on bfloat16 copies of its weights; the gradients reach its float32
    weights through the copies."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x, *args):
        from torch.func import functional_call

        weights = {k: v.to(torch.bfloat16) for k, v in self.lstm.named_parameters()}
        with torch.autocast("cpu", enabled=False):
            return functional_call(self.lstm, weights, (x.to(torch.bfloat16), *args))


def _bf16_forward(module):
    """``forward`` of ``module`` (changed in place) with its LSTMs on bfloat16 weight
    copies and the rest under CPU autocast; outputs in float32."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.LSTM):
                setattr(parent, name, _Bfloat16LSTM(child))

    def forward(features):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = module(features)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()
    return forward


def trainer(module, objective, batches, *, variant=None):
    """A fresh copy of ``module`` and its Adam optimiser; returns ``run()`` that trains
    one pass over ``batches`` and gives the last loss."""
    torch.manual_seed(0)
    model = copy.deepcopy(module)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=RECIPE["lr"])
    forward = model
    if variant == "bf16":
        forward = _bf16_forward(model)
    elif variant == "compile":
        forward = torch.compile(model)

    loss = objective
    if variant == "autocast":
        forward, loss = _autocast(model), _autocast(objective)

    def run():
        torch.manual_seed(1)  # the same dropout draws for every variant
        return train_pass(forward, optimizer, loss, batches)
    return run


def _autocast(function):
    """``function`` under CPU bfloat16 autocast, as accelerate's ``autocast()`` wraps the
    forward pass and the loss (the optimiser step stays outside, in float32)."""
    def autocast(*args):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return function(*args)
    return autocast


PHASES = ("zero_grad", "forward", "objective", "backward", "optimizer step")


def profile_step(module, objective, batches, passes=2, top=12):
    """Share of each phase of the training step, and the operators taking most time.

    The bare loop of :func:`bench_training.train_pass` with each phase labelled, run once
    to warm up, then ``passes`` times under ``torch.profiler`` (CPU). Phase shares are of
    the summed phase times; operator shares are of the operators' summed self time.
    """
    from torch.profiler import ProfilerActivity, profile, record_function

    torch.manual_seed(0)
    model = copy.deepcopy(module)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=RECIPE["lr"])

    def run():
        for features, targets in batches:
            with record_function("zero_grad"):
                optimizer.zero_grad()
            with record_function("forward"):
                outputs = model(features)
            with record_function("objective"):
                loss = objective(outputs, targets)
            with record_function("backward"):
                loss.backward()
            with record_function("optimizer step"):
                optimizer.step()

    run()
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(passes):
            run()
    seconds = time.perf_counter() - start
    events = profiler.key_averages()
    phases = {event.key: event.cpu_time_total for event in events if event.key in PHASES}
    phase_total = sum(phases.values())
    operators = sorted((event for event in events if event.key not in PHASES),
                       key=lambda event: event.self_cpu_time_total, reverse=True)
    operator_total = sum(event.self_cpu_time_total for event in operators)
    return {"passes": passes, "profiled_seconds": seconds,
            "phases": {name: phases.get(name, 0) / phase_total for name in PHASES},
            "operators": [{"name": event.key, "calls": event.count,
                           "share": event.self_cpu_time_total / operator_total}
                          for event in operators[:top]]}


def profile_markdown(result):
    """The tables of a ``--profile`` run."""
    lines = ["# Where the training step's time goes", "",
             f"Produced by `python benchmarks/bench_training_speed.py --profile`: the shipped "
             f"recipe's training step (as in `training_speed.md`) on {result['clips']} MIR-1K "
             f"training clips, {result['frames_per_pass']} frames per pass, "
             f"{result['passes']} passes under `torch.profiler` after a warm-up pass, one "
             f"torch thread ({result['profiled_seconds']:.1f} s profiled, profiler overhead "
             f"included). Shares are within this process, so a busy machine changes them "
             f"little.", "", "| phase | share of the step |", "|---|---:|"]
    lines += [f"| {name} | {100 * share:.1f} % |" for name, share in result["phases"].items()]
    lines += ["", "| operator (self time) | calls | share |", "|---|---:|---:|"]
    lines += [f"| `{op['name']}` | {op['calls']} | {100 * op['share']:.1f} % |"
              for op in result["operators"]]
    lines += ["", machine_line(result["machine"]), ""]
    return "\n".join(lines)


def _timed(run):
    start = time.perf_counter()
    loss = run()
    return time.perf_counter() - start, loss


def paired(base, variant, rounds, frames, variant_frames=None):
    """Paired rounds (order alternating); frames/s ratios variant / base."""
    variant_frames = variant_frames or frames
    a, b = [], []
    for i in range(rounds):
        order = (base, variant) if i % 2 == 0 else (variant, base)
        times = {run: _timed(run)[0] for run in order}
        a.append(times[base])
        b.append(times[variant])
    fps_a = [frames / t for t in a]
    fps_b = [variant_frames / t for t in b]
    return {"rounds": rounds, **ratio_summary(fps_b, fps_a),
            "current_fps": statistics.median(fps_a), "variant_fps": statistics.median(fps_b)}


def losses_from_same_start(module, objective, batches, variant, passes=2):
    """Loss after ``passes`` passes over ``batches`` from the same initial weights and
    dropout draws: current code, then ``variant`` (same numerics give the same loss)."""
    current = trainer(module, objective, batches)
    other = trainer(module, objective, batches, variant=variant)
    for _ in range(passes):
        a, b = current(), other()
    return {"current_loss": a, "variant_loss": b}


def child_throughput(n_clips, n_frames, repeats):
    """Frames/s of one training process of one thread (run as ``--child``)."""
    torch.set_num_threads(1)
    module, objective, dataset = problem(n_clips)
    batches = batches_of(dataset, RECIPE["batch_size"], n_frames)
    frames = sum(f.shape[0] * f.shape[1] for f, _ in batches)
    run = trainer(module, objective, batches)
    run()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return {"frames": frames * repeats, "seconds": time.perf_counter() - start}


def processes(n, n_clips, n_frames, repeats):
    """Total frames/s of ``n`` one-thread training processes started together."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child",
               "--clips", str(n_clips), "--frames", str(n_frames), "--repeats", str(repeats)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                 env=one_thread_env()) for _ in range(n)]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1])
               for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError("a training child process failed")
    return sum(r["frames"] / r["seconds"] for r in results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=6400,
                        help="training frames per timed pass (default: 4 batches of 16)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per child process")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--profile", action="store_true",
                        help="profile the training step instead (results/training_profile)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_throughput(args.clips, args.frames, args.repeats)))
        return None
    if args.profile:
        torch.set_num_threads(1)
        module, objective, dataset = problem(args.clips)
        batches = batches_of(dataset, RECIPE["batch_size"], args.frames)
        result = {"benchmark": "training_profile", "recipe": RECIPE, "clips": args.clips,
                  "frames_per_pass": sum(f.shape[0] * f.shape[1] for f, _ in batches),
                  **profile_step(module, objective, batches), "machine": machine(),
                  "torch": torch.__version__}
        write_report(RESULTS / "training_profile", result, profile_markdown(result))
        print(profile_markdown(result))
        return result
    rounds = args.rounds or (2 if args.quick else 6)
    torch.set_num_threads(1)
    start = time.perf_counter()
    module, objective, dataset = problem(args.clips)
    batches = batches_of(dataset, RECIPE["batch_size"], args.frames)
    frames = sum(f.shape[0] * f.shape[1] for f, _ in batches)
    base = trainer(module, objective, batches)
    base()  # warm-up
    rows = {}
    for variant in args.variants:
        print(f"{time.strftime('%H:%M:%S')} {variant}", flush=True)
        try:
            rows[variant] = measure(variant, module, objective, dataset, base, batches,
                                    frames, rounds, args)
        except Exception as error:  # noqa: BLE001 -- recorded, the other variants go on
            rows[variant] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        torch.set_num_threads(1)
        rows[variant].update(cpu=cpu_extensions(), machine=machine())
        print(f"  {rows[variant]}", flush=True)
    if set(args.variants) != set(VARIANTS):
        rows = merged_rows(RESULTS / "training_speed.json", rows)
    result = {"benchmark": "training_speed", "recipe": RECIPE, "quick": args.quick,
              "rounds": rounds, "clips": args.clips, "frames_per_pass": frames,
              "cpu": cpu_extensions(), "rows": rows, "machine": machine(),
              "seconds": time.perf_counter() - start, "torch": torch.__version__}
    write_report(RESULTS / "training_speed", result, markdown(result))
    return result


def merged_rows(path, rows):
    """``rows`` (the variants just measured) with the other variants of an earlier report
    at ``path``, in :data:`VARIANTS` order; each earlier row keeps the CPU and machine it
    was measured on (the report's, for reports older than per-row records)."""
    earlier = json.loads(Path(path).read_text()) if Path(path).exists() else {"rows": {}}
    merged = {}
    for name in VARIANTS:
        if name in rows:
            merged[name] = rows[name]
        elif name in earlier["rows"]:
            merged[name] = {"cpu": earlier.get("cpu"), "machine": earlier.get("machine"),
                            "frames_per_pass": earlier.get("frames_per_pass"),
                            **earlier["rows"][name]}
    return merged


def _cpu_cell(row):
    """Where a row was measured: the CPU's bfloat16-relevant extensions and the time."""
    cpu, when = row.get("cpu") or {}, (row.get("machine") or {}).get("date_utc", "")
    flags = [f for f in cpu.get("flags", ()) if f in ("avx512_bf16", "amx_bf16")]
    return f"{'+'.join(flags) or 'avx2'}, {when.removesuffix(' UTC')}"


def markdown(result):
    """The table of ``result`` (one row per variant)."""
    cpu = result["cpu"]
    lines = [
        "# Training speed of the shipped recipe", "",
        f"Produced by `python benchmarks/bench_training_speed.py"
        f"{' --quick' if result['quick'] else ''}`: the shipped recipe's training step "
        f"(ChimeraSeparator 2 x 300 BLSTM, D 20, mMSA, dropout 0.3, Adam, 100-frame segments, "
        f"batches of 16) on {result['clips']} MIR-1K training clips, "
        f"{result['frames_per_pass']} frames per timed pass; each variant against the current "
        f"code (float32, eager, batches of 16, one thread) in {result['rounds']} paired rounds "
        f"(order alternating). Ratio: median (range) of per-round frames/s variant / "
        f"current; > 1 is faster. CPU of the last run: {', '.join(cpu['flags']) or 'no AVX2'} "
        f"(torch CPU capability {cpu['torch_cpu_capability']}); rows kept from earlier runs "
        f"name theirs (last column) and may differ in rounds and frames per pass "
        f"(`training_speed.json`).", "",
        "| variant | frames/s ratio | current frames/s | variant frames/s | loss current / "
        "variant (same start) | note | CPU, measured (UTC) |",
        "|---|---|---:|---:|---|---|---|"]
    for name, row in result["rows"].items():
        if "error" in row:
            lines.append(f"| {name} | failed | | | | {row['error']} | {_cpu_cell(row)} |")
            continue
        loss = (f"{row['current_loss']:.4f} / {row['variant_loss']:.4f}"
                if "variant_loss" in row else "")
        note = (f"first pass (compiling) {row['first_pass_seconds']:.0f} s"
                if "first_pass_seconds" in row else "")
        lines.append(f"| {name} | {row['ratio_median']:.2f} ({row['ratio_min']:.2f}–"
                     f"{row['ratio_max']:.2f}) | {row['current_fps']:.0f} | "
                     f"{row['variant_fps']:.0f} | {loss} | {note} | {_cpu_cell(row)} |")
    lines += ["", "The shared machine's host changes between sessions: rows measured on a CPU "
              "without AVX512-BF16 (torch capability AVX2) emulate bfloat16, those with it "
              "(and AMX) run it in hardware; compare a row with the current code of its own "
              "rounds only.", "", machine_line(result["machine"]), ""]
    return "\n".join(lines)


def _on_two_threads(run):
    """``run`` on two torch intra-op threads (one again afterwards)."""
    def two_threads():
        torch.set_num_threads(2)
        try:
            return run()
        finally:
            torch.set_num_threads(1)
    return two_threads


def measure(variant, module, objective, dataset, base, batches, frames, rounds, args):
    """One variant's row (see the module docstring)."""
    if variant == "bf16":
        return {**paired(base, trainer(module, objective, batches, variant="bf16"),
                         max(2, rounds // 3), frames),
                **losses_from_same_start(module, objective, batches, "bf16")}
    if variant.startswith("autocast"):
        run = trainer(module, objective, batches, variant="autocast")
        if variant == "autocast 2 threads":
            run = _on_two_threads(run)
        return {**paired(base, run, rounds, frames),
                **losses_from_same_start(module, objective, batches, "autocast")}
    if variant == "4 x 500":
        larger, larger_objective, _ = problem(args.clips, hidden_size=500, num_layers=4)
        run = trainer(larger, larger_objective, batches)
        run()  # warm-up
        return paired(base, run, rounds, frames)
    if variant == "compile":
        run = trainer(module, objective, batches, variant="compile")
        compile_seconds, _ = _timed(run)
        return {**paired(base, run, rounds, frames), "first_pass_seconds": compile_seconds,
                **losses_from_same_start(module, objective, batches, "compile")}
    if variant == "no oneDNN":
        def native():
            with torch.backends.mkldnn.flags(enabled=False):
                return base()
        return paired(base, native, rounds, frames)
    if variant.startswith("batch"):
        size = int(variant.split()[1])
        larger = batches_of(dataset, size, args.frames)
        larger_frames = sum(f.shape[0] * f.shape[1] for f, _ in larger)
        run = trainer(module, objective, larger)
        run()
        return paired(base, run, rounds, frames, larger_frames)
    if variant == "2 threads":
        return paired(base, _on_two_threads(base), rounds, frames)
    single, double = [], []
    for _ in range(max(1, rounds // 2)):
        single.append(processes(1, args.clips, args.frames, args.repeats))
        double.append(processes(2, args.clips, args.frames, args.repeats))
    return {"rounds": len(single), **ratio_summary(double, single),
            "current_fps": statistics.median(single), "variant_fps": statistics.median(double)}


if __name__ == "__main__":
    main()
