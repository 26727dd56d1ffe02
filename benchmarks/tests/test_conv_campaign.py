"""``benchmarks/conv_campaign.py``: the configurations build valid separators, runs resume
from their checkpoint in chunks outside the work tree, and the report compares curves at
equal CPU time."""

import json

import pytest


@pytest.fixture
def campaign(benchmark_module):
    yield benchmark_module("conv_campaign")
    # make_estimator builds bfloat16 accelerators, whose state accelerate keeps globally:
    # later Accelerator() calls in this process would inherit bfloat16.
    import accelerate
    accelerate.state.AcceleratorState._reset_state(True)


def test_every_configuration_is_a_valid_separator(campaign):
    for name in campaign.CONFIGS:
        estimator = campaign.make_estimator(name, seed=0)
        estimator._check_params()  # raises on a bad setting
        assert estimator.patience == campaign.PATIENCE


def test_validation_songs_are_the_shipped_models(campaign, benchmark_module):
    assert campaign.VALIDATION_SONGS == ("amy_2", "amy_6")
    (train_X, _), (valid_X, _) = campaign.load_split(8000)
    assert len(valid_X) == 18 and len(train_X) == 157


def _curve(name, points, seed=0):
    return {"name": name, "seed": seed, "description": name, "parameters": 1000,
            "chunks": [{"cpu_seconds": 60.0 * m, "epochs": e, "best_epoch": e,
                        "best_valid_loss": 1.0 / e, "vocals_si_sdri": v,
                        "accompaniment_si_sdri": v} for m, e, v in points]}


def test_report_reads_each_curve_at_equal_cpu_time(campaign, tmp_path):
    root, out = tmp_path / "cache", tmp_path / "results"
    for name, points in {"slow": [(10, 1, 3.0), (20, 2, 5.0), (30, 3, 6.0)],
                         "fast": [(9, 4, 4.0), (20.3, 8, 7.0), (25, 9, 8.0)]}.items():
        (root / f"{name}-seed0").mkdir(parents=True)
        (root / f"{name}-seed0" / "curve.json").write_text(json.dumps(_curve(name, points)))
    references = {"chimera-mir1k": {"vocals": {"SI-SDRi": 9.17},
                                    "accompaniment": {"SI-SDRi": 9.17}}}
    campaign.report(root, at_cpu_minutes=20, out=out, references=references)
    table = (out / "conv_campaign.md").read_text()
    # at 20 CPU minutes: slow's second point; fast's 20.3-minute point is within 2 %
    assert "| slow-seed0 | slow | 0.00 M | 20.0 | 2 | 5.00 | 5.00 |" in table
    assert "| fast-seed0 | fast | 0.00 M | 20.3 | 8 | 7.00 | 7.00 |" in table
    assert "| chimera-mir1k | 9.17 | 9.17 |" in table
    assert sorted(p.name for p in (out / "conv_campaign").iterdir()) == [
        "fast-seed0.json", "slow-seed0.json"]
    assert campaign._at(_curve("x", [(30, 1, 1.0)]), 20) is None
    # a run that stopped short of the budget is not compared there
    assert campaign._at(_curve("x", [(10, 1, 1.0)]), 20) is None
    assert "## At equal CPU time: 40 CPU minutes" in table
    assert table.split("## At equal CPU time: 40")[1].count("-seed0 |") == 0


def test_report_gives_the_spread_over_seeds_and_a_figure(campaign, tmp_path):
    root, out = tmp_path / "cache", tmp_path / "results"
    for seed, vocals in ((0, 9.0), (1, 8.0)):
        (root / f"hg-seed{seed}").mkdir(parents=True)
        (root / f"hg-seed{seed}" / "curve.json").write_text(
            json.dumps(_curve("hg", [(16, 5, vocals), (32, 10, vocals + 1)], seed=seed)))
    (root / "one-seed0").mkdir()
    (root / "one-seed0" / "curve.json").write_text(json.dumps(_curve("one", [(16, 5, 7.0)])))
    references = {"chimera-mir1k": {"vocals": {"SI-SDRi": 9.17},
                                    "accompaniment": {"SI-SDRi": 9.17}}}
    campaign.report(root, at_cpu_minutes=16, out=out, references=references)
    table = (out / "conv_campaign.md").read_text()
    # mean of 9.0 and 8.0, half their range; a configuration of one seed has no spread
    assert "| hg | 0, 1 | 8.50 ± 0.50 |" in table and "| hg | 0, 1 | 9.50 ± 0.50 |" in table
    assert "| one | 0 |" not in table
    pytest.importorskip("matplotlib")
    assert (out / "conv_campaign.png").read_bytes()[:4] == b"\x89PNG"
    assert "(conv_campaign.png)" in table


