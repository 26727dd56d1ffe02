"""``benchmarks/query_by_example.py``: the query mask is chosen on validation clips."""

import json

import pytest

from sksep import ClassConditionalSeparator, MelFeatures


@pytest.fixture
def qbe(benchmark_module):
    return benchmark_module("query_by_example")


def _rows(posterior, likelihood):
    """Validation rows whose vocals-example target scores are the given lists."""
    row = lambda target: {"vocals": {"target": target, "other": [-20.0]},  # noqa: E731
                          "accompaniment": {"target": [1.0], "other": [-20.0]}}
    return {"predict": {"vocals": 6.0, "accompaniment": 6.0},
            "posterior": row(posterior), "likelihood": row(likelihood)}


@pytest.mark.parametrize("posterior, likelihood, chosen", [
    ([2.0, 3.0], [-5.0, -4.0], "posterior"),
    ([-6.0, -6.0], [-5.0, -4.0], "likelihood"),
])
def test_mask_is_chosen_on_validation_targets(qbe, posterior, likelihood, chosen):
    assert qbe.choose_mask(_rows(posterior, likelihood), ["vocals", "accompaniment"]) == chosen


def test_examples_spread_over_the_training_clips(qbe):
    assert qbe.example_indices([3, 4, 8, 9, 12], 3) == [3, 8, 12]
    assert qbe.example_indices([3, 4], 1) == [3]
    with pytest.raises(SystemExit, match="--examples 3 must be between 1 and 2"):
        qbe.example_indices([3, 4], 3)


def test_end_to_end_on_a_tiny_model(qbe, mir1k_train_small, tmp_path):
    X, Y, _ = mir1k_train_small
    model = ClassConditionalSeparator(
        source_names=("vocals", "accompaniment"), hidden_size=8, num_layers=1,
        embedding_dim=4, max_epochs=1, features=MelFeatures(n_mels=20, deltas=False),
        random_state=0).fit(X, Y)
    path = model.save(tmp_path / "cc.sksep")
    qbe.main(["--model", str(path), "--examples", "2", "--max-clips", "2",
              "--output", str(tmp_path / "report")])
    result = json.loads((tmp_path / "report.json").read_text())
    assert result["n_examples"] == 2 and result["n_test"] == result["n_validation"] == 2
    for split in ("validation", "test"):
        for mask in qbe.MASKS:
            for name in ("vocals", "accompaniment"):
                assert len(result[split][mask][name]["target"]) == 2
    assert result["chosen"] in qbe.MASKS
    markdown = (tmp_path / "report.md").read_text()
    assert f"Query mask chosen on validation: **{result['chosen']}**" in markdown
    assert markdown.count("| supervised `predict` |") == 2


def test_refuses_a_model_without_embeddings(qbe, mir1k_train_small, tmp_path):
    from sksep import ChimeraSeparator
    X, Y, _ = mir1k_train_small
    path = ChimeraSeparator(hidden_size=8, num_layers=1, embedding_dim=4, max_epochs=1,
                            features=MelFeatures(n_mels=20, deltas=False),
                            random_state=0).fit(X[:2], Y[:2]).save(tmp_path / "c.sksep")
    with pytest.raises(SystemExit, match="is a ChimeraSeparator; expected a "
                                         "ClassConditionalSeparator"):
        qbe.main(["--model", str(path), "--output", str(tmp_path / "r")])
