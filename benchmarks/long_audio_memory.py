"""Peak memory and wall time of ``sksep separate`` on 1, 5 and 10-minute stereo songs.

Songs are built by tiling a 30-second MUSDB excerpt (``mixture.flac``, stereo 44.1 kHz)
to the wanted length and written as 16-bit WAV files in a temporary folder. Each one is
separated by ``python -m sksep separate`` in its own process (one CPU thread,
``OMP_NUM_THREADS=1``); the peak resident memory of that process comes from
``os.wait4`` (the kernel's ``ru_maxrss``) and the wall time from the parent. Rows:

- ``blocks (60 s)``: the default, overlapping 60-second blocks (:func:`sksep.separation.separate_long`);
- ``whole clip``: ``--block-seconds 100000``, i.e. one ``predict`` over each channel;
- a 10-second song: the fixed cost (Python, torch, model loading).

The model is the shipped ``chimera-mir1k`` when it is installed, otherwise a model of the
same architecture (Chimera, 2 x 300 BLSTM, D = 20) trained for one epoch on four MIR-1K
clips by ``sksep train``: its separation quality is meaningless, but its size, and so the
memory and time of separation, are the shipped model's. Results go to
``long_audio_memory.md`` and ``long_audio_memory.json`` beside this script.

Usage::

    python benchmarks/long_audio_memory.py [--minutes 1 5 10] [--whole-up-to 5]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

import sksep
from _common import (BENCHMARKS, MIR1K, MUSDB_EXCERPTS, machine, machine_line, one_thread_env,
                     write_report)

EXCERPT = MUSDB_EXCERPTS / "AM Contra - Heart Peripheral" / "mixture.flac"
SHIPPED = "chimera-mir1k"
WHOLE_CLIP = "100000"  # --block-seconds longer than any song: one block per channel


def run_measured(command, env):
    """Run ``command``; return (exit code, wall seconds, peak RSS in MiB, stderr tail)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    # Read stderr before waiting so a chatty child never blocks on a full pipe.
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return process.returncode, wall, usage.ru_maxrss / 1024, stderr.strip()[-2000:]


def write_song(path, seconds):
    """Tile the excerpt to ``seconds`` of stereo 44.1 kHz audio, written in chunks."""
    excerpt, rate = sf.read(EXCERPT, dtype="float32", always_2d=True)
    total = int(seconds * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=excerpt.shape[1],
                      subtype="PCM_16") as handle:
        written = 0
        while written < total:
            piece = excerpt[:total - written]
            handle.write(piece)
            written += len(piece)
    return rate


