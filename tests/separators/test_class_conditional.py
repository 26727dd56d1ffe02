"""ClassConditionalSeparator and its GMM layer (Seetharaman et al. 2019)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sksep import ClassConditionalSeparator, MelFeatures
from sksep.nn.gmm import (COVARIANCE_TYPES, ClassConditionalGaussians, fit_gaussian,
                        gaussian_log_likelihood, gmm_log_posteriors, gmm_posteriors,
                        query_posteriors)
from sksep.exceptions import InvalidInputError
from sksep.metrics import si_sdr_improvement

SAMPLE_RATE = 16000
SMALL_FEATURES = MelFeatures(n_mels=40, deltas=False)
TINY = dict(hidden_size=16, num_layers=1, embedding_dim=8, max_epochs=2, segment_frames=50,
            batch_size=8, random_state=0, features=SMALL_FEATURES)
# Settings that actually learn something in seconds (a 1 x 48 BLSTM on 64 mel bands).
SHORT_TRAINING = dict(hidden_size=48, num_layers=1, embedding_dim=8, segment_frames=50,
                      batch_size=8, lr=3e-3, validation_fraction=0.0, patience=None,
                      random_state=0, features=MelFeatures(n_mels=64, deltas=False))


def _short(X, Y, seconds=1.0, n_clips=2):
    n = int(seconds * SAMPLE_RATE)
    return [x[:n] for x in X[:n_clips]], [y[:, :n] for y in Y[:n_clips]]


def _random_gmm(n_bins=7, n_classes=3, dim=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    embedding = torch.randn(n_bins, dim, generator=generator, dtype=torch.float64)
    means = torch.randn(n_classes, dim, generator=generator, dtype=torch.float64)
    variances = torch.rand(n_classes, dim, generator=generator, dtype=torch.float64) + 0.2
    log_priors = torch.log_softmax(torch.randn(n_classes, generator=generator,
                                               dtype=torch.float64), 0)
    return embedding, means, variances, log_priors


# -- synthetic classes for the multi-class test -------------------------------------------

def _clicks(n_samples, rng):
    """Percussive noise bursts (30 ms, 6 ms decay) every 120-300 ms."""
    out = np.zeros(n_samples, np.float32)
    length = int(0.03 * SAMPLE_RATE)
    decay = np.exp(-np.arange(length) / (0.006 * SAMPLE_RATE))
    start = int(rng.uniform(0, 0.1) * SAMPLE_RATE)
    while start < n_samples:
        burst = rng.standard_normal(length) * decay
        out[start:start + length] += burst[:n_samples - start]
        start += int(rng.uniform(0.12, 0.3) * SAMPLE_RATE)
    return out


def _chords(n_samples, rng):
    """Sustained sine chords (root, major third, fifth, octave), a new root every 0.5 s."""
    out = np.zeros(n_samples, np.float32)
    step = SAMPLE_RATE // 2
    for start in range(0, n_samples, step):
        t = np.arange(min(step, n_samples - start)) / SAMPLE_RATE
        ramp = np.minimum(1.0, np.minimum(np.arange(t.size), t.size - np.arange(t.size)) / 400)
        root = rng.choice([110.0, 131.0, 147.0, 165.0, 196.0, 220.0])
        for ratio in (1.0, 1.26, 1.5, 2.0):
            out[start:start + t.size] += ramp * np.sin(2 * np.pi * root * ratio * t
                                                       + rng.uniform(0, 2 * np.pi))
    return out


def _four_class_mixtures(pairs, seed):
    """Mixtures of (vocals, accompaniment) pairs with clicks and chords at the vocals' level."""
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for vocals, accompaniment in pairs:
        level = np.sqrt(np.mean(vocals ** 2))
        extra = []
        for make in (_clicks, _chords):
            signal = make(vocals.size, rng)
            extra.append(signal * level / np.sqrt(np.mean(signal ** 2)))
        sources = np.stack([vocals, accompaniment, *extra]).astype(np.float32)
        X.append(sources.sum(0))
        Y.append(sources)
    return X, Y


