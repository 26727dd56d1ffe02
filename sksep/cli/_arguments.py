"""Every command's options and help: what ``sksep --help`` and ``sksep COMMAND --help``
read.

This module, and the modules it imports, need only the standard library and
:mod:`sksep._constants`: the command's own module (``_separate.py``, ``_train.py``,
``_evaluate.py``, ``_list_models.py``), which imports the library, is imported by
:func:`sksep.cli.main` only when that command runs. Each subparser records it as
``command_module``.
"""

import argparse
from pathlib import Path

from .._constants import DEFAULT_MODEL, HEADS, HIGH_BAND_RULES, MIR1K_MODEL
from . import _estimators
from ._exit import EXIT_CODES_HELP
from ._options import (duration, formatter, fraction, job_count, name_list, paragraphs,
                       positive_float, positive_int, source_list, unit_interval,
                       wiener_iterations)

#: Longest stretch of a song drawn by ``--plot``, in seconds.
PLOT_SECONDS = 30.0

#: ``--bit-depth`` choices and the soundfile subtype of each.
BIT_DEPTHS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}

#: ``--format`` choices: the stems' file extensions.
OUTPUT_FORMATS = ("wav", "flac", "mp3")

#: ``--head`` help, shared by ``separate`` and ``evaluate``.
HEAD_HELP = ("Chimera models: predict with the mask-inference head (mi, soft masks) or "
             "deep-clustering head (dc, K-means binary masks); default: the model's own "
             "setting. The dc head names its clusters only for 2-source models: for more "
             "sources `separate` refuses it and `evaluate` matches each clip's clusters to "
             "the true stems (permutation-invariant scores)")


def prediction_options():
    """A parent parser with ``--head``, ``--device`` and ``--int8``."""
    prediction = argparse.ArgumentParser(add_help=False)
    prediction.add_argument("--head", choices=HEADS, default=None, help=HEAD_HELP)
    prediction.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where the network runs (default cpu); cuda needs a GPU "
                                 "and a CUDA build of torch, else exit code 2")
    prediction.add_argument("--int8", action="store_true",
                            help="run the model's LSTM and linear layers in int8 on the CPU "
                                 "(dynamic quantisation: about 0.7x the network's time for "
                                 "chimera-mir1k, its scores unchanged to 0.01 dB; not with "
                                 "--device cuda)")
    return prediction


#: Sample rate the ``train`` command resamples to (the papers' 16 kHz).
TRAIN_SAMPLE_RATE = 16000

_DESCRIPTION = """\
Train a separator on a folder of stems and save it as a model file.

STEMS_DIR is MIR-1K style (stereo <singer>_<song>_<clip>.wav, accompaniment left, vocals \
right, optionally in Wavfile/ with a split.csv) or MUSDB style: song folders \
(<song>/{{mixture,vocals,drums,bass,other}}.{{wav,flac}}) or MUSDB18's own <song>.stem.mp4 \
files (five AAC streams: mixture, drums, bass, other, vocals; decoded by ffmpeg; pass \
musdb18/train, not musdb18). Audio is down-mixed to mono and resampled to 16 kHz. A \
validation part of the clips (--validation-fraction) picks the epoch whose weights are kept.

The defaults are small, so that training finishes on a laptop CPU: {epochs} epochs \
(early stopping after 10 without improvement), a 2 x 128 BLSTM for the recurrent \
separators instead of the papers' 4 x 500, 8 channels and 256 hidden units for conv. \
Measured on MIR-1K's 175 training clips (1416 s of audio) on an idle 2-core CPU, one \
epoch takes {costs}: {epochs} epochs in 10 to 30 minutes. The papers' sizes \
(--paper-defaults: the estimator's own defaults, 100 epochs) take 3 min an epoch for \
chimera, and a busy machine is several times slower: before the first epoch ends, an \
estimate for your machine and data is printed, and --time-budget bounds the whole run.

Any constructor parameter of the estimator can be set with --param NAME=VALUE (repeat it); \
VALUE is read as a Python literal (64, 1e-3, None, True, (50, 100)), other text as a \
string. The estimator checks the values; one it refuses ends with exit code 2.

On a terminal, training shows skorch's progress bar and epoch table; in a log or CI, \
one plain line per epoch. Ctrl-C stops training: the weights of the best completed \
epoch are kept and written to MODEL (exit code 130; nothing is written if no epoch \
was complete)."""

#: One epoch on MIR-1K's 175 training clips with the default settings, on an idle 2-core
#: CPU (2 torch threads), as ``sksep train`` printed it (validation included).
MEASURED_EPOCHS = {"chimera": "27 s", "dc": "26 s", "class-conditional": "28 s",
                   "conv": "90 s", "unet": "88 s"}


