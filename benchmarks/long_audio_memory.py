"""Peak memory and wall time of separating 1, 5, 10 and 30-minute stereo songs into stem files.

Songs are built by tiling a 30-second MUSDB excerpt (``mixture.flac``, stereo 44.1 kHz)
to the wanted length and written as 16-bit WAV files in a temporary folder. Each one is
separated in a fresh Python process (one CPU thread, ``OMP_NUM_THREADS=1``) that loads
the model and writes one WAV file per stem, as ``sksep separate`` does; the peak
resident memory of that process comes from ``os.wait4`` (the kernel's ``ru_maxrss``)
and the wall time from the parent. Modes (rows):

- ``streamed``: :func:`sksep.separation.separate_to_files`, the song read and the stems
  written block by block (60-second blocks), each stem's encoding chosen from its peak
  as ``sksep separate`` chooses it (the song's 16 bits, or float above full scale);
- ``in memory``: what ``sksep separate`` did before: :func:`sksep.separation.separate_file`
  (the whole song decoded, the stems held whole, separated in the same 60-second
  blocks), then :func:`sksep.audio_io.save_audio` for each stem; run up to
  ``--in-memory-up-to`` minutes;
- a 10-second song: the fixed cost (Python, torch, model loading).

The model is the shipped ``chimera-mir1k`` when it is installed, otherwise a model of the
same architecture (Chimera, 2 x 300 BLSTM, D = 20) trained for one epoch on four MIR-1K
clips by ``sksep train``: its separation quality is meaningless, but its size, and so the
memory and time of separation, are the shipped model's. Results go to
``results/long_audio_memory.md`` and ``results/long_audio_memory.json``.

Usage::

    python benchmarks/long_audio_memory.py [--minutes 1 5 10 30] [--in-memory-up-to 10]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

import sksep
from _common import (MIR1K, MUSDB_EXCERPTS, RESULTS, machine, machine_line, one_thread_env,
                     write_report)

EXCERPT = MUSDB_EXCERPTS / "AM Contra - Heart Peripheral" / "mixture.flac"
SHIPPED = "chimera-mir1k"
BLOCK_SECONDS = 60.0
STREAMED, IN_MEMORY = "streamed", "in memory"


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


def stem_subtype(peak):
    """The encoding ``sksep separate`` gives a WAV stem of a 16-bit song: 16 bits, or
    32-bit float when the stem peaks above full scale (rather than clipping it)."""
    return "FLOAT" if peak > 1.0 else "PCM_16"


def separate_in_child(mode, model, song, out):
    """The child process: load the model and write one WAV file per stem of ``song``."""
    import warnings

    from sksep._api import named_model
    from sksep.audio_io import save_audio
    from sksep.separation import separate_file, separate_to_files

    estimator, names = named_model(model)
    targets = {name: Path(out) / f"{name}.wav" for name in names}
    if mode == STREAMED:
        separate_to_files(estimator, song, targets, source_names=names,
                          block_seconds=BLOCK_SECONDS, subtype=stem_subtype)
        return
    estimates, rate = separate_file(estimator, song, source_names=names,
                                    block_seconds=BLOCK_SECONDS)
    for name, path in targets.items():
        estimate = estimates[names.index(name)]
        peak = max(float(estimate.max()), -float(estimate.min()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            save_audio(path, estimate, rate, subtype=stem_subtype(peak))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 5, 10, 30])
    parser.add_argument("--in-memory-up-to", type=float, default=10,
                        help="also run the in-memory path for songs up to this many minutes")
    parser.add_argument("--out", type=Path, default=RESULTS / "long_audio_memory")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the Markdown report from the JSON results, measuring "
                             "nothing")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "MODEL", "SONG", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        separate_in_child(*args.child)
        return
    if args.report_only:
        results = json.loads(args.out.with_suffix(".json").read_text())
        write_results(args.out, results["rows"], results["model"], results["machine"])
        return

    env = one_thread_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sksep-long-audio-") as folder:
        folder = Path(folder)
        model, model_note = prepare_model(folder, env)
        print(f"model: {model_note}", flush=True)
        runs = [(10 / 60, STREAMED)]
        for minutes in args.minutes:
            # The in-memory run first: a song's two rows are then measured back to back.
            if minutes <= args.in_memory_up_to:
                runs.append((minutes, IN_MEMORY))
            runs.append((minutes, STREAMED))
        for minutes, mode in runs:
            song = folder / f"song-{minutes * 60:.0f}s.wav"
            if not song.exists():
                for old in folder.glob("song-*.wav"):  # keep the temporary folder small
                    old.unlink()
                write_song(song, minutes * 60)
            rate = sf.info(song).samplerate
            out = folder / f"out-{len(rows)}"
            command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, model,
                       str(song), str(out)]
            code, wall, peak, stderr = run_measured(command, env)
            if code != 0:
                raise SystemExit(f"separation failed ({code}) for {song.name}:\n{stderr}")
            stems = sorted(p.name for p in out.iterdir())
            info = sf.info(out / stems[0])
            assert info.frames == int(minutes * 60 * rate) and info.channels == 2
            row = {"seconds": round(minutes * 60), "mode": mode,
                   "block_seconds": BLOCK_SECONDS, "peak_rss_mib": round(peak, 1),
                   "wall_seconds": round(wall, 1),
                   "real_time_factor": round(wall / (minutes * 60), 3), "stems": stems}
            rows.append(row)
            print(f"{row['seconds']:5d} s  {mode:10s} peak {peak:7.0f} MiB  wall {wall:6.1f} s",
                  flush=True)
            for stem in stems:
                (out / stem).unlink()
    write_results(args.out, rows, model_note, machine(threads=1))


def write_results(out, rows, model_note, record):
    """Print the table and write the JSON results and the Markdown report."""
    song_per_minute = 60 * 44100 * 2 * 4 / 2**20
    header = ("| song | mode | peak RSS (MiB) | wall (s) | wall / song length | "
              "song as float32 (MiB) |\n|---|---|---:|---:|---:|---:|")
    lines = [f"| {row['seconds'] // 60} min {row['seconds'] % 60:02d} s | {row['mode']} | "
             f"{row['peak_rss_mib']:.0f} | {row['wall_seconds']:.1f} | "
             f"{row['real_time_factor']:.2f} | {row['seconds'] / 60 * song_per_minute:.0f} |"
             for row in rows]
    table = "\n".join([header, *lines])
    print(table)
    growth, notes = {}, []
    for mode in (IN_MEMORY, STREAMED):
        measured = sorted((row["seconds"], row["peak_rss_mib"]) for row in rows
                          if row["mode"] == mode and row["seconds"] >= 60)
        if len(measured) < 2:
            continue
        growth[mode] = {}
        for span, ((short, short_peak), (long, long_peak)) in (
                ("first to last", (measured[0], measured[-1])),
                ("two longest", (measured[-2], measured[-1]))):
            per_minute = (long_peak - short_peak) / ((long - short) / 60)
            growth[mode][span] = round(per_minute, 2)
            notes.append(f"{mode}, {short // 60} to {long // 60} minutes: "
                         f"{long_peak - short_peak:+.0f} MiB, {per_minute:+.1f} MiB per minute "
                         f"of song ({per_minute / song_per_minute:+.2f} times the "
                         f"{song_per_minute:.0f} MiB of one minute of the song as float32)")
    growth_note = "\n".join(f"- {note}." for note in notes)
    print(growth_note)

    results = {"model": model_note, "machine": record, "block_seconds": BLOCK_SECONDS,
               "rows": rows, "growth_mib_per_minute": growth}
    write_report(out, results, REPORT.format(
        model=model_note, table=table, growth=growth_note, machine=machine_line(record)))
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")


REPORT = """# Long songs: peak memory and time of separating into stem files