# -- the GMM layer --------------------------------------------------------------------------

class TestGMMLayer:
    def test_posteriors_match_scipy_and_sum_to_one(self):
        embedding, means, variances, log_priors = _random_gmm()
        posteriors = gmm_posteriors(embedding, means, variances, log_priors).numpy()
        joint = np.stack([np.exp(lp) * multivariate_normal(m, np.diag(v)).pdf(embedding.numpy())
                          for m, v, lp in zip(means.numpy(), variances.numpy(),
                                              log_priors.numpy())], axis=-1)
        np.testing.assert_allclose(posteriors, joint / joint.sum(-1, keepdims=True), rtol=1e-10)
        np.testing.assert_allclose(posteriors.sum(-1), 1.0, rtol=1e-12)
        log_likelihood = gaussian_log_likelihood(embedding, means, variances).numpy()
        np.testing.assert_allclose(
            log_likelihood[:, 1],
            multivariate_normal(means[1].numpy(), np.diag(variances[1].numpy()))
            .logpdf(embedding.numpy()), rtol=1e-10)

    def test_stable_when_every_likelihood_underflows(self):
        embedding = torch.tensor([[30.0, 0.0], [-30.0, 0.0], [0.0, 1e-3]])
        means = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
        variances = torch.full((2, 2), 1e-4)
        log_priors = torch.log(torch.tensor([0.5, 0.5]))
        assert torch.exp(gaussian_log_likelihood(embedding, means, variances)).max() == 0
        posteriors = gmm_posteriors(embedding, means, variances, log_priors)
        assert torch.isfinite(posteriors).all()
        np.testing.assert_allclose(posteriors.numpy(), [[1, 0], [0, 1], [0.5, 0.5]], atol=1e-6)

    def test_gradcheck_expectation_step(self):
        inputs = tuple(t.requires_grad_() for t in _random_gmm(n_bins=5, n_classes=3, dim=3))
        assert torch.autograd.gradcheck(gmm_log_posteriors, inputs)
        assert torch.autograd.gradcheck(gaussian_log_likelihood, inputs[:3])

    @pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
    def test_gradcheck_through_auxiliary_network(self, covariance_type):
        gaussians = ClassConditionalGaussians(3, 4, covariance_type=covariance_type).double()
        names = [name for name, _ in gaussians.named_parameters()]
        embedding = _random_gmm(n_bins=5, n_classes=3, dim=4)[0].requires_grad_()

        def posteriors(embedding, *parameters):
            params = dict(zip(names, parameters))
            means, variances, log_priors = torch.func.functional_call(gaussians, params, ())
            return gmm_log_posteriors(embedding, means, variances, log_priors)

        parameters = [p.detach().clone().requires_grad_() for p in gaussians.parameters()]
        assert torch.autograd.gradcheck(posteriors, (embedding, *parameters))

    def test_gradcheck_query_likelihood(self):
        embedding, *_ = _random_gmm(n_bins=9, dim=3)
        mixture = _random_gmm(n_bins=4, dim=3, seed=1)[0].requires_grad_()
        query = embedding.requires_grad_()

        def likelihood(query, mixture, spherical):
            mean, variance = fit_gaussian(query, spherical=spherical)
            return gaussian_log_likelihood(mixture, mean[None], variance[None])

        for spherical in (False, True):
            assert torch.autograd.gradcheck(lambda q, m: likelihood(q, m, spherical),
                                            (query, mixture))

    @staticmethod
    def _naive_query_posteriors(points, weights, query_mean, query_variance, n_iter):
        """Expectation-maximisation of the rest Gaussian, written out with scipy."""
        rest_mean = np.average(points, axis=0, weights=weights)
        rest_variance = np.average((points - rest_mean) ** 2, axis=0, weights=weights) + 1e-4
        priors = np.array([0.5, 0.5])

        def posteriors():
            joint = np.stack([
                priors[0] * multivariate_normal(query_mean, np.diag(query_variance)).pdf(points),
                priors[1] * multivariate_normal(rest_mean, np.diag(rest_variance)).pdf(points),
            ], axis=-1)
            return joint / joint.sum(-1, keepdims=True)

        for _ in range(n_iter):
            responsibility = weights * posteriors()[:, 1]
            rest_mean = np.average(points, axis=0, weights=responsibility)
            rest_variance = np.average((points - rest_mean) ** 2, axis=0,
                                       weights=responsibility) + 1e-4
            priors = np.array([1 - responsibility.sum() / weights.sum(),
                               responsibility.sum() / weights.sum()])
        return posteriors()[:, 0]

    @pytest.mark.parametrize("n_iter", [0, 1, 5])
    def test_query_posteriors_match_naive_em(self, n_iter):
        rng = np.random.default_rng(0)
        points = np.concatenate([rng.normal(0.0, 0.4, size=(30, 3)),
                                 rng.normal(1.5, 0.6, size=(40, 3))])
        weights = (rng.random(70) > 0.2).astype(float)
        query_mean, query_variance = np.zeros(3), np.full(3, 0.2)
        posterior = query_posteriors(torch.from_numpy(points), torch.from_numpy(weights),
                                     torch.from_numpy(query_mean),
                                     torch.from_numpy(query_variance), n_iter=n_iter)
        expected = self._naive_query_posteriors(points, weights, query_mean, query_variance,
                                                n_iter)
        np.testing.assert_allclose(posterior.numpy(), expected, rtol=1e-8, atol=1e-12)

    def test_query_posteriors_separate_two_clusters(self):
        # The query resembles the first cluster; EM moves the rest Gaussian onto the
        # second, so the mask passes the first and stops the second.
        rng = np.random.default_rng(1)
        near, far = rng.normal(0.0, 0.1, size=(50, 4)), rng.normal(1.0, 0.1, size=(80, 4))
        query = torch.from_numpy(rng.normal(0.0, 0.1, size=(60, 4)))
        mean, variance = fit_gaussian(query, spherical=True)
        points = torch.from_numpy(np.concatenate([near, far]))
        posterior = query_posteriors(points, torch.ones(130, dtype=torch.float64), mean,
                                     variance, spherical=True).numpy()
        assert posterior[:50].min() > 0.99 and posterior[50:].max() < 0.01
        # The paper's likelihood / max mask is far below one on most of the first cluster.
        likelihood = gaussian_log_likelihood(points, mean[None], variance[None])[:, 0]
        paper = torch.exp(likelihood - likelihood.max()).numpy()
        assert np.median(paper[:50]) < 0.5

    def test_query_posteriors_ignore_zero_weight_bins_in_the_fit(self):
        rng = np.random.default_rng(2)
        points = torch.from_numpy(rng.normal(size=(40, 3)))
        outliers = torch.from_numpy(rng.normal(50.0, 1.0, size=(5, 3)))
        mean, variance = torch.zeros(3, dtype=torch.float64), torch.full((3,), 0.5,
                                                                         dtype=torch.float64)
        alone = query_posteriors(points, torch.ones(40, dtype=torch.float64), mean, variance)
        weights = torch.cat([torch.ones(40), torch.zeros(5)]).double()
        padded = query_posteriors(torch.cat([points, outliers]), weights, mean, variance)
        np.testing.assert_allclose(padded[:40].numpy(), alone.numpy(), rtol=1e-10)
        assert padded.shape == (45,) and torch.isfinite(padded).all()

    def test_query_posteriors_need_a_weighted_bin(self):
        with pytest.raises(ValueError, match="at least one bin with a positive weight"):
            query_posteriors(torch.zeros(4, 2), torch.zeros(4), torch.zeros(2), torch.ones(2))

    def test_fit_gaussian_is_weighted_maximum_likelihood(self):
        rng = np.random.default_rng(0)
        points = rng.normal(size=(50, 3))
        weights = (rng.random(50) > 0.4).astype(float)
        mean, variance = fit_gaussian(torch.from_numpy(points), torch.from_numpy(weights),
                                      min_variance=0.0)
        kept = points[weights > 0]
        np.testing.assert_allclose(mean.numpy(), kept.mean(0))
        np.testing.assert_allclose(variance.numpy(), kept.var(0))
        _, spherical = fit_gaussian(torch.from_numpy(points), spherical=True, min_variance=0.0)
        np.testing.assert_allclose(spherical.numpy(), np.full(3, points.var(0).mean()))

    @pytest.mark.parametrize("covariance_type, n_outputs", [
        ("diag", 2 * 5 + 1), ("tied_diag", 5 + 1), ("spherical", 5 + 2), ("tied_spherical", 5 + 1)])
    def test_auxiliary_network_shapes_and_constraints(self, covariance_type, n_outputs):
        gaussians = ClassConditionalGaussians(3, 5, covariance_type=covariance_type,
                                              min_variance=1e-3)
        # The paper's diagonal case maps the one-hot vector to 2D + 1 numbers.
        assert gaussians.linear.out_features == n_outputs
        with torch.no_grad():
            for parameter in gaussians.parameters():
                parameter.normal_(0, 3)
            means, variances, log_priors = gaussians()
        assert means.shape == variances.shape == (3, 5)
        assert (variances > 1e-3).all()
        np.testing.assert_allclose(log_priors.exp().sum().item(), 1.0, rtol=1e-6)
        if covariance_type.startswith("tied"):
            assert (variances == variances[0]).all()
        else:
            assert not (variances == variances[0]).all()
        if "spherical" in covariance_type:
            assert (variances == variances[:, :1]).all()


