import pytest
import torch

import numpy as np

from sksep import FeatureGrid
from sksep._spectral import grid_phase_sensitive_magnitudes
from sksep.losses import (DC_OBJECTIVES, MI_OBJECTIVES, binary_cross_entropy,
                          chimera_objective, class_conditional_objective,
                          deep_clustering_loss, deep_clustering_objective,
                          dominant_source_objective, l1_spectrogram_loss,
                          magnitude_spectrum_approximation, masked_mean,
                          masked_magnitude_spectrum_approximation, naive_deep_clustering_loss,
                          naive_whitened_kmeans_loss, phase_sensitive_spectrum_approximation,
                          soft_mask_objective, unet_objective, whitened_kmeans_loss)


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


def _valid(batch=3, n_frames=7):
    """Real frames of a batch of segments: the last two are padded, one of them heavily."""
    valid = torch.ones(batch, n_frames, dtype=torch.float64)
    valid[1, 5:] = 0
    valid[2, 2:] = 0
    return valid


class TestMaskedMean:
    def test_pooled_against_loop(self):
        values, valid = torch.rand(3, 7, 4, dtype=torch.float64), _valid()
        real = [values[b, t].mean() for b in range(3) for t in range(7) if valid[b, t]]
        torch.testing.assert_close(masked_mean(values, valid), torch.stack(real).mean())

    def test_per_example_against_loop(self):
        values, valid = torch.rand(3, 7, 4, dtype=torch.float64), _valid()
        means = [torch.stack([values[b, t] for t in range(7) if valid[b, t]]).mean()
                 for b in range(3)]
        torch.testing.assert_close(masked_mean(values, valid, per_example=True),
                                   torch.stack(means).mean())

    def test_without_valid_and_all_real_frames_is_the_plain_mean(self):
        values = torch.rand(3, 7, 4, 2, dtype=torch.float64)
        ones = torch.ones(3, 7, dtype=torch.float64)
        for per_example in (False, True):
            torch.testing.assert_close(masked_mean(values, per_example=per_example),
                                       values.mean())
            torch.testing.assert_close(masked_mean(values, ones, per_example=per_example),
                                       values.mean())

    def test_padding_is_ignored_and_an_empty_segment_counts_zero(self):
        values, valid = torch.rand(2, 5, dtype=torch.float64), torch.zeros(2, 5,
                                                                          dtype=torch.float64)
        valid[0, :2] = 1
        changed = values.clone()
        changed[:, 2:] = 1e6
        assert float(masked_mean(changed, valid)) == pytest.approx(float(values[0, :2].mean()))
        assert float(masked_mean(changed, valid, per_example=True)) == pytest.approx(
            float(values[0, :2].mean()) / 2)
        assert float(masked_mean(values, torch.zeros_like(valid))) == 0.0


class TestBinaryCrossEntropy:
    def test_against_formula_on_real_frames(self):
        masks, _, _ = _masks_and_magnitudes(batch=3)
        reference = torch.rand_like(masks)
        valid = _valid()
        per_bin = -(reference * masks.log() + (1 - reference) * (1 - masks).log())
        real = [per_bin[b, :, t].mean() for b in range(3) for t in range(7) if valid[b, t]]
        torch.testing.assert_close(binary_cross_entropy(masks, reference, valid),
                                   torch.stack(real).mean())

    def test_zero_for_binary_references_reached(self):
        reference = torch.tensor([1.0, 0.0], dtype=torch.float64).reshape(1, 2, 1, 1)
        assert float(binary_cross_entropy(reference, reference)) == 0.0


def _embedding_targets(batch=3, n_frames=7, n_bins=5, dim=4, n_sources=3):
    embedding = torch.nn.functional.normalize(
        torch.randn(batch, n_frames, n_bins, dim, dtype=torch.float64), dim=-1)
    labels = torch.randint(0, n_sources, (batch, n_frames, n_bins), dtype=torch.uint8)
    weights = (torch.rand(batch, n_frames, n_bins, dtype=torch.float64) > 0.3).double()
    return embedding, labels, weights


class TestDeepClusteringObjective:
    @pytest.mark.parametrize("dc_objective", ["dc", "wkm"])
    def test_is_the_loss_of_the_flattened_bins_without_padding(self, dc_objective):
        embedding, labels, weights = _embedding_targets()
        valid = _valid()
        expected = []
        for b in range(3):  # one segment at a time, its real frames only
            real = valid[b].bool()
            V = embedding[b, real].reshape(1, -1, 4)
            Y = torch.nn.functional.one_hot(labels[b, real].long(), 3).reshape(1, -1, 3)
            expected.append(DC_OBJECTIVES[dc_objective](V, Y, weights[b, real].reshape(1, -1)))
        loss = deep_clustering_objective(embedding, labels, weights, valid, n_sources=3,
                                         dc_objective=dc_objective)
        torch.testing.assert_close(loss, torch.stack(expected).mean())

    def test_against_naive_affinities(self):
        embedding, labels, weights = _embedding_targets(batch=2)
        Y = torch.nn.functional.one_hot(labels.long(), 3).reshape(2, -1, 3)
        naive = naive_deep_clustering_loss(embedding.reshape(2, -1, 4), Y, weights.reshape(2, -1))
        torch.testing.assert_close(
            deep_clustering_objective(embedding, labels, weights, n_sources=3), naive)
        unweighted = naive_deep_clustering_loss(embedding.reshape(2, -1, 4), Y)
        torch.testing.assert_close(deep_clustering_objective(embedding, labels, n_sources=3),
                                   unweighted)


