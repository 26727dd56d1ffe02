import pytest
import torch

import numpy as np

from sksep import FeatureGrid
from sksep._spectral import grid_phase_sensitive_magnitudes
from sksep.losses import (deep_clustering_loss, l1_spectrogram_loss,
                          magnitude_spectrum_approximation,
                          masked_magnitude_spectrum_approximation, naive_deep_clustering_loss,
                          naive_whitened_kmeans_loss, phase_sensitive_spectrum_approximation,
                          whitened_kmeans_loss)


def _random_inputs(batch=3, n_bins=40, dim=5, n_sources=3, dtype=torch.float64):
    embedding = torch.nn.functional.normalize(torch.randn(batch, n_bins, dim, dtype=dtype), dim=-1)
    labels = torch.randint(0, n_sources, (batch, n_bins))
    assignments = torch.nn.functional.one_hot(labels, n_sources).to(dtype)
    weights = (torch.rand(batch, n_bins, dtype=dtype) > 0.3).to(dtype)
    return embedding, assignments, weights


class TestDeepClusteringLoss:
    def test_matches_naive_affinity_unweighted(self):
        embedding, assignments, _ = _random_inputs()
        fast = deep_clustering_loss(embedding, assignments)
        naive = naive_deep_clustering_loss(embedding, assignments)
        torch.testing.assert_close(fast, naive, rtol=1e-12, atol=1e-12)

    def test_matches_naive_affinity_weighted(self):
        embedding, assignments, weights = _random_inputs()
        weights = weights * torch.rand_like(weights)
        fast = deep_clustering_loss(embedding, assignments, weights)
        naive = naive_deep_clustering_loss(embedding, assignments, weights)
        torch.testing.assert_close(fast, naive, rtol=1e-12, atol=1e-12)

    def test_matches_naive_in_float32(self):
        embedding, assignments, weights = _random_inputs(dtype=torch.float32, n_bins=300)
        torch.testing.assert_close(deep_clustering_loss(embedding, assignments, weights),
                                   naive_deep_clustering_loss(embedding, assignments, weights),
                                   rtol=1e-5, atol=1e-6)

    def test_explicit_double_sum_definition(self):
        # ||VV^T - YY^T||_F^2 / TF^2 written out pair by pair.
        embedding, assignments, _ = _random_inputs(batch=1, n_bins=12)
        v, y = embedding[0], assignments[0]
        total = sum((v[i] @ v[j] - y[i] @ y[j]) ** 2 for i in range(12) for j in range(12))
        torch.testing.assert_close(deep_clustering_loss(embedding, assignments), total / 144)

    def test_zero_for_perfect_orthogonal_embeddings(self):
        labels = torch.tensor([[0, 1, 1, 0, 2]])
        assignments = torch.nn.functional.one_hot(labels, 3).double()
        assert deep_clustering_loss(assignments.clone(), assignments).item() == pytest.approx(0)

    def test_zero_weight_bins_are_ignored(self):
        embedding, assignments, weights = _random_inputs(batch=1)
        changed = embedding.clone()
        silent = weights[0] == 0
        changed[0, silent] = -changed[0, silent]
        assert deep_clustering_loss(changed, assignments, weights).item() == pytest.approx(
            deep_clustering_loss(embedding, assignments, weights).item())

    def test_gradient_matches_naive(self):
        embedding, assignments, weights = _random_inputs(batch=2, n_bins=20)
        a = embedding.clone().requires_grad_(True)
        b = embedding.clone().requires_grad_(True)
        deep_clustering_loss(a, assignments, weights).backward()
        naive_deep_clustering_loss(b, assignments, weights).backward()
        torch.testing.assert_close(a.grad, b.grad)

    def test_shape_errors_are_clear(self):
        embedding, assignments, _ = _random_inputs()
        with pytest.raises(ValueError, match=r"embedding must have shape \(batch, TF, D\)"):
            deep_clustering_loss(embedding[0], assignments)
        with pytest.raises(ValueError, match="must share"):
            deep_clustering_loss(embedding, assignments[:, :10])


def _masks_and_magnitudes(batch=2, n_sources=2, n_frames=7, n_bins=5):
    masks = torch.softmax(torch.randn(batch, n_sources, n_frames, n_bins, dtype=torch.float64), 1)
    mixture = torch.rand(batch, n_frames, n_bins, dtype=torch.float64)
    sources = torch.rand(batch, n_sources, n_frames, n_bins, dtype=torch.float64)
    return masks, mixture, sources


class TestSpectrumApproximation:
    def test_msa_against_loop(self):
        masks, mixture, sources = _masks_and_magnitudes()
        expected = 0.0
        for b in range(2):
            expected += sum(((sources[b, c] - masks[b, c] * mixture[b]) ** 2).mean()
                            for c in range(2)) / 2
        torch.testing.assert_close(magnitude_spectrum_approximation(masks, mixture, sources),
                                   expected)

    def test_mmsa_is_weighted_mask_error(self):
        masks, mixture, reference = _masks_and_magnitudes()
        expected = (((reference - masks) * mixture[:, None]) ** 2).sum(1).mean()
        torch.testing.assert_close(
            masked_magnitude_spectrum_approximation(masks, mixture, reference), expected)

    def test_mmsa_equals_msa_when_reference_reproduces_sources(self):
        masks, mixture, reference = _masks_and_magnitudes()
        sources = reference * mixture[:, None]
        torch.testing.assert_close(
            masked_magnitude_spectrum_approximation(masks, mixture, reference),
            magnitude_spectrum_approximation(masks, mixture, sources))

    def test_valid_frames_only(self):
        masks, mixture, sources = _masks_and_magnitudes()
        valid = torch.ones(2, 7, dtype=torch.float64)
        valid[:, 4:] = 0
        full = magnitude_spectrum_approximation(masks[:, :, :4], mixture[:, :4], sources[:, :, :4])
        torch.testing.assert_close(magnitude_spectrum_approximation(masks, mixture, sources, valid),
                                   full)

    def test_l1_against_loop(self):
        masks, mixture, sources = _masks_and_magnitudes()
        expected = (masks * mixture[:, None] - sources).abs().sum(1).mean()
        torch.testing.assert_close(l1_spectrogram_loss(masks, mixture, sources), expected)


