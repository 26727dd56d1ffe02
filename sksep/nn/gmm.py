"""Class-conditional Gaussians in an embedding space (Seetharaman et al. 2019), in torch.

* :class:`ClassConditionalGaussians` is the auxiliary network: it maps the one-hot
  vector of each class to the mean, variance and prior of that class's Gaussian.
* :func:`gaussian_log_likelihood`, :func:`gmm_log_posteriors` and :func:`gmm_posteriors`
  are the expectation step: the posterior of each class at every time-frequency bin,
  computed in the log domain with log-sum-exp so that far-away embeddings and tiny
  variances give hard masks instead of ``0 / 0``.
* :func:`fit_gaussian` fits one Gaussian to the (loud) embeddings of an isolated example;
  with :func:`gaussian_log_likelihood` it gives the query-by-example mask of section 4.3.
* :class:`ClassConditionalNetwork` chains the recurrent body, the deep-clustering
  embedding head and the GMM into the network of the paper's Fig. 1.

Covariance types
----------------
``"diag"``
    One diagonal covariance per class: ``D`` variances each.
``"tied_diag"``
    One diagonal covariance shared by all classes.
``"spherical"``
    One variance per class, the same in every dimension.
``"tied_spherical"``
    One variance for every class and dimension: the posterior is then the soft K-means
    of Isik et al. (2016) with ``beta = 1 / variance`` (the paper's best model).

Parametrisation
---------------
The auxiliary network is one linear layer on the one-hot input (for a one-hot input a
deeper network is still a per-class lookup table; it only changes the optimisation).
Its outputs are, per class, the mean (unconstrained), the log-variance and the prior
logit. Variances are ``min_variance + exp(log_variance)``: positive, smooth, and
bounded below so that a class cannot collapse onto a point. Priors are the softmax
of the logits over classes, so they are positive and sum to one. Tied variances are
a free parameter of the auxiliary network that does not depend on the class.
"""

import math

import torch
from torch import nn

from .recurrent import EmbeddingHead, RecurrentBody
from .standardize import StandardizedNetwork

__all__ = [
    "COVARIANCE_TYPES",
    "ClassConditionalGaussians",
    "ClassConditionalNetwork",
    "gaussian_log_likelihood",
    "gmm_log_posteriors",
    "gmm_posteriors",
    "fit_gaussian",
    "query_posteriors",
]

#: The covariance structures of the paper's Table 1.
COVARIANCE_TYPES = ("diag", "tied_diag", "spherical", "tied_spherical")


def _is_spherical(covariance_type):
    """Whether ``covariance_type`` has one variance for all dimensions."""
    return covariance_type in ("spherical", "tied_spherical")


def gaussian_log_likelihood(embedding, means, variances):
    """Log-density of diagonal Gaussians at every embedding.

    Parameters
    ----------
    embedding : Tensor of shape (..., D)
    means : Tensor of shape (K, D)
    variances : Tensor of shape (K, D)
        Diagonal variances, positive.

    Returns
    -------
    log_likelihood : Tensor of shape (..., K)
        ``log N(v | mu_k, diag(variances_k))`` in nats.

    Notes
    -----
    The squared Mahalanobis distance is expanded as ``v^2 . p - 2 v . (mu p) + mu^2 . p``
    (``p`` the precisions) so that no ``(..., K, D)`` tensor is formed: the cost and the
    memory stay those of one ``D x K`` product per bin.
    """
    precisions = variances.reciprocal()
    distance = ((embedding * embedding) @ precisions.T
                - 2.0 * (embedding @ (means * precisions).T)
                + (means * means * precisions).sum(-1))
    log_determinant = variances.log().sum(-1)
    dim = embedding.shape[-1]
    return -0.5 * (distance.clamp_min(0.0) + log_determinant + dim * math.log(2.0 * math.pi))


def gmm_log_posteriors(embedding, means, variances, log_priors):
    """Log-posterior of each component: the expectation step, with log-sum-exp.

    Parameters
    ----------
    embedding : Tensor of shape (..., D)
    means, variances : Tensor of shape (K, D)
    log_priors : Tensor of shape (K,)
        Log of the class priors (summing to one in the linear domain).

    Returns
    -------
    log_posteriors : Tensor of shape (..., K)
        ``log p(k | v)``; ``exp`` of it sums to one over ``K`` at every bin.
    """
    # log_softmax is log-sum-exp with the largest term taken out *before* the sum,
    # ``(l - max) - log(sum(exp(l - max)))``: exact for distant embeddings, where every
    # likelihood underflows, and free of the rounding of ``l - logsumexp(l)`` when ``l``
    # is large (thousands of nats with small variances).
    log_joint = gaussian_log_likelihood(embedding, means, variances) + log_priors
    return torch.log_softmax(log_joint, dim=-1)