def _chimera_batch(batch=3, n_frames=7, n_bins=5, n_sources=2):
    embedding, labels, weights = _embedding_targets(batch, n_frames, n_bins, 4, n_sources)
    masks = torch.softmax(torch.randn(batch, n_sources, n_frames, n_bins,
                                      dtype=torch.float64), 1)
    targets = {"labels": labels, "weights": weights, "valid": _valid(batch, n_frames),
               "mixture": torch.rand(batch, n_frames, n_bins, dtype=torch.float64),
               "reference": torch.rand(batch, n_frames, n_sources, n_bins,
                                       dtype=torch.float64)}
    return (embedding, masks), targets


class TestChimeraObjective:
    @pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
    @pytest.mark.parametrize("mi_objective", ["mmsa", "msa", "psa"])
    def test_weighs_the_two_heads_losses(self, alpha, mi_objective):
        (embedding, masks), targets = _chimera_batch()
        valid = targets["valid"]
        dc = deep_clustering_objective(embedding, targets["labels"], targets["weights"], valid,
                                       n_sources=2)
        mi = MI_OBJECTIVES[mi_objective](masks, targets["mixture"],
                                         targets["reference"].transpose(1, 2), valid)
        torch.testing.assert_close(
            chimera_objective((embedding, masks), targets, alpha=alpha,
                              mi_objective=mi_objective),
            alpha * dc + (1 - alpha) * mi)

    def test_pure_heads_need_only_their_targets(self):
        (embedding, masks), targets = _chimera_batch()
        dc_only = {key: targets[key] for key in ("labels", "weights", "valid")}
        mi_only = {key: targets[key] for key in ("mixture", "reference", "valid")}
        assert float(chimera_objective((embedding, masks), dc_only, alpha=1.0,
                                       mi_objective="mmsa")) > 0
        assert float(chimera_objective((embedding, masks), mi_only, alpha=0.0,
                                       mi_objective="mmsa")) > 0


class TestClassConditionalObjective:
    def test_against_loop_with_projection(self):
        (embedding, masks), targets = _chimera_batch(n_bins=5)
        n_freq = 9
        projection = torch.rand(n_freq, 5, dtype=torch.float64) * 2  # some products above 1
        mixture = torch.rand(3, 7, n_freq, dtype=torch.float64)
        sources = torch.rand(3, 7, 2, n_freq, dtype=torch.float64)
        valid = targets["valid"]
        per_segment = []
        for b in range(3):
            errors = []
            for t in range(7):
                if not valid[b, t]:
                    continue
                for f in range(n_freq):
                    error = 0.0
                    for c in range(2):
                        mask = min(max(float(masks[b, c, t] @ projection[f]), 0.0), 1.0)
                        error += abs(mask * float(mixture[b, t, f]) - float(sources[b, t, c, f]))
                    errors.append(error)
            per_segment.append(np.mean(errors))
        l1 = np.mean(per_segment)
        targets = dict(targets, mixture=mixture, reference=sources)
        loss = class_conditional_objective((embedding, masks), targets, dc_weight=0.0,
                                           projection=projection)
        assert float(loss) == pytest.approx(l1, rel=1e-10)
        dc = deep_clustering_objective(embedding, targets["labels"], targets["weights"], valid,
                                       n_sources=2)
        loss = class_conditional_objective((embedding, masks), targets, dc_weight=0.5,
                                           projection=projection)
        assert float(loss) == pytest.approx(l1 + 0.5 * float(dc), rel=1e-10)

    def test_without_projection_is_the_l1_loss_of_clamped_masks(self):
        (embedding, masks), targets = _chimera_batch()
        masks = 1.5 * masks - 0.2  # outside [0, 1]: clamped
        expected = l1_spectrogram_loss(masks.clamp(0, 1), targets["mixture"],
                                       targets["reference"].transpose(1, 2), targets["valid"])
        torch.testing.assert_close(
            class_conditional_objective((embedding, masks), targets, dc_weight=0.0), expected)


