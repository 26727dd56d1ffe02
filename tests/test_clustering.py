"""K-means inference of the deep-clustering head, plain and whitened."""

import numpy as np
import pytest

from sksep import DeepClusteringSeparator
from sksep._clustering import kmeans_masks, whitened
from sksep.separators import chimera


def _stretched_clusters(n_points=4000, seed=0):
    """Two clusters split along a narrow axis, spread along a wide one.

    Plain k-means cuts the wide axis (most of the variance, no cluster structure);
    in the whitened space both axes have unit variance and the bimodal one is the
    cut that lowers the k-means cost most.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_points)
    wide = rng.uniform(-10.0, 10.0, n_points)
    narrow = labels - 0.5 + rng.normal(0.0, 0.05, n_points)
    return np.stack([wide, narrow], axis=1).astype(np.float32), labels


def _agreement(masks, labels):
    found = masks[1].reshape(-1)
    return max(np.mean(found == labels), np.mean(found != labels))


class TestWhitened:
    def test_second_moment_is_identity_over_the_chosen_weighted_rows(self):
        rng = np.random.default_rng(1)
        points = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
        weights = rng.uniform(0.0, 2.0, 500)
        rows = np.arange(0, 500, 2)
        out = whitened(points, weights, rows)
        moment = (out[rows] * weights[rows, None]).T @ out[rows]
        np.testing.assert_allclose(moment, np.eye(4), atol=1e-4)
        assert out.shape == points.shape and out.dtype == np.float32

    def test_maps_every_point_with_one_matrix(self):
        rng = np.random.default_rng(2)
        points = rng.normal(size=(300, 3))
        out = whitened(points, np.ones(300), np.arange(100))
        matrix, *_ = np.linalg.lstsq(points[:100], out[:100], rcond=None)
        np.testing.assert_allclose(points[100:] @ matrix, out[100:], atol=1e-4)

    def test_zero_weights_count_equally_and_unused_directions_stay_finite(self):
        points = np.zeros((50, 3))
        points[:, 0] = np.linspace(-1, 1, 50)  # directions 1 and 2 never used
        out = whitened(points, np.zeros(50), np.arange(50))
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose((out[:, 0] ** 2).sum(), 1.0, rtol=1e-4)


class TestKmeansMasks:
    def test_whitening_finds_clusters_plain_kmeans_misses(self):
        points, labels = _stretched_clusters()
        embedding = points.reshape(1, -1, 2)
        weights = np.ones((1, len(points)))
        plain = kmeans_masks(embedding, weights, 2, random_state=0)
        white = kmeans_masks(embedding, weights, 2, whiten=True, random_state=0)
        assert _agreement(plain, labels) < 0.7
        assert _agreement(white, labels) > 0.99

    def test_masks_are_one_hot_over_sources(self):
        points, _ = _stretched_clusters(400)
        masks = kmeans_masks(points.reshape(20, 20, 2), np.ones((20, 20)), 2, whiten=True,
                             random_state=0)
        assert masks.shape == (2, 20, 20)
        np.testing.assert_array_equal(masks.sum(axis=0), 1.0)


@pytest.mark.parametrize("objective, whiten", [("dc", False), ("wkm", True)])
def test_separator_clusters_whitened_embeddings_for_the_wkm_objective(
        mir1k_train_small, monkeypatch, objective, whiten):
    X, Y, _ = mir1k_train_small
    model = DeepClusteringSeparator(hidden_size=8, num_layers=1, embedding_dim=4, max_epochs=1,
                                    segment_frames=50, dc_objective=objective,
                                    random_state=0).fit(X[:2], Y[:2])
    seen = []
    real = chimera.kmeans_masks

    def spy(*args, **kwargs):
        seen.append(kwargs.get("whiten"))
        return real(*args, **kwargs)

    monkeypatch.setattr(chimera, "kmeans_masks", spy)
    estimates = model.predict(X[:1])
    assert seen == [whiten]
    assert estimates[0].shape == Y[0].shape and np.all(np.isfinite(estimates[0]))
