"""Full-band separation of real 44.1 kHz stereo songs: before (band-limited) and after.

On the three songs of ``../shared/data/MUSDB18-excerpts`` (vocals against drums + bass
+ other, 44.1 kHz stereo), with the shipped model, this compares

* ``band-limited``: the song resampled to the model's 16 kHz, each channel separated
  on its own, the stems resampled back (sksep before full-band separation);
* ``full band (top)`` / ``full band (octave)``: masks from the mid signal at 16 kHz,
  mapped onto the 44.1 kHz STFT of both channels
  (:func:`sksep.separation.separate_audio`; a 29.6 s song is one block), with the two
  rules for the bins above 8 kHz (``high_band``);

and reports, per stem, the SI-SDRi computed at 44.1 kHz on both channels (full band),
the share of the mixture's energy above 8 kHz present in the stems' sum, how far the
stems' sum is from the song, and the time per minute of audio (median over paired
rounds of the ratio full band / band-limited, BENCHMARKS.md).

Run::

    python benchmarks/bench_fullband.py [--rounds 5]

and it writes ``benchmarks/results/fullband.json`` and ``benchmarks/results/fullband.md``.
"""

import argparse

import librosa
import numpy as np
import torch

import sksep
from _common import (MUSDB_EXCERPTS, RESULTS, machine, machine_line, paired_rounds,
                     write_report)
from sksep.audio_io import load_audio
from sksep.metrics import si_sdr_improvement
from sksep.separation import separate_audio, separate_long

#: ``separate_audio``'s rules for the bins above the model's Nyquist frequency.
HIGH_BAND_RULES = ("top", "octave")


def band_limited(model, audio, rate):
    """sksep's separation before full band: per channel at 16 kHz, resampled back."""
    model_rate = model.grid_.sample_rate
    stems = []
    for channel in audio:
        mono = librosa.resample(channel, orig_sr=rate, target_sr=model_rate)
        separated = separate_long(model, mono)
        stems.append([librosa.util.fix_length(
            librosa.resample(s, orig_sr=model_rate, target_sr=rate), size=audio.shape[1])
            for s in separated])
    return np.asarray(stems).transpose(1, 0, 2)  # (n_sources, n_channels, n_samples)


def high_share(audio, rate, cutoff=8000.0):
    """Share of the energy of ``audio`` (channels, samples) above ``cutoff`` Hz."""
    power = np.abs(librosa.stft(audio, n_fft=2048)) ** 2
    freqs = librosa.fft_frequencies(sr=rate, n_fft=2048)
    return float(power[..., freqs > cutoff, :].sum() / power.sum())


def song(folder):
    stems = {name: load_audio(folder / f"{name}.flac", mono=False)[0]
             for name in ("vocals", "drums", "bass", "other")}
    mixture, rate = load_audio(folder / "mixture.flac", mono=False)
    return mixture, rate, (stems["vocals"], stems["drums"] + stems["bass"] + stems["other"])


def scores(estimates, references, mixture):
    """SI-SDRi per stem, mean over both channels, at the song's rate."""
    return [float(np.mean([si_sdr_improvement(ref[c], est[c], mixture[c])
                           for c in range(mixture.shape[0])]))
            for est, ref in zip(estimates, references)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="chimera-mir1k")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = sksep.load(args.model)
    methods = {"band-limited": lambda a, r: band_limited(model, a, r)}
    for rule in HIGH_BAND_RULES:
        methods[f"full band ({rule})"] = (
            lambda a, r, rule=rule: separate_audio(model, a, r, high_band=rule))
    rows = {name: {"vocals": [], "accompaniment": [], "high_share": [], "sum_error": []}
            for name in methods}
    mixture_high, at_model_rate = [], {"vocals": [], "accompaniment": []}
    folders = sorted(p for p in MUSDB_EXCERPTS.iterdir() if p.is_dir())
    for folder in folders:
        mixture, rate, references = song(folder)
        mixture_high.append(high_share(mixture, rate))
        # The figure sksep used to report: mono mixes at the model's rate, scored there.
        mono = [librosa.resample(x.mean(axis=0), orig_sr=rate, target_sr=model.grid_.sample_rate)
                for x in (mixture,) + references]
        estimate = separate_long(model, mono[0])
        for name, est, ref in zip(("vocals", "accompaniment"), estimate, mono[1:]):
            at_model_rate[name].append(float(si_sdr_improvement(ref, est, mono[0])))
        for name, method in methods.items():
            estimates = method(mixture, rate)
            vocals, accompaniment = scores(estimates, references, mixture)
            total = estimates.sum(axis=0)
            rows[name]["vocals"].append(vocals)
            rows[name]["accompaniment"].append(accompaniment)
            rows[name]["high_share"].append(high_share(total, rate) / mixture_high[-1])
            rows[name]["sum_error"].append(float(np.abs(total - mixture).max()))
    # Paired rounds on the first song: band-limited, then full band (top).
    mixture, rate, _ = song(folders[0])
    minutes = mixture.shape[1] / rate / 60
    limited, full = paired_rounds(lambda: methods["band-limited"](mixture, rate),
                                  lambda: methods["full band (top)"](mixture, rate),
                                  args.rounds)
    seconds = {"band-limited": [s / minutes for s in limited],
               "full band (top)": [s / minutes for s in full]}
    ratios = [f / b for f, b in zip(full, limited)]

    summary = {name: {key: float(np.mean(values)) for key, values in row.items()}
               for name, row in rows.items()}
    result = {
        "songs": [f.name for f in folders], "model": args.model, "rows": rows,
        "summary": summary, "mono_at_model_rate": at_model_rate,
        "seconds_per_minute_median": {k: float(np.median(v)) for k, v in seconds.items()},
        "time_ratio_fullband_over_bandlimited_median": float(np.median(ratios)),
        "rounds": args.rounds, "machine": machine(torch_threads=1),
    }
    lines = ["| method | vocals SI-SDRi (dB) | accompaniment SI-SDRi (dB) | energy above 8 kHz kept | max abs(sum - song) |",
             "|---|---|---|---|---|"]
    for name, row in summary.items():
        lines.append(f"| {name} | {row['vocals']:.2f} | {row['accompaniment']:.2f} | "
                     f"{100 * row['high_share']:.1f} % | {row['sum_error']:.2g} |")
    lines.append(f"| mono at {model.grid_.sample_rate} Hz (scored there) | "
                 f"{np.mean(at_model_rate['vocals']):.2f} | "
                 f"{np.mean(at_model_rate['accompaniment']):.2f} | - | - |")
    lines.append("")
    lines.append(f"Mean over the {len(folders)} songs of `MUSDB18-excerpts` (29.6 s, 44.1 kHz "
                 f"stereo; accompaniment = drums + bass + other), model `{args.model}`, SI-SDRi "
                 f"at 44.1 kHz averaged over both channels. Time: full band / band-limited = "
                 f"{result['time_ratio_fullband_over_bandlimited_median']:.2f} (median of "
                 f"{args.rounds} paired rounds, one torch thread, "
                 f"{machine_line(result['machine'])}).")
    write_report(RESULTS / "fullband", result, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
