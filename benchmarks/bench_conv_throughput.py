"""Training-step throughput of the convolutional separators on this CPU (issue 30, step 1).

One training step (forward, the L1 objective, backward, Adam) of the stacked hourglass
network (:class:`sksep.nn.hourglass.HourglassMaskNetwork`, Park et al.'s recipe: 513
linear bins x 64-frame patches, batch 4) in several variants, timed in paired rounds
against the float32 NCHW reference (``BENCHMARKS.md``: the median of the per-round
ratios, never a ratio of separate runs):

* ``f32``: float32, NCHW tensors (the reference);
* ``f32 channels_last``: float32 on NHWC tensors (what the module does by default);
* ``bf16``: bfloat16 compute under ``torch.autocast("cpu")`` (float32 weights, optimiser
  and loss), NCHW;
* ``bf16 channels_last``: both;
* ``bf16 channels_last compile``: both, the module compiled by ``torch.compile``
  (inductor; needs a C++ compiler);
* ``bf16 channels_last 2 threads``: both, on two intra-op threads (needs both cores);
* ``bf16 channels_last batch 8``: twice the patches per step (per-patch cost compared).

Throughput is reported per training patch. The floating-point work of a step is counted
by ``torch.utils.flop_counter.FlopCounterMode`` (multiply-adds count 2), which gives the
GFLOP/s reached against this CPU's peak: Zen 4 (AMD family 25 model 17, as
``/proc/cpuinfo`` reports here) has two 256-bit FMA pipes per core, 32 float32 FLOP per
cycle, and twice that for bfloat16 dot products (``vdpbf16ps``); at the reported clock
(``cpu MHz``) that is the peak per core quoted. The widths 32, 64 and 128 are measured
for the two best variants.

Usage::

    python benchmarks/bench_conv_throughput.py [--rounds N] [--quick]
"""

import argparse
import contextlib
import copy
import re
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, write_report  # noqa: E402
from sksep.losses import hourglass_objective  # noqa: E402
from sksep.nn.hourglass import HourglassMaskNetwork  # noqa: E402

N_BINS = 513       # 8 kHz, n_fft 1024, linear bins (Park et al. keep 512)
FRAMES = 64        # Park et al.'s patch length
N_SOURCES = 2

# name -> (bfloat16 autocast, channels_last, compile, threads, batch)
VARIANTS = {
    "f32": (False, False, False, 1, 4),
    "f32 channels_last": (False, True, False, 1, 4),
    "bf16": (True, False, False, 1, 4),
    "bf16 channels_last": (True, True, False, 1, 4),
    "bf16 channels_last compile": (True, True, True, 1, 4),
    "bf16 channels_last 2 threads": (True, True, False, 2, 4),
    "bf16 channels_last batch 8": (True, True, False, 1, 8),
}


