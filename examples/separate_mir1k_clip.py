"""Separate a real MIR-1K test clip with the shipped model, write the stems, print scores.

The clip's mixture is its left (accompaniment) + right (vocals) channel; the
true sources let us score the estimates against the mixture (the floor) and the
ideal Wiener-like mask (the ceiling).

Usage::

    python examples/separate_mir1k_clip.py [--clip annar_3_05] [--out separated] [--overwrite]
"""

import argparse
from pathlib import Path

import numpy as np

import sksep
from sksep import OracleMaskSeparator
from sksep.audio_io import save_audio
from sksep.datasets import load_mir1k
from sksep.metrics import bss_eval, si_sdr_improvement

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "MIR-1K"


def main(argv=None):
    """Run the example; returns the estimates ``(n_sources, n_samples)``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K folder")
    parser.add_argument("--clip", default="annar_3_05", help="test clip name")
    parser.add_argument("--model", default="chimera-mir1k", help="shipped name or model file")
    parser.add_argument("--out", type=Path, default=Path("separated"))
    parser.add_argument("--overwrite", action="store_true", help="replace existing stems")
    args = parser.parse_args(argv)

    test = load_mir1k(args.data, "test")
    if args.clip not in test.names:
        parser.error(f"--clip {args.clip!r} is not a MIR-1K test clip (e.g. {test.names[0]})")
    i = list(test.names).index(args.clip)
    mixture, sources = test.X[i], test.Y[i]

    model = sksep.load(args.model)
    estimates = model.predict([mixture])[0]
    oracle = OracleMaskSeparator(mask="wiener").fit([mixture], [sources])
    ceiling = oracle.predict([mixture], [sources])[0]

    folder = args.out / args.clip
    save_audio(folder / "mixture.wav", mixture, test.sample_rate, overwrite=args.overwrite)
    for name, estimate in zip(test.source_names, estimates):
        written = save_audio(folder / f"{name}.wav", estimate, test.sample_rate,
                             overwrite=args.overwrite)
        print(f"wrote {written}")

    print(f"\n{args.clip} ({len(mixture) / test.sample_rate:.1f} s), model {args.model!r}")
    print(f"{'':28}{'SI-SDRi (dB)':>14}{'SDR (dB)':>10}{'SIR (dB)':>10}{'SAR (dB)':>10}")
    for label, estimate in (("mixture", np.stack([mixture, mixture])),
                            ("sksep model", estimates), ("oracle Wiener", ceiling)):
        improvement = si_sdr_improvement(sources, estimate, mixture)
        bss = bss_eval(sources, estimate)
        for j, name in enumerate(test.source_names):
            # The mixture has no artefacts of its own: BSS Eval's SAR of it is meaningless.
            sar = f"{'-':>10}" if label == "mixture" else f"{bss['sar'][j]:10.2f}"
            print(f"{label + ' ' + name:28}{improvement[j]:14.2f}{bss['sdr'][j]:10.2f}"
                  f"{bss['sir'][j]:10.2f}{sar}")
    return estimates


if __name__ == "__main__":
    main()