def add_separate(commands, parents):
    """The ``separate`` subcommand and its options."""
    separate = commands.add_parser(
        "separate", parents=parents, formatter_class=formatter,
        help="separate songs into stems (vocals, accompaniment)",
        description=paragraphs(
            "Separate songs into one audio file per source.\n\n"
            "Reads WAV, FLAC, OGG and MP3 (M4A/MP4/AAC through ffmpeg); a folder stands for "
            "every audio file in it (not in its sub-folders). The network hears the mid "
            "signal of each song once, at the model's rate (16 kHz for the shipped model), "
            "in overlapping blocks (memory stays bounded for long songs); its masks are "
            "applied to every channel at the song's own rate, so the stems are full-band, "
            "keep the song's sample rate, channel count, length and stereo image, and sum to "
            "the song. Writes OUT/<song>/<source>.wav (or .flac, .mp3; a MUSDB18 "
            "<song>.stem.mp4 file, whose first stream is the mixture, to OUT/<song>/) and "
            "never overwrites an existing file unless --overwrite is given; every target "
            "of every song is checked before anything is written.\n\n"
            "The deep-clustering head (--head dc) names its K-means clusters only for "
            "2-source models (the low-frequency rule, or the mask-inference head): a "
            "model with more sources is refused with it, as its stems would be written "
            "under the wrong names.\n\n"
            "Query by example: with --query EXAMPLE (an isolated recording of the sound "
            "to extract, e.g. a singer's voice alone) and a model that separates by "
            "example (class-conditional-mir1k; see `sksep models`), the stems are "
            "OUT/<song>/query.wav, what in the song sounds like the example, and "
            "rest.wav, everything else; they sum to the song. Other models are refused "
            "with exit code 2; --stems, --format and the other options work as without "
            "it."),
        epilog="examples:\n  sksep separate song.mp3 other.flac --out stems --plot\n"
               "  sksep separate album/ --stems vocals --format flac --bit-depth 24\n"
               "  sksep separate album/ --jobs 4    # 4 songs at once, 1 thread each\n"
               "  sksep separate song.mp3 --query voice.wav --model class-conditional-mir1k"
               "\n                                    # separated/song/{query,rest}.wav\n\n"
               + EXIT_CODES_HELP)
    separate.add_argument("songs", nargs="+", metavar="SONG", type=Path,
                          help="audio files, or folders of audio files, to separate")
    separate.add_argument("--model", "-m", default=DEFAULT_MODEL, metavar="NAME_OR_PATH",
                          help=f"shipped model name (see `sksep models`) or model file "
                               f"(default: {DEFAULT_MODEL}, the shipped model best on real "
                               f"songs, measured on MUSDB songs it did not train on; "
                               f"{MIR1K_MODEL} is best on MIR-1K's karaoke clips)")
    separate.add_argument("--out", "-o", type=Path, default=Path("separated"), metavar="DIR",
                          help="output folder (default: ./separated)")
    separate.add_argument("--stems", type=name_list, default=None, metavar="A[,B]",
                          help="write only these stems, e.g. vocals (default: every source "
                               "of the model)")
    separate.add_argument("--format", choices=OUTPUT_FORMATS, default="wav",
                          help="stem file format (default wav); mp3 where the installed "
                               "libsndfile writes it (1.1.0 or newer), else exit code 5")
    separate.add_argument("--bit-depth", choices=tuple(BIT_DEPTHS), default=None,
                          help="wav: 16, 24 or float; flac: 16 or 24 (default: the song's, "
                               "16 for compressed songs and 24 for float songs in FLAC; a "
                               "WAV stem peaking above full scale is float, not clipped)")
    separate.add_argument("--high-band", choices=HIGH_BAND_RULES, default="top",
                          help="masks above the model's Nyquist frequency: the top band's "
                               "(top, default) or the mean of its top octave (octave)")
    separate.add_argument("--wiener-iterations", type=wiener_iterations, default=0, metavar="N",
                          help="EM iterations (0-10) of a multichannel Wiener post-filter "
                               "(as open-unmix); default 0: none. Measured on the MUSDB "
                               "excerpts it lowers the shipped model's SI-SDRi: see "
                               "benchmarks/RESULTS.md")
    separate.add_argument("--jobs", "-j", type=job_count, default=1, metavar="N",
                          help="separate up to N songs at once, each in a process of its "
                               "own using one thread (default 1: one song at a time, "
                               "with every thread); each process loads the model once, "
                               "which takes a few seconds. With one song, its blocks "
                               "(--block-seconds) are separated N at a time, in threads")
    separate.add_argument("--query", type=Path, default=None, metavar="EXAMPLE",
                          help="separate by example: write query.wav (what sounds like the "
                               "audio file EXAMPLE) and rest.wav (everything else); needs a "
                               "model that separates by example, such as "
                               "class-conditional-mir1k, else exit code 2")
    separate.add_argument("--overwrite", action="store_true",
                          help="replace existing output files")
    separate.add_argument("--plot", action="store_true",
                          help="also write OUT/<song>/separation.png: the mixture spectrogram "
                               f"and the masks of the first {PLOT_SECONDS:.0f} s (needs "
                               f"matplotlib: pip install 'sksep[plots]')")
    separate.add_argument("--block-seconds", type=positive_float, default=60.0, metavar="S",
                          help="separate in blocks of S seconds, cross-faded over "
                               "min(4, S/2) s; smaller blocks use less memory (default: 60)")
    separate.set_defaults(command_module="_separate")


