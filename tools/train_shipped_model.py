"""Reproduce the shipped model ``chimera-mir1k``: train, score, save, register.

Trains a Chimera network (alpha = 0.1, D = 20, mMSA, 2 x 300 BLSTM, 100-frame
segments, RMSprop) on the MIR-1K training singers (abjones, amy) within a wall-clock
budget, keeping the weights of the epoch with the lowest validation loss. Then scores
it on the MIR-1K test singers (annar, heycat, tammy), saves it with float16 weights to
``sksep/models/chimera-mir1k.sksep`` and writes its entry (training budget, epochs,
scores, this command) into ``sksep/models/registry.json``.

With ``--remixes N`` two whole training songs are held out for validation and the
other songs' clips are joined by ``N`` 4-second remixes of their stems
(``make_remix``: the vocals of one song over the accompaniment of another, 0 dB);
without it 10 % of the clips, drawn at random, validate.

The shipped model was trained with::

    python tools/train_shipped_model.py --budget-minutes 55 --remixes 300 \
        --dropout 0.3 --optimizer adam --overwrite

on one CPU thread (``torch.set_num_threads(1)``; 23 epochs, about 145 s each). The same
command with RMSprop (``--optimizer rmsprop --budget-minutes 60``) scored 0.28 dB lower
(vocal GNSDR 7.57 against 7.85 dB; one run each)."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _release import MODELS, register_model  # first: it puts benchmarks/ on sys.path
from _common import MIR1K, machine
from sksep import ChimeraSeparator, MelFeatures
from sksep.callbacks import TimeBudget
from sksep.datasets import hold_out_songs, load_mir1k, make_remix
from sksep.metrics import separation_report

NAME = "chimera-mir1k"


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _remixed(train, n_remixes, valid_fraction=0.1, seed=0, snr_db=0.0):
    """Training clips plus remixes, and whole held-out songs for validation.

    A tenth of the training songs (all their clips) validate. The vocals and the
    accompaniments of each remaining song are concatenated into one track each, and
    ``make_remix`` cuts ``n_remixes`` 4-second clips from random pairs of them
    (0 dB, silence removed), so no validation song is heard in training.
    """
    songs = np.unique(train.groups)
    held_out = hold_out_songs(train.groups, fraction=valid_fraction, random_state=seed)[2]
    is_valid = np.isin(train.groups, held_out)
    X = [x for x, v in zip(train.X, is_valid) if not v]
    Y = [y for y, v in zip(train.Y, is_valid) if not v]
    by_song = {}
    for y, g in zip(Y, [g for g, v in zip(train.groups, is_valid) if not v]):
        by_song.setdefault(g, []).append(y)
    vocals = [np.concatenate([y[0] for y in ys]) for ys in by_song.values()]
    accompaniments = [np.concatenate([y[1] for y in ys]) for ys in by_song.values()]
    X_remix, Y_remix = make_remix(vocals, accompaniments, n_clips=n_remixes, clip_seconds=4.0,
                                  snr_db=snr_db, random_state=seed)
    X, Y = X + list(X_remix), Y + list(Y_remix)
    validation = ([x for x, v in zip(train.X, is_valid) if v],
                  [y for y, v in zip(train.Y, is_valid) if v])
    note = (f"{len(X) - n_remixes} clips of {len(songs) - len(held_out)} songs plus "
            f"{n_remixes} 4-s remixes of them (make_remix, {_snr_text(snr_db)}); validation on "
            f"{len(validation[0])} clips of {len(held_out)} held-out songs")
    print(note, flush=True)
    return X, Y, validation, note


def _musdb_material(songs, n_remixes, *, root=None, clip_seconds=4.0, seed=0):
    """Extra training clips from MUSDB songs: vocals against the rest, 16 kHz mono.

    Each channel of each song in ``songs`` (folder names under ``root``, default the
    MUSDB excerpts) is a track of its own, resampled to 16 kHz; the vocals are one
    source, drums + bass + other the accompaniment. Every track is cut into
    ``clip_seconds`` clips at its own voice-to-music ratio, and ``n_remixes`` more clips
    of the same length mix the vocals of one track with the accompaniment of another
    (``make_remix``, 0 dB). Returns ``X, Y, note``; the songs never validate.
    """
    from _common import MUSDB_EXCERPTS
    from sksep.datasets import load_musdb

    data = load_musdb(MUSDB_EXCERPTS if root is None else root,
                      sources=("vocals", "accompaniment"), sample_rate=16000, mono=False)
    unknown = sorted(set(songs) - set(data.names))
    if unknown:
        raise SystemExit(f"--musdb-songs: no song {unknown} in {root or MUSDB_EXCERPTS}; "
                         f"expected some of {list(data.names)}")
    tracks = [y[:, channel] for y, name in zip(data.Y, data.names) if name in songs
              for channel in range(y.shape[1])]
    length = round(clip_seconds * 16000)
    Y = [track[:, start:start + length] for track in tracks
         for start in range(0, track.shape[1] - length + 1, length)]
    X_remix, Y_remix = make_remix([t[0] for t in tracks], [t[1] for t in tracks],
                                  n_clips=n_remixes, clip_seconds=clip_seconds,
                                  random_state=seed) if n_remixes else ([], [])
    Y = Y + list(Y_remix)
    X = [y.sum(axis=0) for y in Y]
    note = (f"plus {len(Y) - len(Y_remix)} {clip_seconds:g}-s clips of the MUSDB excerpts "
            f"{' + '.join(sorted(songs))} (each channel a track, vocals against the rest) "
            f"and {len(Y_remix)} 4-s remixes of them")
    print(note, flush=True)
    return X, Y, note


def _snr_text(snr_db):
    if isinstance(snr_db, tuple):
        return f"vocals {snr_db[0]:g} to {snr_db[1]:+g} dB"
    return f"{snr_db:g} dB"


def _snr_argument(text):
    """``"0"`` -> 0.0; ``"-5,5"`` -> (-5.0, 5.0)."""
    values = [float(v) for v in text.split(",")]
    if len(values) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected a number or low,high; got {text!r}")
    return values[0] if len(values) == 1 else tuple(values)


def _n_mels_argument(text):
    """An integer number of mel bands, or ``linear`` for the STFT bins (``n_mels=None``)."""
    if text == "linear":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'linear'; got {text!r}")


#: How the registry's description names each ``mi_objective``.
OBJECTIVE_NAMES = {"mmsa": "mMSA", "msa": "MSA", "psa": "truncated PSA"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MIR1K)
    parser.add_argument("--budget-minutes", type=float, default=55.0)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--hidden-size", type=int, default=300)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--optimizer", choices=("rmsprop", "adam"), default="rmsprop")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--remixes", type=int, default=0,
                        help="extra 4-second training clips mixing the vocals and "
                             "accompaniment of different training songs (make_remix); "
                             "validation is then on held-out whole songs")
    parser.add_argument("--snr-db", type=_snr_argument, default=0.0,
                        help="vocals-to-accompaniment ratio of the remixes in dB, or a "
                             "range low,high drawn per clip (e.g. -5,5)")
    parser.add_argument("--n-mels", type=_n_mels_argument, default=150,
                        help="mel bands of the features and masks, or 'linear' for the "
                             "257 STFT bins")
    parser.add_argument("--mi-objective", choices=("mmsa", "msa", "psa"), default="mmsa",
                        help="loss of the mask-inference head (ChimeraSeparator "
                             "mi_objective): psa is the truncated phase-sensitive target")
    parser.add_argument("--mask-grid", choices=("features", "stft"), default="features",
                        help="grid of the mask-inference head's masks (ChimeraSeparator "
                             "mask_grid): stft predicts one mask per STFT bin")
    parser.add_argument("--musdb-songs", nargs="+", default=(), metavar="SONG",
                        help="also train on these MUSDB excerpts (folder names): a second "
                             "model, never the MIR-1K figure (issue 15's data lever)")
    parser.add_argument("--musdb-remixes", type=int, default=100,
                        help="remixes of the --musdb-songs' stems (4 s, 0 dB)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the network")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's)")
    parser.add_argument("--bf16", action="store_true",
                        help="mixed precision: bfloat16 compute under autocast, float32 "
                             "weights (an accelerate.Accelerator(cpu=True, "
                             "mixed_precision='bf16')); pays on CPUs with AVX512-BF16 / AMX, "
                             "slows those without")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="resumable checkpoint file: a rerun of the same command "
                             "continues from the last finished epoch")
    parser.add_argument("--name", default=NAME, help="model name (file and registry key)")
    parser.add_argument("--models-dir", type=Path, default=MODELS,
                        help="where the model file and registry.json go (default: the "
                             "package's; another folder keeps a candidate out of it)")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    accelerator = None
    if args.bf16:
        from accelerate import Accelerator

        accelerator = Accelerator(cpu=True, mixed_precision="bf16")
    train = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test")
    features = MelFeatures(n_mels=args.n_mels)
    model = ChimeraSeparator(alpha=0.1, embedding_dim=20, mi_objective=args.mi_objective,
                             mask_grid=args.mask_grid, features=features,
                             hidden_size=args.hidden_size, num_layers=args.layers,
                             dropout=args.dropout, optimizer=args.optimizer, lr=args.lr,
                             segment_frames=100,
                             max_epochs=args.max_epochs, patience=args.patience,
                             random_state=args.seed, verbose=1,
                             checkpoint=args.checkpoint, accelerator=accelerator,
                             callbacks=[TimeBudget(args.budget_minutes * 60)])
    start = time.perf_counter()
    if args.remixes:
        X, Y, validation, data_note = _remixed(train, args.remixes, snr_db=args.snr_db)
        if args.musdb_songs:
            X_musdb, Y_musdb, musdb_note = _musdb_material(args.musdb_songs,
                                                           args.musdb_remixes)
            X, Y, data_note = X + X_musdb, Y + Y_musdb, f"{data_note}; {musdb_note}"
        model.fit(X, Y, validation_data=validation)
    elif args.musdb_songs:
        raise SystemExit("--musdb-songs needs --remixes: the MUSDB songs join the remixed "
                         "training songs, and whole MIR-1K songs validate")
    else:
        data_note = "175 clips, 10 % held out for validation"
        model.fit(train.X, train.Y)
    train_seconds = time.perf_counter() - start
    model.source_names_ = tuple(train.source_names)
    print(f"trained {len(model.epoch_summary_)} epochs in {train_seconds:.0f} s, "
          f"kept epoch {model.best_epoch_}")

    args.models_dir.mkdir(parents=True, exist_ok=True)
    path = model.save(args.models_dir / f"{args.name}.sksep", overwrite=args.overwrite,
                      half=True)
    scores = {}
    if args.remixes:  # the held-out training songs: what recipes are chosen on
        scores["validation"] = separation_report(validation[1], model.predict(validation[0]),
                                                 validation[0], bss=False,
                                                 source_names=train.source_names)
        print("validation", json.dumps(scores["validation"]), flush=True)
    for head in ("mi", "dc"):  # the test singers: scored once, after training
        model.set_params(head=head)
        scores[head] = separation_report(test.Y, model.predict(test.X), test.X,
                                         source_names=test.source_names, n_jobs=2)
    model.set_params(head="mi")
    print(json.dumps(scores, indent=2))

    threads = _plural(torch.get_num_threads(), "CPU thread")
    registry_path = args.models_dir / "registry.json"
    grid = ("linear STFT grid" if args.n_mels is None else f"{args.n_mels} mel bands")
    if args.mask_grid == "stft" and args.n_mels is not None:
        grid += ", masks on the STFT bins"
    entry = {
        "file": path.name,
        "estimator": "ChimeraSeparator",
        "sources": list(train.source_names),
        "sample_rate": 16000,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "description": (f"Chimera network (alpha=0.1, D=20, "
                        f"{OBJECTIVE_NAMES[args.mi_objective]}, "
                        f"{args.layers} x "
                        f"{args.hidden_size} BLSTM, dropout {args.dropout:g}, "
                        f"{args.optimizer}, {grid}), vocals / accompaniment, 16 kHz mono, "
                        f"level-normalised input; "
                        f"predicts with the MI head"),
        "training": (f"MIR-1K training singers abjones + amy ({data_note}), "
                     f"{len(model.epoch_summary_)} epochs in "
                     f"{train_seconds / 60:.0f} min on {threads} "
                     f"({machine()['cpu']}), best validation epoch "
                     f"{model.best_epoch_} kept; tools/train_shipped_model.py "
                     f"{' '.join(argv if argv is not None else sys.argv[1:])}"),
        "seed": args.seed,
        "epochs": len(model.epoch_summary_),
        "train_seconds": round(train_seconds),
        "scores": {"test set": "MIR-1K test singers annar + heycat + tammy (90 clips)",
                   "mi": scores["mi"], "dc": scores["dc"]},
    }
    if "validation" in scores:
        entry["validation"] = scores["validation"]
    if args.musdb_songs:
        entry["musdb_songs"] = sorted(args.musdb_songs)
    register_model(args.name, entry, registry_path)
    print(f"wrote {path} ({entry['size_mb']} MB) and {registry_path}")


if __name__ == "__main__":
    main()
