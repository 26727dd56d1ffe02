"""Scaling out: joblib n_jobs, grid search on a Dask cluster, training through accelerate."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from fast_settings import make
from sksep import MelFeatures
from sksep.metrics import mirex_globals, separation_report

N = 8000


@pytest.fixture(scope="module")
def data(mir1k_train_small):
    X, Y, groups = mir1k_train_small
    return [x[:N] for x in X[:4]], [y[:, :N] for y in Y[:4]], np.asarray(groups[:4])


# -- joblib n_jobs, and a Dask cluster through joblib -------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    """Two worker processes on loopback, as ``docs/user_guide/scaling.md`` starts them."""
    distributed = pytest.importorskip("distributed", reason="the 'distributed' extra")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


# Threads (cheap to start) check the ordering and assembly of parallel results; the Dask
# workers, separate processes, check that everything crosses process boundaries intact
# (loky, joblib's default, pickles the same way).
BACKENDS = ["threading", "dask"]


def _backend(name, request):
    if name == "dask":
        request.getfixturevalue("dask_client")
    return joblib.parallel_config(backend=name)


class TestParallelEqualsSerial:
    @pytest.mark.parametrize("backend", BACKENDS)
    def test_features(self, data, backend, request):
        X, _, _ = data
        serial = MelFeatures().fit_transform(X)
        with _backend(backend, request):
            parallel = MelFeatures(n_jobs=2).fit_transform(X)
        # Exact: the number, order and shapes of the records and their settings. Within
        # float32 rounding only: the values, because another process or thread count can
        # take other float paths (differences of ~5e-7 were seen on Dask workers).
        assert len(parallel) == len(serial)
        for a, b in zip(serial, parallel):
            assert a.grid == b.grid and a.n_samples == b.n_samples
            assert a.features.shape == b.features.shape and a.stft.shape == b.stft.shape
            np.testing.assert_allclose(b.features, a.features, rtol=0, atol=1e-4)
            np.testing.assert_allclose(b.stft, a.stft, rtol=0,
                                       atol=1e-5 * np.abs(a.stft).max())

    @pytest.fixture(scope="class")
    @classmethod
    def evaluated(cls, data):
        """Two short clips, noisy estimates, and their BSS Eval scores computed serially."""
        X, Y, _ = data
        X, Y = [x[:4000] for x in X[:2]], [y[:, :4000] for y in Y[:2]]
        rng = np.random.default_rng(0)
        Y_pred = [y + 0.05 * rng.standard_normal(y.shape).astype(np.float32) for y in Y]
        return X, Y, Y_pred, mirex_globals(Y, Y_pred, X, n_jobs=1)

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_metrics(self, evaluated, backend, request):
        X, Y, Y_pred, serial = evaluated
        with _backend(backend, request):
            parallel = mirex_globals(Y, Y_pred, X, n_jobs=2)
            report = separation_report(Y, Y_pred, X, n_jobs=2, source_names=["a", "b"])
        # float64 scores: equal to well below any reported digit, not bit for bit.
        for key in ("GNSDR", "GSIR", "GSAR"):
            np.testing.assert_allclose(parallel[key], serial[key], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose([report[name][key] for name in ("a", "b")],
                                       serial[key], rtol=1e-9, atol=1e-9)
        for key, value in serial["per_clip"].items():
            np.testing.assert_allclose(parallel["per_clip"][key], value, rtol=1e-9, atol=1e-9)

    def test_bad_n_jobs(self, data):
        with pytest.raises(ValueError, match=r"n_jobs=0 must be a nonzero integer"):
            MelFeatures(n_jobs=0).fit_transform(data[0])
        with pytest.raises(TypeError, match=r"n_jobs='all' must be an integer"):
            MelFeatures(n_jobs="all").fit(data[0])


def _search():
    pipe = Pipeline([("features", MelFeatures(n_mels=32, deltas=False)),
                     ("separator", make("ChimeraSeparator", features=None))])
    return GridSearchCV(pipe, {"separator__alpha": [0.0, 1.0]}, cv=GroupKFold(2),
                        error_score="raise")


def test_grid_search_on_a_dask_cluster(data, dask_client):
    X, Y, groups = data
    serial = _search().fit(X, Y, groups=groups)

    def executed(dask_worker):
        return dask_worker.state.executed_count

    before = dask_client.run(executed)
    with joblib.parallel_backend("dask"):
        search = _search().fit(X, Y, groups=groups)
    after = dask_client.run(executed)
    # The fits ran on the cluster's workers (how they were spread is the scheduler's call).
    assert len(after) == 2 and sum(after.values()) > sum(before.values()), (before, after)
    assert search.best_params_ == serial.best_params_
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=1e-5)
    estimates = search.predict(X[:1])
    assert estimates[0].shape == Y[0].shape


# -- training through Hugging Face accelerate ------------------------------------------------


@pytest.fixture
def accelerator():
    accelerate = pytest.importorskip("accelerate", reason="the 'accelerate' extra")
    yield accelerate.Accelerator(cpu=True)
    accelerate.state.AcceleratorState._reset_state(True)


@pytest.mark.parametrize("settings", [{}, {"segment_frames": (20, 30), "max_epochs": (1, 1)}],
                         ids=["one-stage", "curriculum"])
def test_training_through_accelerate(accelerator, data, settings):
    X, Y, _ = data
    plain = make("ChimeraSeparator", **settings).fit(X, Y)
    accelerated = make("ChimeraSeparator", **settings, accelerator=accelerator).fit(X, Y)
    # A plain net on ``device`` is left for inference, model files and pickling.
    assert type(accelerated.net_).__name__ == "SeparationNet"
    assert len(accelerated.history_) == len(plain.history_)
    estimates = accelerated.predict(X[:2])
    assert [e.shape for e in estimates] == [y.shape for y in Y[:2]]
    # One CPU process: the accelerator changes where the work runs, not the result.
    np.testing.assert_allclose(estimates[0], plain.predict(X[:1])[0], atol=1e-6)
    assert np.isfinite(accelerated.score(X, Y))


def test_accelerator_must_be_an_accelerator(data):
    with pytest.raises(TypeError, match=r"accelerator='gpu' must be an accelerate.Accelerator "
                                        r"or None"):
        make("ChimeraSeparator", accelerator="gpu").fit(*data[:2])