# -- the estimator --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vocals_model(mir1k_train_small):
    """A two-class model trained for a few seconds on six 2-second MIR-1K clips."""
    X, Y, _ = mir1k_train_small
    return ClassConditionalSeparator(source_names=("vocals", "accompaniment"), max_epochs=40,
                                     **SHORT_TRAINING).fit(X, Y)


class TestTwoClassModel:
    def test_masks_are_posteriors_and_estimates_sum_to_mixture(self, vocals_model,
                                                               mir1k_train_small):
        X, _, _ = mir1k_train_small
        masks = vocals_model.predict_masks(X[:2])
        for mask in masks:
            assert mask.shape == (2, 1 + len(X[0]) // 128, 64)
            assert mask.min() >= 0 and mask.max() <= 1
            np.testing.assert_allclose(mask.sum(0), 1.0, atol=1e-5)
        estimates = vocals_model.predict(X[:2])
        np.testing.assert_allclose(estimates[0].sum(0), X[0], atol=1e-4)

    def test_learned_gaussians_are_exposed(self, vocals_model):
        est = vocals_model
        assert est.source_names_ == ("vocals", "accompaniment")
        assert est.means_.shape == est.variances_.shape == (2, 8)
        assert np.all(est.variances_ == est.variances_[0, 0])  # tied spherical
        assert isinstance(est.beta_, float)
        np.testing.assert_allclose(est.beta_, 1.0 / est.variances_[0, 0])
        # Trained: beta moved away from its initial value 4 (variance 0.25).
        assert abs(est.beta_ - 4.0) > 1e-3
        np.testing.assert_allclose(est.priors_.sum(), 1.0)

    def test_embeddings(self, vocals_model, mir1k_train_small):
        X, _, _ = mir1k_train_small
        embeddings = vocals_model.embed(X[:2])
        assert [e.shape for e in embeddings] == [(1 + len(x) // 128, 64, 8) for x in X[:2]]
        np.testing.assert_allclose(np.linalg.norm(embeddings[0], axis=-1), 1.0, atol=1e-4)

    @pytest.mark.parametrize("mask", ["posterior", "likelihood"])
    def test_query_by_example_extracts_vocals(self, vocals_model, mir1k_train_small, mask):
        """The isolated vocals of one clip extract the vocals of the five other mixtures.

        The mixtures were seen in training (this checks the query mechanism on a model
        trained for seconds; generalisation is the benchmark's job). The likelihood mask
        is sharp, so single pairs vary; their mean is clearly positive.
        """
        X, Y, _ = mir1k_train_small
        query, others = Y[3][0], [0, 1, 2, 4, 5]
        extracted = vocals_model.query([query], [X[i] for i in others], mask=mask)
        gains = [si_sdr_improvement(Y[i][0], e, X[i]) for i, e in zip(others, extracted)]
        assert [e.shape for e in extracted] == [X[i].shape for i in others]
        assert np.mean(gains) > 1.0, gains
        assert sum(g > 0 for g in gains) >= 4, gains

    def test_query_pairing_and_array_output(self, vocals_model, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        single = vocals_model.query(Y[3][0], np.stack(X[:2]))  # one 1-D example, 2-D mixtures
        assert isinstance(single, np.ndarray) and single.shape == (2, len(X[0]))
        paired = vocals_model.query([Y[3][0], Y[3][0]], X[:2])
        np.testing.assert_allclose(paired[1], single[1], atol=1e-6)
        with pytest.raises(InvalidInputError, match="X_query has 2 examples but X_mixture has 3"):
            vocals_model.query([Y[3][0], Y[4][0]], X[:3])

    def test_save_and_load(self, vocals_model, mir1k_train_small, tmp_path):
        import sksep
        X, _, _ = mir1k_train_small
        path = vocals_model.save(tmp_path / "cc.sksep")
        loaded = sksep.load(path)
        assert loaded.source_names_ == vocals_model.source_names_
        assert loaded.beta_ == vocals_model.beta_
        np.testing.assert_array_equal(loaded.predict(X[:1])[0], vocals_model.predict(X[:1])[0])


def test_four_classes_each_mask_recovers_its_source(mir1k_train_small):
    """Vocals, accompaniment, percussive clicks and sine chords, trained for seconds.

    Scored on new mixtures: each clip's vocals with the next clip's accompaniment and
    freshly drawn clicks and chords. The mixture's SI-SDR for each source is about
    -5 dB; every source must gain more than 3 dB on average.
    """
    X, Y, _ = mir1k_train_small
    X_train, Y_train = _four_class_mixtures([(y[0], y[1]) for y in Y], seed=0)
    X_new, Y_new = _four_class_mixtures(
        [(Y[i][0], Y[(i + 1) % len(Y)][1]) for i in range(len(Y))], seed=1)
    classes = ("vocals", "accompaniment", "clicks", "chords")
    est = ClassConditionalSeparator(source_names=classes, max_epochs=25, **{
        **SHORT_TRAINING, "hidden_size": 32, "features": MelFeatures(n_mels=40, deltas=False)})
    est.fit(X_train, Y_train)
    assert est.source_names_ == classes and est.means_.shape == (4, 8)
    masks = est.predict_masks(X_new[:1])[0]
    np.testing.assert_allclose(masks.sum(0), 1.0, atol=1e-5)
    estimates = est.predict(X_new)
    gains = np.array([[si_sdr_improvement(y[c], p[c], x) for c in range(4)]
                      for x, y, p in zip(X_new, Y_new, estimates)])
    assert np.all(gains.mean(0) > 3.0), dict(zip(classes, gains.mean(0)))


class TestCovarianceTypes:
    @pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES + (None,))
    def test_trains_and_separates(self, covariance_type, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X, Y = _short(X, Y, seconds=0.5)
        est = ClassConditionalSeparator(covariance_type=covariance_type, max_epochs=25,
                                        **{**SHORT_TRAINING, "hidden_size": 32})
        est.fit(X, Y)
        losses = est.history_[:, "train_loss"]
        assert min(losses) < 0.7 * losses[0], losses
        assert est.source_names_ == ("source0", "source1")
        masks = est.predict_masks(X[:1])[0]
        assert masks.min() >= 0 and masks.max() <= 1
        assert [e.shape for e in est.predict(X)] == [y.shape for y in Y]
        if covariance_type is None:
            assert est.means_ is None and est.beta_ is None
            with pytest.raises(InvalidInputError, match="covariance_type=None is the mask"):
                est.query(X[0], X[:1])
            with pytest.raises(InvalidInputError, match="embed needs the embedding space"):
                est.embed(X[:1])
            return
        np.testing.assert_allclose(masks.sum(0), 1.0, atol=1e-5)
        if covariance_type == "spherical":
            assert est.beta_.shape == (2,)
            np.testing.assert_allclose(est.beta_, 1.0 / est.variances_[:, 0])
        elif covariance_type.endswith("diag"):
            assert est.beta_ is None
        tied = covariance_type.startswith("tied")
        assert np.all(est.variances_ == est.variances_[0]) == tied


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_objective_reaches_variances_and_priors(covariance_type, mir1k_train_small):
    """The training loss has a non-zero gradient for every parameter of the Gaussians:
    the variances (beta of the tied spherical GMM) and the priors can move."""
    X, Y, _ = mir1k_train_small
    X, Y = _short(X, Y, seconds=0.5)
    est = ClassConditionalSeparator(covariance_type=covariance_type, max_epochs=1,
                                    **SHORT_TRAINING).fit(X, Y)
    module, objective, dataset = est.training_problem(X, Y)
    features, targets = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    objective(module(features), targets).backward()
    gaussians = module.gaussians
    dim = est.embedding_dim
    bias = gaussians.linear.bias.grad
    # The prior logits are row ``dim`` of the one-hot layer: its weights (one per
    # class) get a gradient; its bias shifts every logit alike, which the softmax ignores.
    assert gaussians.linear.weight.grad[dim].abs().min() > 0
    assert bias[dim].abs() < 1e-6 * gaussians.linear.weight.grad[dim].abs().max()
    variance_grad = (gaussians.tied_log_variance.grad if gaussians.tied
                     else bias[dim + 1:])
    assert variance_grad.abs().min() > 0, variance_grad


def test_tied_spherical_beta_is_not_identifiable():
    """Scaling the tied variance by k and mapping the means to k * means + v, with v
    solving (k - 1) / 2 (|m1|^2 - |m2|^2) + (m1 - m2) . v = 0, leaves every posterior
    unchanged: with two classes the masks fix beta only together with the means, so
    training need not move beta (issue 16: it stays near its initial 4)."""
    embedding, means, _, log_priors = _random_gmm(n_bins=50, n_classes=2, dim=4)
    variances = torch.full_like(means, 0.25)
    k = 3.0
    difference = means[0] - means[1]
    gap = (k - 1) / 2 * (means[0].square().sum() - means[1].square().sum())
    v = -gap * difference / difference.square().sum()
    moved = gmm_posteriors(embedding, k * means + v, k * variances, log_priors)
    torch.testing.assert_close(moved, gmm_posteriors(embedding, means, variances, log_priors))


class TestComposition:
    def test_pipeline_and_grid_search(self, mir1k_train_small):
        X, Y, songs = mir1k_train_small
        X, Y = _short(X, Y, seconds=1.0, n_clips=6)
        separator = ClassConditionalSeparator(**{k: v for k, v in TINY.items()
                                                 if k != "features"})
        pipe = Pipeline([("features", MelFeatures(n_mels=40, deltas=False)),
                         ("separator", separator)])
        pipe.fit(X, Y)
        assert [e.shape for e in pipe.predict(X)] == [y.shape for y in Y]
        search = GridSearchCV(pipe, {"separator__covariance_type": [None, "tied_spherical"],
                                     "separator__embedding_dim": [4, 8]},
                              cv=GroupKFold(2), error_score="raise")
        search.fit(X, Y, groups=songs)
        assert set(search.best_params_) == {"separator__covariance_type",
                                            "separator__embedding_dim"}
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    def test_clone_and_pickle(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X, Y = _short(X, Y)
        est = ClassConditionalSeparator(source_names=("vocals", "accompaniment"), **TINY)
        cloned = clone(est).get_params(deep=False)
        assert cloned.pop("features").get_params() == SMALL_FEATURES.get_params()
        assert cloned == {k: v for k, v in est.get_params(deep=False).items() if k != "features"}
        pickle.dumps(est)
        est.fit(X, Y)
        restored = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(restored.predict(X[:1])[0], est.predict(X[:1])[0])
        np.testing.assert_array_equal(restored.means_, est.means_)

    def test_same_random_state_same_predictions(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X, Y = _short(X, Y)
        a = ClassConditionalSeparator(**TINY).fit(X, Y).predict(X[:1])[0]
        b = ClassConditionalSeparator(**TINY).fit(X, Y).predict(X[:1])[0]
        np.testing.assert_array_equal(a, b)
        c = ClassConditionalSeparator(**{**TINY, "random_state": 1}).fit(X, Y).predict(X[:1])[0]
        assert not np.array_equal(a, c)


class TestBadInput:
    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        # embedding_dim=32: a query needs at least 33 loud bins to fit its Gaussian.
        return ClassConditionalSeparator(**{**TINY, "max_epochs": 1, "embedding_dim": 32}
                                         ).fit(*_short(X, Y))

    def test_before_fit(self, mir1k_train_small):
        X, _, _ = mir1k_train_small
        with pytest.raises(NotFittedError):
            ClassConditionalSeparator().predict(X[:1])
        with pytest.raises(NotFittedError):
            ClassConditionalSeparator().query(X[0], X[:1])
        with pytest.raises(NotFittedError):
            ClassConditionalSeparator().embed(X[:1])

    @pytest.mark.filterwarnings("ignore:classes was renamed source_names:FutureWarning")
    @pytest.mark.parametrize("names", ["source_names", "classes"])
    def test_class_names_must_match_sources(self, names, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X, Y = _short(X, Y)
        est = ClassConditionalSeparator(**{names: ("vocals", "drums", "bass")}, **TINY)
        with pytest.raises(InvalidInputError, match=names + r"=\('vocals', 'drums', 'bass'\) "
                                                    r"has 3 names but Y has 2 sources"):
            est.fit(X, Y)

    @pytest.mark.filterwarnings("ignore:classes was renamed source_names:FutureWarning")
    @pytest.mark.parametrize("params, match", [
        ({"covariance_type": "full"}, "covariance_type='full' must be one of 'diag', "
                                      "'tied_diag', 'spherical', 'tied_spherical', None"),
        ({"source_names": "vocals"}, "source_names='vocals' must be a tuple of source names"),
        ({"source_names": ("vocals", "vocals")}, "has repeated names"),
        ({"source_names": ("vocals",)}, "expected at least 2"),
        ({"source_names": ("vocals", 3)}, "must hold non-empty strings"),
        ({"classes": "vocals"}, "classes='vocals' must be a tuple of source names"),
        ({"classes": ("vocals", "vocals")}, "has repeated names"),
        ({"classes": ("vocals",)}, "expected at least 2"),
        ({"classes": ("vocals", 3)}, "must hold non-empty strings"),
        ({"dc_weight": -1.0}, "dc_weight=-1.0 must be >= 0"),
        ({"embedding_dim": 0}, "embedding_dim=0 must be an integer >= 1"),
        ({"source_names": ("a", "b"), "classes": ("a", "b")},
         r"source_names=\('a', 'b'\) and classes=\('a', 'b'\) name the same thing"),
    ])
    def test_bad_params(self, params, match, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=match):
            ClassConditionalSeparator(**{**TINY, **params}).fit(*_short(X, Y))

    def test_bad_query_mask(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        with pytest.raises(InvalidInputError,
                           match="mask='binary' must be one of 'posterior', 'likelihood'"):
            fitted.query(X[0], X[:1], mask="binary")

    def test_silent_query(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=r"X_query\[0\] is silent"):
            fitted.query(np.zeros(8000, np.float32), X[:1])

    def test_query_with_too_few_loud_bins(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        # A 37 ms sine blip: 20 loud bins on the 40-band grid, too few for a 32-D Gaussian.
        t = np.arange(600) / SAMPLE_RATE
        blip = (np.sin(2 * np.pi * 1000 * t) * np.hanning(600)).astype(np.float32)
        with pytest.raises(InvalidInputError,
                           match=r"X_query\[0\] has 20 time-frequency bins above the loudness "
                                 r"threshold; expected at least 33"):
            fitted.query([blip], X[:1])

    def test_too_short_query_and_bad_mixture(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        with pytest.raises(InvalidInputError,
                           match=r"X_query\[0\] has 100 samples; expected at least 512"):
            fitted.query(X[0][:100], X[:1])
        bad = X[0].copy()
        bad[3] = np.nan
        with pytest.raises(InvalidInputError, match=r"X_mixture\[1\] contains 1 NaN"):
            fitted.query(X[0], [X[0], bad])

    def test_wrong_number_of_sources_at_score(self, fitted, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 3 sources; expected 2"):
            fitted.score(X[:1], [np.concatenate([Y[0], Y[0][:1]])])


class TestFormerNames:
    """``classes`` / ``classes_``, the former names of ``source_names`` / ``source_names_``."""

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return _short(X, Y, seconds=0.5)

    def test_classes_still_names_the_sources_with_a_future_warning(self, data):
        est = ClassConditionalSeparator(classes=("vocals", "accompaniment"),
                                        **{**TINY, "max_epochs": 1})
        with pytest.warns(FutureWarning, match="classes was renamed source_names"):
            est.fit(*data)
        assert est.source_names_ == ("vocals", "accompaniment")
        with pytest.warns(FutureWarning, match="classes_ was renamed source_names_"):
            assert est.classes_ == ("vocals", "accompaniment")

    def test_model_files_with_the_former_names_load(self, data, tmp_path):
        import sksep
        est = ClassConditionalSeparator(source_names=("vocals", "accompaniment"),
                                        **{**TINY, "max_epochs": 1}).fit(*data)
        path = est.save(tmp_path / "new.sksep")
        # A file written before the rename: the names under classes / classes_, the
        # placeholder names under source_names_, no source_names parameter.
        payload = torch.load(path, weights_only=True)
        payload["params"]["classes"] = payload["params"].pop("source_names")
        payload["attributes"]["classes_"] = payload["attributes"]["source_names_"]
        payload["attributes"]["source_names_"] = {"__tuple__": ["source0", "source1"]}
        torch.save(payload, tmp_path / "old.sksep")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = sksep.load(tmp_path / "old.sksep")
        assert loaded.source_names == ("vocals", "accompaniment")
        assert loaded.classes == "deprecated"
        assert loaded.source_names_ == ("vocals", "accompaniment")
        np.testing.assert_array_equal(loaded.predict(data[0][:1])[0], est.predict(data[0][:1])[0])
        def plain_params(estimator):
            return {k: v for k, v in estimator.get_params(deep=False).items() if k != "features"}
        assert plain_params(loaded) == plain_params(sksep.load(path))
