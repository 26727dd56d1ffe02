"""What a separator, or a Pipeline ending in one, answers about itself.

scikit-learn keeps the step that predicts on the Pipeline (``Pipeline._final_estimator``);
these functions are the one place the rest of sksep asks for it, and for the answers
that step gives: whether its outputs come in a fixed order, and whether they can carry
the names of the sources. The module imports nothing, so that the modules below the
estimators (the metrics, the full-band masks, long songs) can ask without importing the
estimators themselves.
"""

__all__ = ["final_step", "outputs_unordered", "sources_named"]


def final_step(estimator):
    """The separator itself, or the last step of a Pipeline.

    Parameters
    ----------
    estimator : separator, or Pipeline ending in one

    Returns
    -------
    separator
        ``estimator.steps[-1][1]`` for a Pipeline, else ``estimator``.
    """
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if isinstance(steps, list) and steps else estimator


def outputs_unordered(estimator):
    """Whether the separator's outputs come in no fixed order (``permutation_invariant_``).

    Deep clustering without a naming rule orders its K-means clusters arbitrarily: each
    clip, and each block of a long song, may order the sources differently, and scores
    must match the outputs to the true sources first.

    Parameters
    ----------
    estimator : separator, or Pipeline ending in one

    Returns
    -------
    bool
    """
    return bool(getattr(final_step(estimator), "permutation_invariant_", False))


def sources_named(estimator):
    """Whether each output of the fitted separator is reliably the source of its index,
    so that it may carry that source's name (the separator's ``sources_are_named``).

    Parameters
    ----------
    estimator : fitted separator, or Pipeline ending in one

    Returns
    -------
    bool
        For an estimator that is not an sksep separator: whether its outputs come in a
        fixed order (:func:`outputs_unordered`).
    """
    separator = final_step(estimator)
    answer = getattr(separator, "sources_are_named", None)
    return answer() if callable(answer) else not outputs_unordered(separator)
