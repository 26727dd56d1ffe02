"""``benchmarks/compare_methods.py``: the papers' findings are judged from paired seeds."""

import pytest


@pytest.fixture
def compare(benchmark_module):
    return benchmark_module("compare_methods")


def _run(row, seed, test, valid, head="-", epochs=4):
    history = [{"epoch": e + 1, "cpu": 60.0 * (e + 1), "valid_loss": 1.0 / (e + 1)}
               for e in range(epochs)]
    score = lambda value: {head: {"vocals": {"SI-SDRi": value}}}  # noqa: E731
    return {"row": row, "label": row, "seed": seed, "history": history,
            "test": score(test), "validation": score(valid)}


def _results(better, worse):
    """Rows ``uhnet`` / ``unet`` with per-seed test scores ``better`` / ``worse``."""
    return {"uhnet": [_run("uhnet", s, v, v) for s, v in enumerate(better)],
            "unet": [_run("unet", s, v, v) for s, v in enumerate(worse)]}


@pytest.mark.parametrize("better, worse, verdict", [
    ([6.0, 6.2, 6.1], [5.0, 5.1, 5.0], "holds"),
    ([4.0, 4.2, 4.1], [5.0, 5.1, 5.0], "does not hold"),
    ([5.0, 5.8, 4.4], [5.0, 5.1, 5.0], "not separable at these seeds"),
])
def test_verdict_follows_the_paired_differences(compare, better, worse, verdict):
    lines, records = compare.findings(_results(better, worse), budget=compare.Budget("cpu", 240.0))
    (record,) = records
    assert record["paper"] == "Xi 2020"
    assert record["verdict"] == verdict
    assert record["test_difference"] == pytest.approx([b - w for b, w in zip(better, worse)])
    assert f"— {verdict} here" in lines[0]


def test_one_seed_gives_no_verdict(compare):
    lines, (record,) = compare.findings(_results([7.0], [5.0]),
                                        budget=compare.Budget("epochs", 15.0))
    assert record["verdict"] == "no verdict from one seed"
    assert "(1 seed, paired by seed)" in lines[0]


def test_differences_pair_seeds_that_both_rows_ran(compare):
    results = _results([6.0, 7.0, 8.0], [5.0, 5.0])  # seed 2 of the U-Net is missing
    _, (record,) = compare.findings(results, budget=compare.Budget("cpu", 240.0))
    assert record["test_difference"] == pytest.approx([1.0, 2.0])


def test_rows_without_results_are_left_out(compare):
    assert compare.findings({"unet": _results([1.0], [1.0])["unet"]}, budget=compare.Budget("cpu", 240.0)) == ([], [])


def test_an_epoch_budget_measures_flattening_in_epochs(compare):
    history = [{"epoch": e, "valid_loss": loss} for e, loss in
               enumerate([1.0, 0.5, 0.4, 0.38, 0.3], start=1)]
    budget = compare.Budget("epochs", 4.0)
    # best by epoch 3 (75 % of 4): 0.4; best overall 0.3
    assert compare._flattening(history, budget) == pytest.approx(0.25)
    assert budget.folder == "epochs-4" and budget.report_name == "compare_methods_epochs-4"
    assert compare.Budget("cpu", 240.0).report_name == "compare_methods"
