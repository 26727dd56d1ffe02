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


def test_summary_spreads_over_seeds_and_targets_the_shipped_best(recipe):
    def run(seed, valid, gnsdr, losses):
        scores = {"vocals": {"SI-SDRi": gnsdr - 1, "GNSDR": gnsdr},
                  "accompaniment": {"SI-SDRi": 1.0, "GNSDR": gnsdr}}
        return {"seed": seed, "validation": {"vocals": {"SI-SDRi": valid},
                                             "accompaniment": {"SI-SDRi": valid}},
                "test": {"mi": scores, "dc": scores}, "history": _history(losses)}

    runs = [run(0, 8.0, 7.0, [0.2, 0.1]), run(1, 9.0, 8.0, [0.2, 0.15])]
    shipped = run(None, 8.5, 7.5, [0.3, 0.12, 0.11])
    summary, target, reached = recipe.summarize(runs, shipped)
    assert target == 0.11
    assert summary["test mi vocals GNSDR"]["mean"] == pytest.approx(7.5)
    assert summary["validation vocals SI-SDRi"]["std"] == pytest.approx(0.7071, abs=1e-4)
    assert reached == {"shipped": (3, 300.0), "seed 0": (2, 200.0), "seed 1": None}
