"""Ship a model of ``benchmarks/conv_campaign.py``'s long training campaign (issue 30).

A run's best model on the validation songs (the chunk of highest vocals SI-SDRi, kept
as ``best.sksep``; the latest model for runs from before) ships, as ``--as`` (default
``hourglass-mir1k``), only if it beats ``chimera-mir1k`` on those songs; its test scores are measured once (the
campaign's record keeps them) and its MUSDB excerpt scores beside ``chimera-mir1k``'s,
then the model file (float16) and its entry go into ``sksep/models``.
``hourglass-mir1k`` was shipped with::

    python benchmarks/conv_campaign.py run hg64-8k --seed 0
    python tools/ship_conv_campaign.py hg64-8k --as hourglass-mir1k
"""

import argparse
import json
from pathlib import Path

# _release first: it puts benchmarks/ on sys.path.
from _release import MODELS, register_model
import conv_campaign as campaign
from _common import json_safe


def ship(name, seed, shipped_name, root=None, models=None):
    """Ship the run's best model (``conv_campaign.best_point``) as ``shipped_name`` if it
    beats ``chimera-mir1k`` on the validation songs: test scores (once), MUSDB excerpts at full band beside
    ``chimera-mir1k`` (neither heard them), the model file and its registry entry."""
    import sksep
    from shipped_recipe import musdb_song_scores

    run = Path(root or campaign.ROOT) / f"{name}-seed{seed}"
    # the chunk best on the validation songs (conv_campaign.best_point), else the latest
    folder = campaign.snapshot(run, "best.sksep" if (run / "best.sksep").exists()
                               else "model.sksep")
    curve = json.loads((folder / "curve.json").read_text())
    point = campaign.snapshot_point(curve)
    references = campaign.shipped_references(("chimera-mir1k",))
    reference = references["chimera-mir1k"]["vocals"]["SI-SDRi"]
    if point["vocals_si_sdri"] <= reference:
        raise SystemExit(f"not shipped: {point['vocals_si_sdri']:.2f} dB vocals SI-SDRi on "
                         f"the validation songs, chimera-mir1k {reference:.2f}")
    curve, scores = campaign.test_scores(folder)
    model = sksep.load(folder / "model.sksep")
    model.source_names_ = ("vocals", "accompaniment")
    models = Path(models or MODELS)
    path = model.save(models / f"{shipped_name}.sksep", overwrite=True, half=True)
    musdb = {"model": musdb_song_scores(path),
             "chimera-mir1k": musdb_song_scores(models / "chimera-mir1k.sksep")}
    budget = (f"{point['cpu_seconds'] / 60:.0f} CPU minutes on 1 thread (bfloat16 autocast, "
              f"channels-last; x86_64, 2 cores shared with other work), {point['epochs']} "
              f"epochs, best validation epoch {point['best_epoch']} kept, seed {seed}")
    entry = {
        "file": path.name, "estimator": type(model).__name__,
        "sources": list(model.source_names_), "sample_rate": int(model.grid_.sample_rate),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "description": (f"{curve['description']}; {curve['parameters'] / 1e6:.2f} M "
                        f"parameters, vocals / accompaniment, 8 kHz mono (full-band stems "
                        f"at the song's rate through sksep.separate); the quality "
                        f"campaign's snapshot (issue 30): its training goes on"),
        "training": (f"MIR-1K training singers abjones + amy minus the songs "
                     f"{' + '.join(campaign.VALIDATION_SONGS)} (157 clips, no remixes; the 18 "
                     f"clips of those songs validate), {budget}; benchmarks/conv_campaign.py run "
                     f"{name} --seed {seed}, then tools/ship_conv_campaign.py {name} "
                     f"--as {shipped_name}"),
        "seed": seed, "epochs": point["epochs"], "train_cpu_seconds": point["cpu_seconds"],
        "validation": {"vocals": {"SI-SDRi": point["vocals_si_sdri"]},
                       "accompaniment": {"SI-SDRi": point["accompaniment_si_sdri"]},
                       "songs": list(campaign.VALIDATION_SONGS),
                       "chimera-mir1k vocals SI-SDRi": reference},
        "scores": {"test set": "MIR-1K test singers annar + heycat + tammy (90 clips), "
                               "scored once, at 16 kHz through sksep.separate",
                   **{source: scores[source] for source in ("vocals", "accompaniment")}},
        "musdb_excerpts": {"note": "SI-SDRi (dB), full band 44.1 kHz stereo, vocals / "
                                   "accompaniment; neither model heard these songs",
                           **musdb},
    }
    register_model(shipped_name, json_safe(entry), models / "registry.json")
    print(json.dumps(json_safe(entry), indent=1))
    return entry


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(campaign.CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--as", dest="shipped_name", default="hourglass-mir1k")
    args = parser.parse_args(argv)
    ship(args.name, args.seed, args.shipped_name)


if __name__ == "__main__":
    main()
