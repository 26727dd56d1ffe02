"""``tools/ship_compare_methods.py``: a family's best kept model ships only when it beats its
paper's baseline on the validation songs."""

import pytest


@pytest.fixture
def ship(tool_module):
    return tool_module("ship_compare_methods")


def _run(row, seed, test, valid, head="-", epochs=4):
    history = [{"epoch": e + 1, "cpu": 60.0 * (e + 1), "valid_loss": 1.0 / (e + 1)}
               for e in range(epochs)]
    score = lambda value: {head: {"vocals": {"SI-SDRi": value}}}  # noqa: E731
    return {"row": row, "label": row, "seed": seed, "history": history,
            "test": score(test), "validation": score(valid)}


def _cc_results(better, worse):
    """Rows ``cc_tied_spherical`` / ``cc_sigmoid`` with per-seed validation scores."""
    return {"cc_tied_spherical": [_run("cc_tied_spherical", s, v, v)
                                  for s, v in enumerate(better)],
            "cc_sigmoid": [_run("cc_sigmoid", s, v, v) for s, v in enumerate(worse)]}


def _keep_models(folder, row, seeds):
    for seed in seeds:
        (folder / f"{row}-seed{seed}.sksep").write_bytes(b"model")


def test_ship_takes_the_best_validation_seed_whose_model_was_kept(ship, tmp_path):
    results = _cc_results([6.0, 6.3, 6.9], [5.0, 5.1, 5.0])
    _keep_models(tmp_path, "cc_tied_spherical", [0, 1])  # seed 2's model is gone
    decision = ship.ship_decision(results, "cc_tied_spherical", tmp_path)
    assert decision["ships"] and decision["baseline"] == "cc_sigmoid"
    assert decision["seed"] == 1 and decision["model"] == tmp_path / "cc_tied_spherical-seed1.sksep"
    assert decision["validation_difference"] == pytest.approx([1.0, 1.2, 1.9])


@pytest.mark.parametrize("better, worse, kept, reason", [
    ([6.0], [5.0], [0], "at least 2 are needed"),
    ([5.0, 5.8, 4.4], [5.0, 5.1, 5.0], [0, 1, 2], "does not beat cc_sigmoid"),
    ([4.0, 4.1], [5.0, 5.1], [0, 1], "does not beat cc_sigmoid"),
    ([6.0, 6.2], [5.0, 5.1], [], "no saved model"),
])
def test_ship_refuses_without_a_validation_win_or_a_model(ship, tmp_path, better, worse,
                                                         kept, reason):
    _keep_models(tmp_path, "cc_tied_spherical", kept)
    decision = ship.ship_decision(_cc_results(better, worse), "cc_tied_spherical", tmp_path)
    assert not decision["ships"] and decision["seed"] is None
    assert reason in decision["why"]


def test_ship_needs_a_paper_baseline(ship, tmp_path):
    decision = ship.ship_decision({}, "dc", tmp_path)
    assert not decision["ships"] and "no paper baseline" in decision["why"]


def test_ship_writes_the_model_and_its_registry_entry(ship, tmp_path, monkeypatch,
                                                      mir1k_train_small, mir1k_root):
    import json

    import sksep
    from fast_settings import FAST_SETTINGS

    X, Y, _ = mir1k_train_small
    model = sksep.ClassConditionalSeparator(
        source_names=("vocals", "accompaniment"),
        **FAST_SETTINGS["ClassConditionalSeparator"]()).fit(X[:2], Y[:2])
    work = tmp_path / "work"
    (work / "epochs-15").mkdir(parents=True)
    model.save(work / "epochs-15" / "cc_tied_spherical-seed1.sksep", half=True)
    runs = tmp_path / "results"
    (runs / "epochs-15").mkdir(parents=True)
    for row, seeds, value in (("cc_tied_spherical", (0, 1), 7.0), ("cc_sigmoid", (0, 1), 6.0)):
        for seed in seeds:
            run = _run(row, seed, value, value + seed)
            run["validation"]["-"]["accompaniment"] = {"SI-SDRi": value}
            run.update(validation_songs=["abjones_5", "amy_9"], train_clips=2,
                       validation_clips=1, epochs=1, best_epoch=1, train_wall_seconds=60.0,
                       parameters=1000, machine={"cpu": "x86_64"})
            (runs / "epochs-15" / f"{row}-seed{seed}.json").write_text(json.dumps(run))
    monkeypatch.setattr(ship.compare_methods, "MODELS", work)
    shipped = tmp_path / "models"
    registry = shipped / "registry.json"
    shipped.mkdir()
    registry.write_text(json.dumps({"chimera-mir1k": {"file": "kept.sksep"}}))
    ship.main(["--epochs", "15", "--output", str(runs), "--models-dir",
                  str(shipped), "--data", str(mir1k_root), "--max-test-clips", "2"])
    entries = json.loads(registry.read_text())
    assert entries["chimera-mir1k"] == {"file": "kept.sksep"}  # other models untouched
    entry = entries["class-conditional-mir1k"]
    assert entry["estimator"] == "ClassConditionalSeparator" and entry["seed"] == 1
    assert entry["sources"] == ["vocals", "accompaniment"] and entry["sample_rate"] == 16000
    assert "query-by-example" in entry["description"]
    assert "cc_sigmoid" in entry["selection"] and "(2 clips)" in entry["scores"]["test set"]
    assert set(entry["scores"]["vocals"]) == {"SI-SDRi", "GNSDR", "GSIR", "GSAR"}
    # Validation is measured from the shipped file; this one is not the run's model.
    measured = entry["validation"]["vocals"]["SI-SDRi"]
    assert isinstance(measured, float) and measured != pytest.approx(8.0)
    assert "retraining with the same command and seed" in entry["training"]
    loaded = sksep.load(shipped / entry["file"])
    assert type(loaded).__name__ == "ClassConditionalSeparator"
    assert entry["size_mb"] == pytest.approx((shipped / entry["file"]).stat().st_size / 1e6,
                                             abs=0.05)


def test_ship_refuses_a_row_that_does_not_beat_its_baseline(ship, tmp_path, monkeypatch):
    import json

    runs = tmp_path / "results" / "epochs-15"
    runs.mkdir(parents=True)
    for row, value in (("cc_tied_spherical", 5.0), ("cc_sigmoid", 6.0)):
        for seed in (0, 1):
            (runs / f"{row}-seed{seed}.json").write_text(json.dumps(_run(row, seed, value, value)))
    monkeypatch.setattr(ship.compare_methods, "MODELS", tmp_path / "work")
    with pytest.raises(SystemExit, match="class-conditional-mir1k not shipped: .*does not beat"):
        ship.main(["--epochs", "15", "--output", str(tmp_path / "results"),
                      "--models-dir", str(tmp_path / "models")])
    assert not (tmp_path / "models").exists()


def test_retrain_note_only_when_the_file_is_not_the_runs_model(ship):
    run = _run("cc_tied_spherical", 0, 6.0, 8.057)
    same = {"vocals": {"SI-SDRi": 8.05}}
    assert ship.retrain_note(run, same) == ""
    note = ship.retrain_note(run, {"vocals": {"SI-SDRi": 7.906}})
    assert "scores 7.91 dB vocals SI-SDRi" in note and "compared run scored 8.06" in note