Command: `python benchmarks/long_audio_memory.py` (one run per row, each a fresh Python
process on one CPU thread that loads the model and writes one 16-bit WAV file per stem,
as `sksep separate` does; 60 s blocks). Songs: the 30 s MUSDB excerpt "AM Contra - Heart
Peripheral" tiled to length, stereo 44.1 kHz 16-bit WAV. Peak RSS: the process's
`ru_maxrss`. Model: {model}.

- **streamed**: `sksep.separation.separate_to_files`: the song is read block by block
  and each finished stretch of every stem is written at once, to a float WAV staging
  file that is encoded to the stem's final encoding (chosen from its peak) at the end.
- **in memory**: what `sksep separate` ran before: `separate_file` (whole song decoded,
  stems held whole, the network run in the same 60 s blocks), then `save_audio` per stem.

{table}

"song as float32" is the size of the song itself decoded to float32 (stereo, 44.1 kHz).

Growth of peak memory with song length (from the first and from the second-longest song
of at least one minute to the longest):

{growth}

Machine: {machine}; the machine is shared with other jobs (trainings ran on its two
cores during the run): absolute times are noisy, compare rows of one run only.

## Before (previous run of this benchmark, `sksep separate` in memory)

Each row a fresh `python -m sksep separate SONG --block-seconds S --quiet` process on one
CPU thread; stand-in model of the shipped architecture (chimera-mir1k was not installed
then). Machine: Linux-6.18.44-fc-v669-x86_64-with-glibc2.36, 2 CPUs shared with other
jobs (load average at the end: [8.11, 7.91, 6.34]).

| song | mode | peak RSS (MiB) | wall (s) | wall / song length | song as float32 (MiB) |
|---|---|---:|---:|---:|---:|
| 0 min 10 s | blocks (60 s) | 673 | 17.3 | 1.73 | 3 |
| 1 min 00 s | blocks (60 s) | 797 | 21.4 | 0.36 | 20 |
| 1 min 00 s | whole clip | 785 | 33.4 | 0.56 | 20 |
| 5 min 00 s | blocks (60 s) | 1085 | 91.7 | 0.31 | 101 |
| 5 min 00 s | whole clip | 1520 | 59.6 | 0.20 | 101 |
| 10 min 00 s | blocks (60 s) | 1457 | 87.3 | 0.15 | 202 |

Peak memory with blocks grew by 74 MiB per minute of song between 5 and 10 minutes,
3.7 times the 20 MiB of one minute of the song as float32.

## Reading it

- The 10 s row is the fixed cost: Python, torch, librosa and the model.
- In memory, what grows with the song is the audio itself at the file's rate: the
  decoded input (n_channels x n_samples float32), the stems (n_sources x n_channels x
  n_samples float32) and one stem's copy while it is written.
- Streamed, only about two blocks of the song, one block's spectra and masks, and the
  stems' overlap with the next block are held: peak memory is that of one 60 s block
  whatever the song's length (smaller blocks, `block_seconds`, lower it further). A
  one-minute song is a single block; from the second block on, what the first block
  left cached (e.g. STFT window sums, allocator arenas) adds a fixed amount, after which
  peak memory no longer moves. The stems are staged on disk as float WAV files (twice
  the size of 16-bit stems) until they are complete.
- The wall times of the two modes are close: the extra pass that encodes each staged
  float stem into 16 bits is cheap next to the network.
"""


if __name__ == "__main__":
    main()