def _cpu_peak():
    """Clock (GHz) and the float32 / bfloat16 peak GFLOP/s of one core, from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text()
    mhz = float(re.search(r"cpu MHz\s*:\s*([\d.]+)", text).group(1))
    return {"clock_ghz": mhz / 1000, "f32_flop_per_cycle": 32, "bf16_flop_per_cycle": 64,
            "f32_peak_gflops_per_core": 32 * mhz / 1000,
            "bf16_peak_gflops_per_core": 64 * mhz / 1000,
            "bf16_flags": sorted(set(re.findall(r"\b(avx512_bf16|amx_bf16)\b", text)))}


def _batch(batch_size, generator):
    features = torch.randn(batch_size, FRAMES, N_BINS, generator=generator)
    mixture = torch.rand(batch_size, FRAMES, N_BINS, generator=generator)
    share = torch.rand(batch_size, FRAMES, 1, N_BINS, generator=generator)
    reference = torch.cat([share, 1 - share], dim=2) * mixture.unsqueeze(2)
    return features, {"mixture": mixture, "reference": reference,
                      "valid": torch.ones(batch_size, FRAMES)}


class _Step:
    """One variant: its own copy of the network and optimiser, and ``run(steps)``."""

    def __init__(self, network, bf16, channels_last, compiled, threads, batch_size):
        self.network = copy.deepcopy(network)
        self.network.hourglass.channels_last = channels_last
        if channels_last:
            self.network = self.network.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.network) if compiled else self.network
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=1e-4)
        self.bf16, self.threads = bf16, threads
        self.features, self.targets = _batch(batch_size, torch.Generator().manual_seed(0))
        self.batch_size = batch_size

    def _autocast(self):
        return (torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16
                else contextlib.nullcontext())

    def step(self):
        self.optimizer.zero_grad()
        with self._autocast():
            outputs = self.forward(self.features)
        loss = hourglass_objective(outputs.float(), self.targets)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def run(self, steps):
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            start = time.perf_counter()
            for _ in range(steps):
                self.step()
            return time.perf_counter() - start
        finally:
            torch.set_num_threads(previous)

    def flops(self):
        with FlopCounterMode(display=False) as counter:
            self.optimizer.zero_grad()
            with self._autocast():
                outputs = self.network(self.features)
            hourglass_objective(outputs.float(), self.targets).backward()
        self.optimizer.zero_grad()
        return counter.get_total_flops()


def measure(channels, variants, rounds, steps):
    """Paired rounds of ``variants`` at ``channels``: seconds per patch of each, ratios."""
    torch.manual_seed(0)
    network = HourglassMaskNetwork(N_BINS, N_BINS, N_SOURCES, channels=channels, n_stacks=1,
                                   levels=4, mask_activation="linear")
    steps_of = {name: _Step(network, *VARIANTS[name]) for name in variants}
    for step in steps_of.values():  # warm-up (and compilation)
        step.run(2)
    seconds = {name: [] for name in variants}
    for _ in range(rounds):
        for name, step in steps_of.items():
            seconds[name].append(step.run(steps) / (steps * step.batch_size))
    reference = variants[0]
    flops_per_patch = steps_of[reference].flops() / steps_of[reference].batch_size
    rows = {}
    for name in variants:
        ratios = [a / b for a, b in zip(seconds[reference], seconds[name])]
        per_patch = statistics.median(seconds[name])
        rows[name] = {"seconds_per_patch_median": per_patch,
                      "speedup_vs_reference_median": statistics.median(ratios),
                      "speedup_min": min(ratios), "speedup_max": max(ratios),
                      "gflops": flops_per_patch / per_patch / 1e9,
                      "threads": VARIANTS[name][3], "batch": VARIANTS[name][4]}
    return {"channels": channels, "reference": reference, "rounds": rounds,
            "steps_per_round": steps, "gflop_per_patch": flops_per_patch / 1e9,
            "parameters": sum(p.numel() for p in network.parameters()), "rows": rows}


def _markdown(result):
    peak = result["cpu_peak"]
    lines = ["# Training-step throughput of the stacked hourglass (issue 30)", "",
             f"`python benchmarks/bench_conv_throughput.py` — one training step (forward, L1 "
             f"objective, backward, Adam) of a 1-stack hourglass (4 levels) on "
             f"{N_BINS} linear bins x {FRAMES}-frame patches, random data. Paired rounds "
             f"(every variant once per round); speed-ups are medians of the per-round "
             f"ratios against the first row (min–max beside). GFLOP/s from "
             f"`FlopCounterMode` (forward + backward) over the median time. "
             f"Peak of one core at {peak['clock_ghz']:.2f} GHz: "
             f"{peak['f32_peak_gflops_per_core']:.0f} GFLOP/s float32, "
             f"{peak['bf16_peak_gflops_per_core']:.0f} bfloat16 "
             f"(Zen 4: 2 x 256-bit FMA pipes; flags {', '.join(peak['bf16_flags'])}). "
             f"On a shared machine only the paired speed-ups hold; the absolute times and "
             f"GFLOP/s are those of the load at the time (see the last line), and the "
             f"2-thread row means something only when both cores are idle.", ""]
    for table in result["tables"]:
        lines += [f"## {table['channels']} channels ({table['parameters'] / 1e6:.2f} M "
                  f"parameters, {table['gflop_per_patch']:.2f} GFLOP per patch per step; "
                  f"{table['rounds']} rounds of {table['steps_per_round']} steps)", "",
                  "| variant | threads | batch | ms per patch (median) | speed-up (min–max) "
                  "| GFLOP/s | share of one core's peak |", "|---|---|---|---|---|---|---|"]
        for name, row in table["rows"].items():
            bf16 = VARIANTS[name][0]
            peak_core = peak["bf16_peak_gflops_per_core" if bf16 else "f32_peak_gflops_per_core"]
            share = row["gflops"] / (peak_core * row["threads"])
            lines.append(f"| {name} | {row['threads']} | {row['batch']} | "
                         f"{1000 * row['seconds_per_patch_median']:.0f} | "
                         f"{row['speedup_vs_reference_median']:.2f} "
                         f"({row['speedup_min']:.2f}–{row['speedup_max']:.2f}) | "
                         f"{row['gflops']:.1f} | {100 * share:.0f} % |")
        lines.append("")
    lines += [f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, torch "
              f"{result['machine']['torch']}, load average "
              f"{result['machine']['load_average'][0]:.1f} at the end, "
              f"{result['machine']['date_utc']}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2, help="training steps per round")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, 32 channels only, no compile")
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32, 128])
    parser.add_argument("--out", default=str(RESULTS / "conv_throughput"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = list(VARIANTS)
    widths = args.widths
    if args.quick:
        args.rounds, widths = 3, [32]
        names = [n for n in names if "compile" not in n]
    tables = [measure(widths[0], names, args.rounds, args.steps)]
    best = ["f32", "f32 channels_last", "bf16 channels_last"]
    for channels in widths[1:]:
        tables.append(measure(channels, best, args.rounds, args.steps))
        print(f"{channels} channels done", flush=True)
    result = {"tables": tables, "cpu_peak": _cpu_peak(), "machine": machine(threads=1)}
    markdown = _markdown(result)
    write_report(args.out, result, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