def prepare_model(folder, env):
    """The shipped model's name, or the path of a same-size stand-in (and how it was made)."""
    if SHIPPED in sksep.available_models():
        return SHIPPED, f"shipped model {SHIPPED!r}"
    path = folder / "stand-in.sksep"
    command = [sys.executable, "-m", "sksep", "train", str(MIR1K), "--out", str(path),
               "--epochs", "1", "--hidden-size", "300", "--layers", "2", "--embedding-dim",
               "20", "--alpha", "0.1", "--max-clips", "4", "--validation-fraction", "0",
               "--quiet"]
    code, wall, _, stderr = run_measured(command, env)
    if code != 0:
        raise SystemExit(f"training the stand-in model failed ({code}):\n{stderr}")
    return str(path), (f"{SHIPPED} is not installed; stand-in of the same architecture "
                       f"(Chimera, 2 x 300 BLSTM, D=20) trained 1 epoch on 4 MIR-1K clips "
                       f"({wall:.0f} s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 5, 10])
    parser.add_argument("--whole-up-to", type=float, default=5,
                        help="also run whole-clip separation for songs up to this many minutes")
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "long_audio_memory")
    args = parser.parse_args(argv)

    env = one_thread_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sksep-long-audio-") as folder:
        folder = Path(folder)
        model, model_note = prepare_model(folder, env)
        print(f"model: {model_note}", flush=True)
        runs = [(10 / 60, "blocks (60 s)", "60")]
        for minutes in args.minutes:
            runs.append((minutes, "blocks (60 s)", "60"))
            if minutes <= args.whole_up_to:
                runs.append((minutes, "whole clip", WHOLE_CLIP))
        for minutes, mode, block_seconds in runs:
            song = folder / f"song-{minutes * 60:.0f}s.wav"
            if not song.exists():
                write_song(song, minutes * 60)
            rate = sf.info(song).samplerate
            out = folder / f"out-{len(rows)}"
            command = [sys.executable, "-m", "sksep", "separate", str(song), "--model", model,
                       "--out", str(out), "--block-seconds", block_seconds, "--quiet"]
            code, wall, peak, stderr = run_measured(command, env)
            if code != 0:
                raise SystemExit(f"separation failed ({code}) for {song.name}:\n{stderr}")
            stems = sorted(p.name for p in (out / song.stem).iterdir())
            info = sf.info(out / song.stem / stems[0])
            assert info.frames == int(minutes * 60 * rate) and info.channels == 2
            row = {"seconds": round(minutes * 60), "mode": mode, "block_seconds": block_seconds,
                   "peak_rss_mib": round(peak, 1), "wall_seconds": round(wall, 1),
                   "real_time_factor": round(wall / (minutes * 60), 3), "stems": stems}
            rows.append(row)
            print(f"{row['seconds']:5d} s  {mode:14s} peak {peak:7.0f} MiB  wall {wall:6.1f} s",
                  flush=True)
            for stem in stems:  # keep the temporary folder small
                (out / song.stem / stem).unlink()

    audio_mib = {row["seconds"]: row["seconds"] * 44100 * 2 * 4 / 2**20 for row in rows}
    header = ("| song | mode | peak RSS (MiB) | wall (s) | wall / song length | "
              "song as float32 (MiB) |\n|---|---|---:|---:|---:|---:|")
    lines = [f"| {row['seconds'] // 60} min {row['seconds'] % 60:02d} s | {row['mode']} | "
             f"{row['peak_rss_mib']:.0f} | {row['wall_seconds']:.1f} | "
             f"{row['real_time_factor']:.2f} | {audio_mib[row['seconds']]:.0f} |" for row in rows]
    table = "\n".join([header, *lines])
    print(table)
    blocked = sorted((row["seconds"], row["peak_rss_mib"]) for row in rows
                     if row["mode"].startswith("blocks"))
    (short, short_peak), (long, long_peak) = blocked[-2], blocked[-1]
    growth = (long_peak - short_peak) / ((long - short) / 60)
    song_per_minute = 60 * 44100 * 2 * 4 / 2**20
    growth_note = (f"Between the two longest songs, peak memory with blocks grows by "
                   f"{growth:.0f} MiB per minute of song, {growth / song_per_minute:.1f} times "
                   f"the {song_per_minute:.0f} MiB of one minute of the song as float32.")
    print(growth_note)

    record = machine(threads=1)
    results = {"model": model_note, "machine": record, "rows": rows,
               "growth_mib_per_minute_with_blocks": round(growth, 1)}
    write_report(args.out, results, REPORT.format(
        model=model_note, table=table, growth=growth_note, machine=machine_line(record)))
    print(f"wrote {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')}")


REPORT = """# Long songs: peak memory and time of `sksep separate`

Command: `python benchmarks/long_audio_memory.py` (one run per row, each a fresh
`python -m sksep separate SONG --block-seconds S --quiet` process on one CPU thread).
Songs: the 30 s MUSDB excerpt "AM Contra - Heart Peripheral" tiled to length, stereo
44.1 kHz 16-bit WAV. Peak RSS: the process's `ru_maxrss`. Model: {model}.

{table}

"song as float32" is the size of the song itself decoded to float32 (stereo, 44.1 kHz).

Machine: {machine}, shared with other jobs; absolute times are noisy here, compare
rows of one run only.

## Reading it

- The 10 s row is the fixed cost: Python, torch, librosa and the model.
- With blocks, the network's working set (STFT, features, masks, resynthesis of one
  60 s block) is bounded; what still grows with the song is the audio itself at the
  file's rate: the decoded input (n_channels x n_samples float32), the stems
  (n_sources x n_channels x n_samples float32) and one stem's copy while it is written.
  {growth}
- Without blocks ("whole clip") the spectrogram, masks and masked spectra of a whole
  channel are held at once, on top of the same audio buffers.
"""


if __name__ == "__main__":
    main()
