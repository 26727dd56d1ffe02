"""int8 dynamic quantisation of the shipped model: size, score and speed against float32.

``torch.ao.quantization.quantize_dynamic`` turns the LSTM and linear layers' weights
into int8 (activations are quantised on the fly; `ChimeraSeparator.quantized()`). Measured on the two training songs
``tools/train_shipped_model.py --remixes`` holds out for validation (never on the test
singers: this decides whether to ship it):

* size of the weights (``torch.save`` of the state dict);
* SI-SDRi of both stems, length-weighted over the validation clips;
* separation time of one 30 s clip, float32 vs int8, median of per-round ratios over
  paired rounds on one thread (BENCHMARKS.md).

Run::

    python benchmarks/bench_quantize.py [--rounds 10]

and it writes ``benchmarks/results/quantize.json``.
"""

import argparse
import io
import json

import numpy as np
import torch

import sksep
from _common import MIR1K, RESULTS, machine, machine_line, paired_rounds, write_report
from sksep.datasets import hold_out_songs, load_mir1k
from sksep.metrics import separation_report


def held_out_songs(train, valid_fraction=0.1, seed=0):
    """The training songs ``tools/train_shipped_model.py --remixes`` validates on."""
    _, keep, held_out = hold_out_songs(train.groups, fraction=valid_fraction,
                                       random_state=seed)
    return [train.X[i] for i in keep], [train.Y[i] for i in keep], held_out


def weights_megabytes(module):
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--model", default="chimera-mir1k")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = sksep.load(args.model)
    int8 = model.quantized()
    X, Y, songs = held_out_songs(load_mir1k(MIR1K, "train"))
    variants = {"float32": model, "int8": int8}
    rows = {}
    for name, variant in variants.items():
        report = separation_report(Y, variant.predict(X), X, bss=False,
                                   source_names=["vocals", "accompaniment"])
        rows[name] = {"size_mb": weights_megabytes(variant.net_.module_),
                      **{f"{s} SI-SDRi": report[s]["SI-SDRi"] for s in report}}
    clip = np.concatenate(X)[:30 * 16000]
    float32_s, int8_s = paired_rounds(lambda: model.predict([clip]), lambda: int8.predict([clip]),
                                      args.rounds)
    ratios = [b / a for a, b in zip(float32_s, int8_s)]
    result = {"model": args.model, "validation_songs": songs, "n_clips": len(X),
              "rows": rows, "time_ratio_int8_over_float32_median": float(np.median(ratios)),
              "rounds": args.rounds, "machine": machine(torch_threads=1)}
    write_report(RESULTS / "quantize", result, markdown(result))
    print(json.dumps(result, indent=2))


def markdown(result):
    """The report of a :func:`main` result."""
    rows = result["rows"]
    lines = [
        "# int8 dynamic quantisation of the shipped model", "",
        f"Produced by `python benchmarks/bench_quantize.py --rounds {result['rounds']}`: "
        f"`{result['model']}` with its LSTM and linear layers in int8 "
        f"(`torch.ao.quantization.quantize_dynamic`; `ChimeraSeparator.quantized()`, "
        f"`sksep separate --int8`) against float32. Scores on the {result['n_clips']} "
        f"clips of the validation songs {', '.join(result['validation_songs'])} (training "
        f"singers; the test singers are not used for this decision). Time: the network "
        f"and resynthesis of one 30 s clip, median of {result['rounds']} paired rounds, "
        f"one thread.", "",
        "| weights | size (MB, state dict) | vocals SI-SDRi | acc. SI-SDRi |",
        "|---|---:|---:|---:|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['size_mb']:.1f} | {row['vocals SI-SDRi']:.3f} | "
                     f"{row['accompaniment SI-SDRi']:.3f} |")
    loss = max(rows["float32"][key] - rows["int8"][key] for key in
               ("vocals SI-SDRi", "accompaniment SI-SDRi"))
    lines += ["", f"int8 / float32 time: **{result['time_ratio_int8_over_float32_median']:.2f}**"
              f"; score loss {max(loss, 0.0):.3f} dB (< 0.1 dB: kept, as an option). "
              f"{machine_line(result['machine'])}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
