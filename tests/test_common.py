"""scikit-learn's common estimator checks on every public transformer and estimator.

sksep's estimators read audio: ``X`` is ``(n_clips, n_samples)`` waveforms (or a list
of clips) and ``Y`` the ``(n_clips, n_sources, n_samples)`` sources, not a tabular
``X`` with a 1-D ``y``. The checks that feed them tabular toy data therefore fail by
design; each such check is listed below with the reason, as imbalanced-learn does.
sklearn is never patched, and ``xfail_strict`` makes a listed check that starts to
pass an error, so the list stays honest. Every check not listed must pass.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import sksep
from fast_settings import FAST_SETTINGS, make, public_estimator_names

_SHORT = ("its X holds clips of a few samples, shorter than one STFT window (n_fft "
          "samples); sksep refuses such clips (InvalidInputError naming the clip), so "
          "the fit the check relies on cannot happen")

# Estimators that read waveforms: MelFeatures and every separator.
WAVEFORM_EXPECTED_FAILURES = {
    **{check: _SHORT for check in (
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_pipeline_consistency",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_transformers_unfitted_stateless",
    )},
    "check_estimators_nan_inf": (
        "a fit on NaN/inf is refused with a message naming the NaN samples, but the check "
        "then fits on its finite few-sample clips, which are shorter than one STFT window"),
    "check_fit2d_1sample": (
        "one clip of 10 samples is refused as shorter than one STFT window; the message "
        "talks of samples per clip, not of sklearn's '1 sample' (one row)"),
    "check_fit2d_1feature": (
        "a column of one-sample clips: each is refused as shorter than one STFT window, "
        "not with sklearn's '1 feature' wording (audio samples are not features)"),
    "check_estimators_empty_data_messages": (
        "a clip with no samples is refused as 'X[0] has 0 samples; expected at least "
        "n_fft', not with sklearn's '0 feature(s)' wording"),
    "check_dtype_object": (
        "an object array is read as a list of clips and each clip must be a float array; "
        "sksep refuses object dtype instead of guessing a conversion"),
    "check_transformer_data_not_an_array": (
        "X must be a NumPy array or a list of clips; other array-likes are refused"),
}

_NEEDS_SOURCES = ("transform(records, Y) needs the sources of each clip, and records "
                  "(SpectrogramRecord), not a 2-D array: a mask target is not a "
                  "TransformerMixin (no fit_transform)")
_IGNORES_FIT_INPUT = ("a mask target is configured, not fitted: fit(records=None, Y=None) "
                      "learns nothing and ignores its arguments, so it raises on no input")

# IdealBinaryMask, WienerMask and PhaseSensitiveMask: mask targets (the first two set as
# separator parameters).
TARGET_EXPECTED_FAILURES = {
    **{check: _NEEDS_SOURCES for check in (
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_transformers_unfitted_stateless",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit2d_predict1d",
    )},
    **{check: _IGNORES_FIT_INPUT for check in (
        "check_complex_data",
        "check_estimators_empty_data_messages",
        "check_estimators_nan_inf",
        "check_estimator_sparse_tag",
        "check_fit1d",
    )},
    "check_n_features_in_after_fitting": (
        "targets read records, which have no number of features, so fit sets no "
        "n_features_in_"),
    "check_n_features_in": (
        "targets read records, which have no number of features, so fit sets no "
        "n_features_in_"),
}


def expected_failed_checks(estimator):
    """``{check_name: reason}`` for one estimator (see the module docstring)."""
    if type(estimator).__name__ in ("IdealBinaryMask", "WienerMask", "PhaseSensitiveMask"):
        return TARGET_EXPECTED_FAILURES
    return WAVEFORM_EXPECTED_FAILURES


def _instances():
    # Only registered classes here; test_registry_covers_every_public_estimator fails,
    # naming the class, for one that is not.
    return [make(name) for name in public_estimator_names() if name in FAST_SETTINGS]


class ExpectedCheckFailure(Exception):
    """An expected failure of a common check, re-raised with a one-frame traceback."""


@parametrize_with_checks(_instances(), expected_failed_checks=expected_failed_checks,
                         xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    name = getattr(check, "func", check).__name__
    if name not in expected_failed_checks(estimator):
        check(estimator)
        return
    # pytest formats the traceback of every xfail; through sklearn's estimator_checks
    # module that costs about a second each, so the expected ones are re-raised short.
    try:
        check(estimator)
    except Exception as error:
        raise ExpectedCheckFailure(f"{type(error).__name__}: {error}") from None


@pytest.mark.parametrize("name", public_estimator_names())
def test_registry_covers_every_public_estimator(name):
    assert name in FAST_SETTINGS, f"add fast settings for {name} to tests/fast_settings.py"


def test_registry_has_no_stale_entries():
    stale = sorted(set(FAST_SETTINGS) - set(public_estimator_names()))
    assert not stale, f"fast settings for classes no longer public in sksep: {stale}"


@pytest.mark.parametrize("name", public_estimator_names())
def test_tags_describe_waveform_input(name):
    """The tags the checks above rely on: 2-D waveform arrays in, sources required."""
    tags = make(name).__sklearn_tags__()
    assert tags.input_tags.two_d_array
    separator = issubclass(getattr(sksep, name), sksep.separators._base.BaseSeparator)
    assert tags.target_tags.required == separator