def gmm_posteriors(embedding, means, variances, log_priors):
    """Posterior of each component at every embedding (eq. 5): the class masks.

    Same arguments as :func:`gmm_log_posteriors`; returns ``(..., K)`` values in [0, 1]
    that sum to one over ``K``.
    """
    log_joint = gaussian_log_likelihood(embedding, means, variances) + log_priors
    return torch.softmax(log_joint, dim=-1)


def fit_gaussian(embedding, weights=None, *, spherical=False, min_variance=1e-4):
    """Maximum-likelihood Gaussian of a set of embeddings (the query model of section 4.3).

    Parameters
    ----------
    embedding : Tensor of shape (N, D)
    weights : Tensor of shape (N,), optional
        Non-negative weight of each embedding (e.g. 1 for loud bins, 0 for silent ones).
    spherical : bool
        One variance shared by all dimensions (the mean of the per-dimension variances)
        instead of one per dimension.
    min_variance : float
        Floor added to the variances, so that a query whose embeddings coincide still
        gives a proper density.

    Returns
    -------
    mean : Tensor of shape (D,)
    variance : Tensor of shape (D,)
    """
    if weights is None:
        weights = embedding.new_ones(embedding.shape[0])
    weights = weights.to(embedding.dtype).clamp_min(0.0)
    total = weights.sum()
    if not total > 0:
        raise ValueError("fit_gaussian needs at least one embedding with a positive weight")
    mean = (weights[:, None] * embedding).sum(0) / total
    variance = (weights[:, None] * (embedding - mean) ** 2).sum(0) / total
    if spherical:
        variance = variance.mean().expand_as(mean)
    return mean, variance + min_variance


def query_posteriors(embedding, weights, query_mean, query_variance, *, spherical=False,
                     n_iter=10, min_variance=1e-4):
    """Posterior of a query Gaussian against a "rest" Gaussian learned from the mixture.

    Query by example (section 4.3) with a second component: the query Gaussian stays
    fixed, and expectation-maximisation fits one Gaussian and the two priors to what
    the query does not explain. The posterior of the query component is a soft mask
    in [0, 1] that passes what resembles the query and weighs each bin against the
    rest of *this* mixture, instead of against the single most query-like bin.

    Parameters
    ----------
    embedding : Tensor of shape (N, D)
        Embeddings of the mixture's bins.
    weights : Tensor of shape (N,)
        Non-negative weight of each bin in the maximisation step (e.g. 1 for loud
        bins, 0 for silent ones); every bin gets a posterior.
    query_mean, query_variance : Tensor of shape (D,)
        The query Gaussian (:func:`fit_gaussian` of the example's embeddings).
    spherical : bool
        Fit the rest Gaussian with one variance for all dimensions.
    n_iter : int
        Expectation-maximisation steps (each an E-step and an M-step).
    min_variance : float
        Floor of the rest Gaussian's variances.

    Returns
    -------
    posterior : Tensor of shape (N,)
        ``p(query | v)`` at every bin.

    Notes
    -----
    The rest Gaussian starts as the Gaussian of all weighted bins, the priors at one
    half each. If the query explains every weighted bin, the rest keeps its last fit.
    """
    weights = weights.to(embedding.dtype).clamp_min(0.0)
    total = weights.sum()
    if not total > 0:
        raise ValueError("query_posteriors needs at least one bin with a positive weight")
    rest_mean, rest_variance = fit_gaussian(embedding, weights, spherical=spherical,
                                            min_variance=min_variance)
    log_priors = embedding.new_full((2,), -math.log(2.0))

    def expectation():
        return gmm_posteriors(embedding, torch.stack([query_mean, rest_mean]),
                              torch.stack([query_variance, rest_variance]), log_priors)

    for _ in range(n_iter):
        responsibility = weights * expectation()[:, 1]
        rest_mass = responsibility.sum()
        # Stop before the rest Gaussian or either prior collapses.
        if not 1e-6 * total < rest_mass < (1.0 - 1e-6) * total:
            break
        rest_mean, rest_variance = fit_gaussian(embedding, responsibility,
                                                spherical=spherical, min_variance=min_variance)
        rest_prior = rest_mass / total
        log_priors = torch.log(torch.stack([1.0 - rest_prior, rest_prior]))
    return expectation()[:, 0]


