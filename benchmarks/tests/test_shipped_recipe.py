"""``benchmarks/shipped_recipe.py``: time to quality and the spread over seeds."""


import pytest


@pytest.fixture
def recipe(benchmark_module):
    return benchmark_module("shipped_recipe")


def _history(losses, seconds=100.0):
    return [{"epoch": e, "valid_loss": loss, "dur": seconds}
            for e, loss in enumerate(losses, start=1)] + [{"epoch": len(losses) + 1}]


def test_time_to_quality_sums_epochs_until_the_target_is_first_reached(recipe):
    history = _history([0.3, 0.2, 0.09, 0.1, 0.05])
    assert recipe.time_to(history, 0.1) == (3, 300.0)
    assert recipe.time_to(history, 0.05) == (5, 500.0)
    assert recipe.time_to(history, 0.01) is None


def _scores(gnsdr):
    return {"vocals": {"SI-SDRi": gnsdr - 1, "GNSDR": gnsdr},
            "accompaniment": {"SI-SDRi": 1.0, "GNSDR": gnsdr}}


def _run(seed, valid, gnsdr, losses, lever=None, ratios=None):
    run = {"name": f"{lever + '-' if lever else ''}seed{seed}", "lever": lever, "seed": seed,
           "validation": {"vocals": {"SI-SDRi": valid}, "accompaniment": {"SI-SDRi": valid}},
           "test": {"mi": _scores(gnsdr), "dc": _scores(gnsdr)}, "history": _history(losses)}
    if ratios is not None:
        run["ratios"] = {f"{ratio:+g} dB": {"mi": _scores(value), "dc": _scores(value)}
                         for ratio, value in ratios.items()}
    return run


def test_summary_spreads_over_seeds_and_targets_the_shipped_best(recipe):
    runs = [_run(0, 8.0, 7.0, [0.2, 0.1]), _run(1, 9.0, 8.0, [0.2, 0.15])]
    shipped = _run(None, 8.5, 7.5, [0.3, 0.12, 0.11])
    summary, target, reached = recipe.summarize(runs, shipped)
    assert target == 0.11
    assert summary["test mi vocals GNSDR"]["mean"] == pytest.approx(7.5)
    assert summary["validation vocals SI-SDRi"]["std"] == pytest.approx(0.7071, abs=1e-4)
    assert reached == {"shipped": (3, 300.0), "seed 0": (2, 200.0), "seed 1": None}


def test_run_folders_name_the_recipe_seed_or_a_lever(recipe):
    assert recipe.run_name("seed2") == (None, 2)
    assert recipe.run_name("vmr-seed0") == ("vmr", 0)
    with pytest.raises(ValueError, match="seed<S>"):
        recipe.run_name("seedless")


def test_records_survive_without_the_models_and_split_recipe_from_levers(recipe, tmp_path):
    runs = [_run(1, 9.0, 7.8, [0.2]), _run(0, 9.1, 7.9, [0.2]),
            _run(0, 9.3, 8.0, [0.2], lever="vmr")]
    for run in runs:
        recipe.save_record({**run, "model": tmp_path / "gone.sksep"}, tmp_path / "records")
    seeds, levers = recipe.load_records(tmp_path / "records")
    assert [run["seed"] for run in seeds] == [0, 1]
    assert [(run["lever"], run["seed"]) for run in levers] == [("vmr", 0)]
    assert "model" not in seeds[0]


def test_levers_pair_with_the_recipe_run_of_the_same_seed(recipe):
    seeds = [_run(0, 9.0, 7.8, [0.2]), _run(1, 9.2, 7.9, [0.2], ratios={-5: 5.0, 5: 10.0})]
    levers = [_run(1, 9.5, 8.0, [0.2], lever="vmr", ratios={-5: 6.0, 5: 10.5}),
              _run(0, 8.5, 7.5, [0.2], lever="vmr", ratios={-5: 4.0, 5: 9.0})]
    rows = recipe.lever_rows(levers, seeds)
    assert rows[0]["seed"] == 1
    assert rows[0]["validation"] == pytest.approx((9.5, 9.2, 0.3))
    assert rows[0]["test"] == pytest.approx((8.0, 7.9, 0.1))
    assert rows[0]["test -5 dB"] == pytest.approx((6.0, 5.0, 1.0))
    # seed 0 of the recipe was not scored at the ratios: no difference to report
    assert rows[1]["test -5 dB"] == (4.0, None, None)
    assert rows[1]["test"] == pytest.approx((7.5, 7.8, -0.3))


def test_report_shows_levers_ratios_and_which_seeds_lack_them(recipe):
    gains = {f"{g:g}": {"vocals": {"SI-SDRi": 9.0}} for g in recipe.GAINS}
    seeds = [_run(0, 9.0, 7.8, [0.2]), _run(1, 9.2, 7.9, [0.2], ratios={-5: 5.0, 5: 10.0})]
    levers = [_run(1, 9.5, 8.0, [0.2], lever="vmr", ratios={-5: 6.0, 5: 10.5})]
    shipped = _run(None, 9.17, 7.77, [0.3, 0.1], ratios={-5: 5.5, 5: 10.2})
    for run in seeds + [shipped]:
        run["gains"] = gains
    seeds[0]["training"] = "… --threads 1 --seed 0"
    levers[0]["training"] = "… --threads 2 --bf16 --seed 1"
    summary, target, reached = recipe.summarize(seeds, shipped)
    quality, hits = recipe.recipe_quality(seeds, levers)
    text = recipe.markdown({"runs": seeds, "shipped": shipped, "summary": summary,
                            "levers": recipe.lever_rows(levers, seeds), "lever_runs": levers,
                            "target_loss": target, "time_to_quality": reached,
                            "two_thread_speedup": 1.7,
                            "recipe_quality": {"target": quality, "runs": hits}})
    assert "| 5.00 / 10.00 |" in text and "| - / - |" in text
    assert "model of seed 0 was gone" in text
    assert "9.50 / 9.20 (+0.30)" in text and "-5 to +5 dB" in text
    assert "| vmr-seed1 | 1 | 2 min | 2 threads, bfloat16 | 100 |" in text
    assert "| seed0 | 1 | 2 min | 1 thread, float32 |" in text
    assert "| seed1 | 1 | 2 min | torch's default threads, float32 |" in text


def test_time_to_the_recipe_quality_targets_a_loss_every_seed_reached(recipe):
    seeds = [_run(0, 9.0, 7.8, [0.3, 0.1, 0.08]), _run(1, 9.0, 7.8, [0.3, 0.12, 0.09])]
    fast = _run(1, 9.0, 7.8, [0.2, 0.09], lever="bf16")
    slow = _run(0, 9.0, 7.8, [0.2, 0.095], lever="vmr")
    target, reached = recipe.recipe_quality(seeds, [fast, slow])
    assert target == 0.09
    assert reached == {"seed0": (3, 300.0), "seed1": (3, 300.0), "bf16-seed1": (2, 200.0),
                       "vmr-seed0": None}
    assert recipe._threads("x.py --threads 2 --bf16") == "2 threads"
    assert recipe._threads("x.py --threads 1") == "1 thread"
