"""``MelFeatures`` vs the equivalent direct librosa calls, in paired rounds.

Both compute, for one 16 kHz mono clip, what a separator needs: the complex STFT
(512-sample Hann window, 128-sample hop, centred), the 150-band mel magnitude
(librosa's Slaney filterbank), its log and first-order deltas (width 9). A: 
``MelFeatures().transform([clip])``; B: ``librosa.stft`` -> ``np.abs`` ->
``librosa.feature.melspectrogram(S=..., power=1)`` -> ``np.log`` -> ``librosa.feature.delta``.
The result is the median over paired rounds of ``time(A) / time(B)``. One thread.

Usage::

    python benchmarks/bench_features.py [--quick]
"""

import argparse
import os
import statistics
import time

import librosa
import numpy as np

from _common import MIR1K, RESULTS, machine, paired_rounds, ratio_summary, write_report
from sksep import MelFeatures
from sksep.datasets import load_mir1k


def direct_librosa(clip):
    spectrum = librosa.stft(clip, n_fft=512, hop_length=128, window="hann", center=True)
    mel = librosa.feature.melspectrogram(S=np.abs(spectrum), sr=16000, n_fft=512,
                                         n_mels=150, power=1.0)
    log_mel = np.log(mel + 1e-6)
    delta = librosa.feature.delta(log_mel, width=9, axis=-1, mode="nearest")
    return spectrum, mel.T, np.concatenate([log_mel, delta], axis=0).T.astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rounds = 10 if args.quick else 25
    start = time.perf_counter()
    data = load_mir1k(MIR1K, "test", max_clips=6)
    song = np.concatenate(data.X).astype(np.float32)
    features = MelFeatures().fit(song[None, :16000])
    rows = {}
    for seconds in (10, 60):
        clip = np.tile(song, seconds * 16000 // len(song) + 1)[: seconds * 16000]
        ours = features.transform([clip])[0]
        _, _, theirs = direct_librosa(clip)
        # Not identical: sksep keeps every STFT bin covered by some band (see
        # FeatureGrid), and it scales each clip to one reference level before the log
        # (the features do not depend on the input's gain), which shifts the log-mel
        # half by a constant (-0.27 on these clips); compare the spread, not equality.
        max_diff = float(np.max(np.abs(ours.features - theirs)))
        a, b = paired_rounds(lambda: features.transform([clip]), lambda: direct_librosa(clip),
                             rounds)
        row = rows[f"{seconds} s"] = {"seconds": seconds, **ratio_summary(a, b),
                                      "sksep_median_s": statistics.median(a),
                                      "librosa_median_s": statistics.median(b),
                                      "max_abs_feature_difference": max_diff}
        print(f"{seconds:>3} s clip: MelFeatures / librosa = {row['ratio_median']:.2f} "
              f"({row['sksep_median_s'] * 1e3:.1f} ms vs {row['librosa_median_s'] * 1e3:.1f} ms)")
    result = {"benchmark": "features", "quick": args.quick, "rounds": rounds, "rows": rows,
              "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "machine": machine(),
              "seconds": time.perf_counter() - start}
    write_report(RESULTS / "features", result)
    return result


if __name__ == "__main__":
    main()