class ClassConditionalGaussians(nn.Module):
    """Auxiliary network: one-hot class vector -> mean, variance and prior of a Gaussian.

    Parameters
    ----------
    n_classes : int
        ``C``, the number of source classes.
    embedding_dim : int
        ``D``.
    covariance_type : {"diag", "tied_diag", "spherical", "tied_spherical"}
    init_variance : float
        Variance of every class at initialisation (``1 / beta`` of the soft K-means).
    min_variance : float
        Lower bound of the variances.

    ``forward()`` takes no input (it feeds the ``C`` one-hot vectors through the layer)
    and returns ``means (C, D)``, ``variances (C, D)`` (diagonals, whatever the
    covariance type) and ``log_priors (C,)``.
    """

    def __init__(self, n_classes, embedding_dim, *, covariance_type="tied_spherical",
                 init_variance=0.25, min_variance=1e-3):
        super().__init__()
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type={covariance_type!r} must be one of "
                             f"{', '.join(map(repr, COVARIANCE_TYPES))}")
        self.n_classes = n_classes
        self.embedding_dim = embedding_dim
        self.covariance_type = covariance_type
        self.min_variance = float(min_variance)
        self.n_variances = 1 if _is_spherical(covariance_type) else embedding_dim
        self.tied = covariance_type.startswith("tied")
        n_outputs = embedding_dim + 1 + (0 if self.tied else self.n_variances)
        self.register_buffer("one_hot", torch.eye(n_classes))
        self.linear = nn.Linear(n_classes, n_outputs)
        initial_log_variance = math.log(max(init_variance - self.min_variance, 1e-8))
        with torch.no_grad():
            # Means start at random points of norm ~1, like the unit-norm embeddings, so
            # the classes are told apart from the first step; priors start uniform.
            self.linear.weight.zero_()
            self.linear.bias.zero_()
            self.linear.weight[:embedding_dim].normal_(0.0, 1.0 / math.sqrt(embedding_dim))
            if not self.tied:
                self.linear.bias[embedding_dim + 1:] = initial_log_variance
        if self.tied:
            self.tied_log_variance = nn.Parameter(
                torch.full((self.n_variances,), initial_log_variance))

    def forward(self):
        outputs = self.linear(self.one_hot)  # (C, D + 1 [+ n_variances])
        dim = self.embedding_dim
        means = outputs[:, :dim]
        log_priors = torch.log_softmax(outputs[:, dim], dim=0)
        if self.tied:
            log_variance = self.tied_log_variance.expand(self.n_classes, self.n_variances)
        else:
            log_variance = outputs[:, dim + 1:]
        variances = self.min_variance + log_variance.exp().expand(self.n_classes, dim)
        return means, variances, log_priors


class ClassConditionalNetwork(StandardizedNetwork):
    """Recurrent body, embedding of every time-mel bin, class-conditional GMM masks.

    Parameters
    ----------
    n_features : int
        Input features per frame, standardised with the statistics set by
        :meth:`~sksep.nn.standardize.StandardizedNetwork.set_feature_statistics`.
    n_bins : int
        ``F``: bins of the feature grid that get an embedding and a mask.
    n_classes : int
        ``C``.
    embedding_dim : int
        ``D``.
    covariance_type : str
        See :class:`ClassConditionalGaussians`.

    ``forward(features (batch, T, n_features))`` returns ``(embedding, masks)`` of shapes
    ``(batch, T, F, D)`` (unit norm, as deep clustering needs) and ``(batch, C, T, F)``
    (GMM posteriors, summing to one over classes).
    """

    def __init__(self, n_features, n_bins, n_classes, *, embedding_dim=20,
                 covariance_type="tied_spherical", hidden_size=500, num_layers=4,
                 rnn_type="lstm", dropout=0.0, init_variance=0.25, min_variance=1e-3):
        super().__init__(n_features)
        self.n_bins = n_bins
        self.embedding_dim = embedding_dim
        self.body = RecurrentBody(n_features, hidden_size=hidden_size, num_layers=num_layers,
                                  rnn_type=rnn_type, dropout=dropout)
        self.linear = nn.Linear(self.body.output_size, n_bins * embedding_dim)
        self.embedding_head = EmbeddingHead()
        self.gaussians = ClassConditionalGaussians(
            n_classes, embedding_dim, covariance_type=covariance_type,
            init_variance=init_variance, min_variance=min_variance)

    def embed(self, features):
        """Unit-norm embeddings ``(batch, T, F, D)`` of ``features (batch, T, n_features)``."""
        hidden = self.body(self.standardize(features))
        z = self.linear(hidden).unflatten(-1, (self.n_bins, self.embedding_dim))
        return self.embedding_head(z)

    def forward(self, features):
        embedding = self.embed(features)
        means, variances, log_priors = self.gaussians()
        masks = gmm_posteriors(embedding, means, variances, log_priors)  # (B, T, F, C)
        return embedding, masks.permute(0, 3, 1, 2)