def _run_folder(tmp_path, vocals):
    folder = tmp_path / "hg64-8k-seed0"
    folder.mkdir()
    (folder / "curve.json").write_text(json.dumps(_curve("hg64-8k", [(15, 5, vocals)])))
    (folder / "model.sksep").write_bytes(b"weights")
    return folder


def test_snapshot_copies_a_consistent_pair(campaign, tmp_path):
    folder = _run_folder(tmp_path, 9.5)
    target = campaign.snapshot(folder)
    assert target == folder / "snapshot-1"
    assert (target / "model.sksep").read_bytes() == b"weights"
    copied = json.loads((target / "curve.json").read_text())
    # the run's curve, naming the chunk its model is from (the latest)
    assert copied.pop("snapshot_of") == 15 * 60.0
    assert copied == json.loads((folder / "curve.json").read_text())


def test_keep_best_keeps_the_chunk_best_on_validation(campaign, tmp_path):
    folder = _run_folder(tmp_path, 9.5)
    curve = json.loads((folder / "curve.json").read_text())
    assert campaign.keep_best(folder, curve) and curve["best_chunk"] == 0
    for vocals, weights, kept in ((9.9, b"second", True), (8.5, b"third", False)):
        curve["chunks"].append(dict(curve["chunks"][-1], vocals_si_sdri=vocals,
                                    cpu_seconds=curve["chunks"][-1]["cpu_seconds"] + 60))
        (folder / "model.sksep").write_bytes(weights)
        assert campaign.keep_best(folder, curve) is kept
    # the third chunk (8.5 dB) is the latest; the second (9.9 dB) stays the best
    assert curve["best_chunk"] == 1 and (folder / "best.sksep").read_bytes() == b"second"
    assert campaign.best_point(curve)["vocals_si_sdri"] == 9.9
    assert not (folder / "best.sksep.partial").exists()
    (folder / "curve.json").write_text(json.dumps(curve))
    target = campaign.snapshot(folder, "best.sksep")
    assert (target / "model.sksep").read_bytes() == b"second"
    copied = json.loads((target / "curve.json").read_text())
    assert campaign.snapshot_point(copied) == curve["chunks"][1]
    # a curve from before best.sksep: its latest chunk
    del curve["best_chunk"]
    assert campaign.best_point(curve) == curve["chunks"][-1]


def test_high_band_scores_tabulates_each_rule(campaign, tmp_path, monkeypatch):
    import sksep

    calls = []

    def fake_score(model, X, Y, *, bss=False, high_band="top", sample_rate=16000):
        calls.append((model, sample_rate, high_band))
        value = {8000: 10.0, 16000: {"top": 7.5, "octave": 9.5}}[sample_rate]
        value = value if sample_rate == 8000 else value[high_band]
        return {"vocals": {"SI-SDRi": value}, "accompaniment": {"SI-SDRi": value - 1}}

    monkeypatch.setattr(campaign, "load_split", lambda rate: (None, ([rate], [rate])))
    monkeypatch.setattr(campaign, "score_at_16k", fake_score)
    monkeypatch.setattr(sksep, "load", lambda path: f"model:{path}")
    rows = campaign.high_band_scores({"late": "late.sksep"}, out=tmp_path)
    # the model's own rate, then 16 kHz under every rule of sksep.separate
    assert calls == [("model:late.sksep", 8000, "top"), ("model:late.sksep", 16000, "top"),
                     ("model:late.sksep", 16000, "octave")]
    assert list(rows["late"]) == ["8 kHz", "16 kHz, top", "16 kHz, octave"]
    table = (tmp_path / "conv_campaign_high_band.md").read_text()
    assert "| late | 10.00 / 9.00 | 7.50 / 6.50 | 9.50 / 8.50 |" in table
