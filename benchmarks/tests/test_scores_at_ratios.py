"""``benchmarks/_common.py``'s scores at voice-to-music ratios (``shipped_recipe.py``,
``tools/rescore_shipped_model.py``)."""

import numpy as np


def test_ratios_scale_the_vocals_and_score_both_heads(benchmark_module, mir1k_root):
    import sksep
    from sksep.datasets import load_mir1k

    rescore = benchmark_module("_common")
    test = load_mir1k(mir1k_root, "test", max_clips=2)
    X, Y = rescore.at_ratio(test, -5.0)
    np.testing.assert_allclose(Y[0][0], test.Y[0][0] * 10 ** (-5 / 20), rtol=1e-5)
    np.testing.assert_allclose(X[0], Y[0].sum(axis=0), atol=1e-6)
    model = sksep.load("chimera-mir1k")
    scores = rescore.scores_at_ratios(model, test, (0.0, 5.0), n_jobs=1)
    assert list(scores) == ["0 dB", "+5 dB"] and set(scores["+5 dB"]) == {"mi", "dc"}
    louder, own = scores["+5 dB"]["mi"]["vocals"], scores["0 dB"]["mi"]["vocals"]
    assert louder["GNSDR"] != own["GNSDR"]
    assert model.head == "mi"
