"""``benchmarks/bench_ensemble.py``: the mean of the members' masks, applied once."""

import numpy as np
import pytest

TINY = dict(hidden_size=16, num_layers=1, embedding_dim=8, max_epochs=1, segment_frames=50,
            batch_size=8)


@pytest.fixture(scope="module")
def members(mir1k_train_small):
    from sksep import ChimeraSeparator, MelFeatures

    X, Y, _ = mir1k_train_small
    features = MelFeatures(n_mels=40)
    return [ChimeraSeparator(features=features, random_state=seed, **TINY).fit(X, Y)
            for seed in (0, 1)]


@pytest.fixture
def ensemble(benchmark_module):
    return benchmark_module("bench_ensemble")


def test_mean_masks_average_the_members(ensemble, members, mir1k_train_small):
    X = mir1k_train_small[0][:2]
    first, second = (member.predict_masks(X) for member in members)
    mean = ensemble.mean_masks(members, X)
    for a, b, m in zip(first, second, mean):
        np.testing.assert_allclose(m, (a + b) / 2, rtol=1e-6)
    assert not np.allclose(first[0], second[0])  # two seeds: an average of different masks


def test_an_ensemble_of_one_separates_like_the_model(ensemble, members, mir1k_train_small):
    X = mir1k_train_small[0][:2]
    for alone, together in zip(members[0].predict(X), ensemble.ensemble_predict(members[:1], X)):
        np.testing.assert_allclose(together, alone, atol=1e-5)


def test_members_must_share_one_grid(ensemble, members, mir1k_train_small):
    from sksep import ChimeraSeparator, MelFeatures

    X, Y, _ = mir1k_train_small
    other = ChimeraSeparator(features=MelFeatures(n_mels=32), random_state=0, **TINY).fit(X, Y)
    with pytest.raises(ValueError, match="different feature grids"):
        ensemble.mean_masks([members[0], other], X[:1])
    with pytest.raises(ValueError, match="members is empty"):
        ensemble.mean_masks([], X[:1])


def test_report_weighs_the_gain_against_the_cost(ensemble):
    def report(vocals):
        return {"vocals": {"SI-SDRi": vocals, "GNSDR": vocals + 1},
                "accompaniment": {"SI-SDRi": vocals}}

    text = ensemble.markdown({
        "validation": {"a": report(9.0), "b": report(9.2), "ensemble": report(9.5)},
        "test": {"ensemble": report(7.0)}, "rounds": 3,
        "time": {"ratio_median": 2.01, "ratio_min": 1.9, "ratio_max": 2.2},
        "machine": {"platform": "x86_64", "cpus": 2}})
    assert "best member (b) on validation: **+0.30 dB**" in text
    assert "**2.01x**" in text and "vocal GNSDR 8.00 dB" in text