def add_train(commands, parents):
    """The ``train`` subcommand and its options."""
    costs = ", ".join(f"{cost} ({name})" for name, cost in MEASURED_EPOCHS.items())
    train = commands.add_parser(
        "train", parents=parents, formatter_class=formatter,
        help="train a separator on a folder of stems",
        description=paragraphs(_DESCRIPTION.format(epochs=_estimators.DEFAULT_EPOCHS,
                                                   costs=costs)),
        epilog="estimators (--estimator):\n" + _estimators.estimators_help() + "\n\n"
               "examples:\n"
               "  sksep train ../shared/data/MIR-1K --out chimera.sksep --time-budget 30m\n"
               "  sksep train ../shared/data/MIR-1K --out conv.sksep --estimator conv "
               "--param objective=nll --param context=3\n"
               "  sksep train ../shared/data/MUSDB18-excerpts --out four.sksep "
               "--sources vocals,drums,bass,other\n\n" + EXIT_CODES_HELP)
    train.add_argument("stems_dir", type=Path, metavar="STEMS_DIR",
                       help="folder of stems, or of MUSDB18 .stem.mp4 files")
    train.add_argument("--out", "-o", type=Path, required=True, metavar="MODEL",
                       help="model file to write (e.g. my-model.sksep)")
    train.add_argument("--estimator", "-e", choices=tuple(_estimators.ESTIMATORS),
                       default="chimera", help="the separator to train (default: chimera); "
                                               "see the list below")
    train.add_argument("--param", "-p", type=_estimators.parameter, action="append",
                       metavar="NAME=VALUE",
                       help="set any constructor parameter of the estimator, e.g. "
                            "hidden_size=256 (repeat for several)")
    train.add_argument("--paper-defaults", action="store_true",
                       help="start from the estimator's own defaults (the papers' sizes and "
                            "100 epochs: hours on a CPU) instead of the small ones")
    train.add_argument("--time-budget", type=duration, default=None, metavar="DURATION",
                       help="stop after this long (e.g. 90s, 20m, 1.5h) and keep the best "
                            "epoch so far; the first epoch always completes")
    train.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                       help=f"maximum training epochs (default {_estimators.DEFAULT_EPOCHS}; "
                            f"stops early after `patience` epochs without improvement)")
    train.add_argument("--hidden-size", type=positive_int, default=None, metavar="H",
                       help="chimera, dc, class-conditional: BLSTM units per direction "
                            "(default 128)")
    train.add_argument("--layers", type=positive_int, default=None, metavar="L",
                       help="chimera, dc, class-conditional: BLSTM layers (default 2)")
    train.add_argument("--embedding-dim", type=positive_int, default=None, metavar="D",
                       help="chimera, dc, class-conditional: embedding dimension D "
                            "(default 20)")
    train.add_argument("--alpha", type=unit_interval, default=None, metavar="A",
                       help="chimera: weight of the deep-clustering loss, 0..1 (default 0.1)")
    train.add_argument("--segment-frames", type=positive_int, default=None, metavar="F",
                       help="training segment length in STFT frames (default: the "
                            "estimator's, 100 = 0.8 s for the recurrent separators)")
    train.add_argument("--sources", type=source_list, default=None, metavar="A,B",
                       help="MUSDB-style folders: stems to separate, in order (default "
                            "vocals,accompaniment; accompaniment = every stem but the vocals)")
    train.add_argument("--split", choices=("train", "test", "all"), default=None,
                       help="MIR-1K-style folders: clips to train on (default train: the "
                            "split.csv train clips, or singers abjones and amy)")
    train.add_argument("--max-clips", type=positive_int, default=None, metavar="N",
                       help="use only the first N clips (songs), for quick experiments")
    train.add_argument("--validation-fraction", type=fraction, default=None, metavar="V",
                       help="share of clips held out to pick the best epoch (default: the "
                            "estimator's, 0.1 or 0.2)")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default 1e-3)")
    train.add_argument("--optimizer", choices=("rmsprop", "adam"), default=None,
                       help="torch optimizer (default: the estimator's, rmsprop as Luo et "
                            "al.; adam for conv)")
    train.add_argument("--batch-size", type=positive_int, default=None, metavar="B",
                       help="segments per batch (default: the estimator's)")
    train.add_argument("--device", default=None,
                       help="torch device, e.g. cuda (default cpu); a device this machine "
                            "does not have is exit code 2")
    train.add_argument("--random-state", type=int, default=None, metavar="SEED",
                       help="seed of the split, weights and batch order (default 0)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    train.set_defaults(command_module="_train")


def add_evaluate(commands, parents):
    """The ``evaluate`` subcommand and its options."""
    evaluate = commands.add_parser(
        "evaluate", parents=parents, formatter_class=formatter,
        help="score a model on a folder of stems",
        description=paragraphs(
            "Separate every clip of a folder of stems and score the estimates.\n\n"
            "Prints per clip and source the SI-SDR improvement (SI-SDRi) and BSS Eval "
            "SDR/SIR/SAR/NSDR, then per source the length-weighted SI-SDRi and the MIREX "
            "globals GNSDR/GSIR/GSAR. All in dB, higher is better. Audio is read at the "
            "model's sample rate, mono.\n\n"
            "DATA_DIR is MIR-1K style or MUSDB style: song folders of stem files, or "
            "MUSDB18's own <song>.stem.mp4 files (decoded by ffmpeg; AAC is lossy, so "
            "the scores differ a little from those on the uncompressed MUSDB18-HQ).\n\n"
            "A clip whose mixture is not the sum of its stems (more than 1 % of its "
            "energy differs: another song's mixture.wav?) is warned about on stderr and "
            "marked in the note column of the table, CSV and JSON; so is every blank "
            "score, with its reason (a silent reference stem leaves SI-SDRi and BSS Eval "
            "undefined).\n\n"
            "The deep-clustering head (--head dc) names its K-means clusters only for "
            "2-source models: for more sources, or a model that leaves them unnamed, "
            "each clip's clusters are matched to the true stems that fit them best "
            "(permutation-invariant scores, as deep-clustering papers report them)."),
        epilog="example:\n  sksep evaluate --model chimera-mir1k ../shared/data/MIR-1K "
               "--out-json scores.json\n\n" + EXIT_CODES_HELP)
    evaluate.add_argument("data_dir", type=Path, metavar="DATA_DIR",
                          help="folder of stems, MIR-1K or MUSDB style, or of MUSDB18 "
                               ".stem.mp4 files (see `sksep train -h`)")
    evaluate.add_argument("--model", "-m", required=True, metavar="NAME_OR_PATH",
                          help="shipped model name or model file")
    evaluate.add_argument("--split", choices=("train", "test", "all"), default=None,
                          help="MIR-1K-style folders: clips to score (default test)")
    evaluate.add_argument("--max-clips", type=positive_int, default=None, metavar="N",
                          help="score only the first N clips (songs)")
    evaluate.add_argument("--no-bss", action="store_true",
                          help="skip BSS Eval (SDR/SIR/SAR, GNSDR...): only SI-SDRi, much faster")
    evaluate.add_argument("--out-csv", type=Path, default=None, metavar="FILE",
                          help="write the per-clip scores as CSV")
    evaluate.add_argument("--out-json", type=Path, default=None, metavar="FILE",
                          help="write per-clip and overall scores as JSON")
    evaluate.add_argument("--block-seconds", type=positive_float, default=60.0, metavar="S",
                          help="separate long clips in blocks of S seconds (default: 60)")
    evaluate.add_argument("--overwrite", action="store_true",
                          help="replace existing CSV/JSON files")
    evaluate.set_defaults(command_module="_evaluate")


def add_models(commands, parents):
    """The ``models`` subcommand and its options."""
    models = commands.add_parser(
        "models", parents=parents, formatter_class=formatter,
        help="list the trained models shipped with sksep",
        description=paragraphs(
            "List the trained models shipped with sksep, one line each: estimator, "
            "sources, sample rate, size, what it is for (MIR-1K-style karaoke clips or "
            "real songs; query by example with `sksep separate --query`) and its vocals "
            "SI-SDR improvement on the MIR-1K test singers.\n\n"
            "With NAME, print that model's whole record: description, training, and "
            "every score measured (each prediction head and voice-to-music ratio). A "
            "NAME that is not a shipped model is exit code 2."),
        epilog="examples:\n  sksep models\n  sksep models chimera-mir1k\n"
               "  sksep models chimera-mir1k --json\n\n" + EXIT_CODES_HELP)
    models.add_argument("name", nargs="?", default=None, metavar="NAME",
                        help="a shipped model: print its whole record")
    models.add_argument("--json", action="store_true",
                        help="print the model registry (or NAME's entry) as JSON")
    models.set_defaults(command_module="_list_models")