class TestWhitenedKMeansLoss:
    def test_matches_naive_definition(self):
        embedding, assignments, weights = _random_inputs()
        torch.testing.assert_close(whitened_kmeans_loss(embedding, assignments, eps=0.0),
                                   naive_whitened_kmeans_loss(embedding, assignments))
        weights = weights * torch.rand_like(weights)
        torch.testing.assert_close(
            whitened_kmeans_loss(embedding, assignments, weights, eps=0.0),
            naive_whitened_kmeans_loss(embedding, assignments, weights))

    def test_gradient_matches_naive(self):
        embedding, assignments, weights = _random_inputs(batch=2, n_bins=20)
        fast = embedding.clone().requires_grad_(True)
        naive = embedding.clone().requires_grad_(True)
        whitened_kmeans_loss(fast, assignments, weights, eps=0.0).backward()
        naive_whitened_kmeans_loss(naive, assignments, weights).backward()
        torch.testing.assert_close(fast.grad, naive.grad)

    def test_invariant_to_invertible_maps_of_the_embedding(self):
        # Whitening: the loss sees the span of V, not its scaling or rotation.
        embedding, assignments, _ = _random_inputs()
        mixing = torch.randn(5, 5, dtype=torch.float64) + 3 * torch.eye(5, dtype=torch.float64)
        torch.testing.assert_close(whitened_kmeans_loss(embedding @ mixing, assignments, eps=0.0),
                                   whitened_kmeans_loss(embedding, assignments, eps=0.0))

    def test_bounds(self):
        embedding, assignments, _ = _random_inputs(dim=5, n_sources=3)
        loss = float(whitened_kmeans_loss(embedding, assignments))
        assert 5 - 3 <= loss <= 5
        # embeddings that hold the assignments reach the lower bound D - C
        perfect = torch.cat([assignments, torch.randn(3, 40, 2, dtype=torch.float64)], -1)
        assert float(whitened_kmeans_loss(perfect, assignments)) == pytest.approx(2.0, abs=1e-4)

    def test_source_without_bins_drops_out(self):
        embedding, assignments, _ = _random_inputs(n_sources=3)
        labels = assignments.argmax(-1).clamp_max(1)  # source 2 never dominates
        two = torch.nn.functional.one_hot(labels, 3).to(torch.float64)
        loss = whitened_kmeans_loss(embedding, two)
        torch.testing.assert_close(loss, whitened_kmeans_loss(embedding, two[..., :2]))

    def test_shape_errors_are_clear(self):
        embedding, assignments, _ = _random_inputs()
        with pytest.raises(ValueError, match=r"must share \(batch, TF\)"):
            whitened_kmeans_loss(embedding[:, :10], assignments)


class TestPhaseSensitiveSpectrumApproximation:
    def test_against_loop_with_truncation(self):
        masks, mixture, _ = _masks_and_magnitudes()
        phase_sensitive = 2 * torch.randn_like(masks)  # some negative, some above S
        expected = 0.0
        for b in range(2):
            for c in range(2):
                target = np.clip(phase_sensitive[b, c].numpy(), 0, mixture[b].numpy())
                expected += ((masks[b, c].numpy() * mixture[b].numpy() - target) ** 2).mean() / 2
        torch.testing.assert_close(
            phase_sensitive_spectrum_approximation(masks, mixture, phase_sensitive),
            torch.tensor(expected, dtype=torch.float64))

    def test_equals_msa_for_in_phase_sources_below_the_mixture(self):
        masks, mixture, sources = _masks_and_magnitudes()
        sources = sources * mixture[:, None] / 2  # in [0, S / 2]: nothing truncated
        torch.testing.assert_close(
            phase_sensitive_spectrum_approximation(masks, mixture, sources),
            magnitude_spectrum_approximation(masks, mixture, sources))

    def test_phase_sensitive_magnitudes_of_real_sources(self):
        rng = np.random.default_rng(0)
        sources = rng.normal(scale=0.1, size=(2, 4000)).astype(np.float32)
        grid = FeatureGrid(n_mels=None)
        mixture = grid.stft(sources.sum(0))
        projected = grid_phase_sensitive_magnitudes(grid, sources, mixture)
        # the in-phase parts of the sources add up to the mixture magnitude ...
        np.testing.assert_allclose(projected.sum(0), np.abs(mixture).T, rtol=1e-3, atol=1e-4)
        # ... and none exceeds its own magnitude
        assert np.all(projected <= np.abs(grid.stft(sources)).transpose(0, 2, 1) + 1e-5)
