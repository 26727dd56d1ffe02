"""``benchmarks/quality_levers.py``: levers are paired per seed with the baseline row."""

import json

import pytest


@pytest.fixture
def levers(benchmark_module, monkeypatch, tmp_path):
    module = benchmark_module("quality_levers")
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    return module


def _write(folder, row, seed, vocals, epochs=3):
    scores = {head: {"vocals": {"SI-SDRi": value}} for head, value in vocals.items()}
    (folder / f"{row}-seed{seed}.json").write_text(json.dumps(
        {"row": row, "seed": seed, "epochs": epochs, "validation": scores, "test": scores}))


def test_differences_are_paired_on_the_seeds_both_rows_ran(levers, tmp_path):
    folder = tmp_path / "compare_methods" / "budget-240"
    folder.mkdir(parents=True)
    for seed, value in enumerate([5.0, 6.0, 7.0]):
        _write(folder, "chimera", seed, {"mi": value, "dc": value - 1}, epochs=4)
    _write(folder, "chimera_psa", 1, {"mi": 6.5, "dc": 4.0})
    _write(folder, "chimera_psa", 2, {"mi": 7.5, "dc": 7.0})
    _write(folder, "chimera_psa", 5, {"mi": 99.0, "dc": 99.0})  # no baseline: ignored
    [row] = levers.lever_screen()
    assert row["row"] == "chimera_psa" and row["seeds"] == [1, 2]
    assert row["differences"]["test mi"] == pytest.approx([0.5, 0.5])
    assert row["differences"]["validation dc"] == pytest.approx([-1.0, 1.0])
    assert row["epochs"] == [3, 3] and row["baseline_epochs"] == [4, 4]
    text = levers.markdown({"shipped": [], "screen": [row], "inference": [],
                            "recipe_seeds": None})
    assert "| +0.50 ± 0.00 |" in text and "| +0.00 ± 1.41 |" in text


def test_no_runs_no_rows(levers):
    assert levers.lever_screen() == []


def test_full_recipe_levers_and_the_ensemble_enter_the_table(levers, tmp_path):
    recipe = {"summary_line": "3 seeds.",
              "levers": [{"lever": "vmr", "seed": 0, "validation": [9.1, 9.0, 0.1],
                          "test": [7.9, 7.85, 0.05], "test -5 dB": [8.0, None, None],
                          "test +5 dB": [6.5, None, None], "MUSDB": [5.0, 4.5, 0.5]}]}
    (tmp_path / "shipped_recipe.json").write_text(json.dumps(recipe))
    report = {"vocals": {"SI-SDRi": 9.0}}
    (tmp_path / "ensemble.json").write_text(json.dumps({
        "validation": {"a": report, "b": {"vocals": {"SI-SDRi": 9.2}},
                       "ensemble": {"vocals": {"SI-SDRi": 9.35}}},
        "time": {"ratio_median": 2.1}}))
    result = {"shipped": [], "screen": [], "inference": levers.inference_rows(),
              "recipe_seeds": levers.recipe_seeds()}
    text = levers.markdown(result)
    assert "| vmr | 0 | +0.10 | +0.05 | - | - | +0.50 |" in text
    assert "+0.15 dB vocals SI-SDRi over the best member" in text and "2.10x the time" in text
    untried = text.split("Not tried yet:")[1]
    assert "voice-to-music" not in untried and "ensembles" not in untried
    assert "MUSDB stems" in untried
    assert "phase-sensitive target" in untried and "mask_grid='stft'" in untried


def test_ceilings_bound_the_grid_and_target_levers(levers):
    rows = [{"grid": grid, "mask": mask, "vocals": value, "accompaniment": value}
            for (grid, mask), value in {("mel", "wiener p2"): 12.0, ("stft", "wiener p2"): 12.25,
                                        ("mel", "phase-sensitive"): 13.0,
                                        ("stft", "phase-sensitive"): 13.5}.items()]
    result = {"shipped": [], "screen": [], "inference": [], "recipe_seeds": None,
              "ceilings": {"clips": 90, "rows": rows}}
    text = levers.markdown(result)
    assert "The mask grid bounds a lever to +0.25 dB" in text
    assert "the phase-sensitive target to +1.00 dB" in text


def test_the_musdb_data_lever_enters_the_table_once_measured(levers):
    rows = [{"song": "A", "seed": 0, "gain": [1.25, 0.5], "mir1k_gain": [-0.25, 0.1]},
            {"song": "B", "seed": 0, "gain": [0.75, -0.5], "mir1k_gain": [0.0, -0.3]}]
    result = {"shipped": [], "screen": [], "inference": [], "recipe_seeds": None,
              "musdb_transfer": {"recipe": "--max-epochs 15", "rows": rows,
                                 "summary": {"vocals": {"mean": 1.0, "std": 0.35},
                                             "accompaniment": {"mean": 0.0, "std": 0.71}}}}
    text = levers.markdown(result)
    assert "| A | 0 | +1.25 | +0.50 | -0.25 | +0.10 |" in text
    assert "vocals +1.00 ± 0.35, accompaniment +0.00 ± 0.71 dB" in text
    assert "MUSDB stems" not in text.split("Not tried yet:")[1]