class TestConvObjectives:
    """Moved from test_conv.py with the objectives (the ratio mask is now ``reference``)."""

    def test_soft_mask_objective_matches_naive(self):
        rng = np.random.default_rng(0)
        outputs = rng.uniform(size=(2, 3, 5, 4)).astype(np.float32)
        ratio = rng.uniform(size=(2, 5, 3, 4)).astype(np.float32)
        valid = np.ones((2, 5), np.float32)
        valid[1, 3:] = 0
        errors = [((outputs[b, :, t] - ratio[b, t]) ** 2).mean()
                  for b in range(2) for t in range(5) if valid[b, t]]
        loss = soft_mask_objective(torch.from_numpy(outputs),
                                   {"reference": torch.from_numpy(ratio),
                                    "valid": torch.from_numpy(valid)})
        assert float(loss) == pytest.approx(np.mean(errors), rel=1e-5)

    def test_dominant_source_objective_matches_naive(self):
        rng = np.random.default_rng(0)
        log_probabilities = torch.log_softmax(torch.randn(2, 3, 5, 4), dim=1)
        labels = rng.integers(0, 3, size=(2, 5, 4))
        valid = torch.ones(2, 5)
        expected = np.mean([-float(log_probabilities[b, labels[b, t, k], t, k])
                            for b in range(2) for t in range(5) for k in range(4)])
        loss = dominant_source_objective(log_probabilities,
                                         {"labels": torch.from_numpy(labels), "valid": valid})
        assert float(loss) == pytest.approx(expected, rel=1e-5)

    def test_weighted_conv_objectives_match_naive(self):
        rng = np.random.default_rng(1)
        log_probabilities = torch.log_softmax(torch.randn(2, 3, 5, 4, dtype=torch.float64), 1)
        labels = rng.integers(0, 3, size=(2, 5, 4))
        outputs = torch.from_numpy(rng.uniform(size=(2, 3, 5, 4)))
        ratio = rng.uniform(size=(2, 5, 3, 4))
        weights = rng.uniform(size=(2, 5, 4))
        valid = np.ones((2, 5))
        valid[1, 2:] = 0
        real = [(b, t, k) for b in range(2) for t in range(5) for k in range(4) if valid[b, t]]
        total = sum(weights[b, t, k] for b, t, k in real)
        nll = sum(-float(log_probabilities[b, labels[b, t, k], t, k]) * weights[b, t, k]
                  for b, t, k in real) / total
        mse = sum(float(((outputs[b, :, t, k].numpy() - ratio[b, t, :, k]) ** 2).mean())
                  * weights[b, t, k] for b, t, k in real) / total
        targets = {"labels": torch.from_numpy(labels), "reference": torch.from_numpy(ratio),
                   "weights": torch.from_numpy(weights), "valid": torch.from_numpy(valid)}
        assert float(dominant_source_objective(log_probabilities, targets)) == pytest.approx(nll)
        assert float(soft_mask_objective(outputs, targets)) == pytest.approx(mse)
        # weights of one everywhere give the unweighted objectives
        ones = {**targets, "weights": torch.ones(2, 5, 4, dtype=torch.float64)}
        plain = {key: value for key, value in targets.items() if key != "weights"}
        assert float(dominant_source_objective(log_probabilities, ones)) == pytest.approx(
            float(dominant_source_objective(log_probabilities, plain)))

    def test_dominant_source_objective_on_real_frames_only(self):
        log_probabilities = torch.log_softmax(torch.randn(2, 3, 5, 4, dtype=torch.float64), 1)
        labels = torch.randint(0, 3, (2, 5, 4), dtype=torch.uint8)
        valid = torch.ones(2, 5, dtype=torch.float64)
        valid[0, 2:] = 0
        expected = np.mean([-float(log_probabilities[b, int(labels[b, t, k]), t, k])
                            for b in range(2) for t in range(5) for k in range(4)
                            if valid[b, t]])
        loss = dominant_source_objective(log_probabilities, {"labels": labels, "valid": valid})
        assert float(loss) == pytest.approx(expected, rel=1e-10)


class TestUNetObjective:
    """Moved from test_unet.py with the objective."""

    def test_objective_is_bce_plus_chimera_loss(self):
        torch.manual_seed(0)
        masks = torch.softmax(torch.randn(2, 2, 6, 5), dim=1)
        reference = torch.softmax(torch.randn(2, 6, 2, 5), dim=2)
        valid = torch.ones(2, 6)
        targets = {"reference": reference, "valid": valid,
                   "labels": reference.argmax(2), "weights": torch.ones(2, 6, 5),
                   "mixture": torch.rand(2, 6, 5)}
        ref = reference.transpose(1, 2)
        bce = -(ref * masks.log() + (1 - ref) * (1 - masks).log()).mean()
        assert float(unet_objective(masks, targets)) == pytest.approx(float(bce), rel=1e-5)
        embedding = torch.nn.functional.normalize(torch.randn(2, 6, 5, 3), dim=-1)
        hybrid = unet_objective((masks, embedding, masks), targets, hybrid=True, alpha=0.3,
                                chimera_weight=0.5)
        chimera = chimera_objective((embedding, masks), targets, alpha=0.3, mi_objective="mmsa")
        assert float(hybrid) == pytest.approx(float(bce + 0.5 * chimera), rel=1e-5)

    def test_chimera_weight_zero_is_the_bce_alone(self):
        (embedding, chimera_masks), targets = _chimera_batch()
        masks = torch.softmax(torch.randn_like(chimera_masks), 1)
        ratio = torch.softmax(targets["reference"], 2)
        targets = dict(targets, reference=ratio)
        bce = binary_cross_entropy(masks, ratio.transpose(1, 2), targets["valid"])
        torch.testing.assert_close(
            unet_objective((masks, embedding, chimera_masks), targets, hybrid=True,
                           chimera_weight=0.0), bce)
