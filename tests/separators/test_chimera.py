import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from fast_settings import overfit_losses
from sksep import ChimeraSeparator, DeepClusteringSeparator, MelFeatures
from sksep.exceptions import InvalidInputError

TINY = dict(hidden_size=16, num_layers=1, embedding_dim=8, max_epochs=2, segment_frames=50,
            batch_size=8, random_state=0)


class TestOverfitOneBatch:
    """Each estimator must drive its loss well below where it started on one real batch."""

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return [x[:8000] for x in X[:2]], [y[:, :8000] for y in Y[:2]]

    @pytest.mark.parametrize("params", [
        {"alpha": 0.1, "mi_objective": "mmsa"},
        {"alpha": 0.0, "mi_objective": "msa"},
        {"alpha": 0.5, "rnn_type": "gru"},
        {"alpha": 0.0, "mi_objective": "psa"},
    ])
    def test_chimera(self, batch, params):
        settings = {**TINY, "max_epochs": 60, "lr": 3e-3, "hidden_size": 32, **params}
        first, best = overfit_losses(ChimeraSeparator(**settings), *batch)
        assert best < 0.5 * first, (first, best)

    def test_deep_clustering(self, batch):
        settings = {**TINY, "max_epochs": 60, "lr": 3e-3, "hidden_size": 32}
        first, best = overfit_losses(DeepClusteringSeparator(**settings), *batch)
        assert best < 0.6 * first, (first, best)

    def test_deep_clustering_whitened_kmeans(self, batch):
        settings = {**TINY, "max_epochs": 60, "lr": 3e-3, "hidden_size": 32,
                    "dc_objective": "wkm"}
        first, best = overfit_losses(DeepClusteringSeparator(**settings), *batch)
        floor = TINY["embedding_dim"] - 2  # D - C: every bin at its source's centroid
        assert best - floor < 0.6 * (first - floor), (first, best)


class TestComposition:
    def test_design_block_runs(self, mir1k_train_small):
        X, Y, songs = mir1k_train_small
        pipe = Pipeline([("features", MelFeatures(n_mels=150, deltas=True)),
                         ("separator", ChimeraSeparator(alpha=0.1, embedding_dim=20, **{
                             k: v for k, v in TINY.items() if k != "embedding_dim"}))])
        pipe.fit(X, Y)
        estimates = pipe.predict(X)
        assert [e.shape for e in estimates] == [y.shape for y in Y]
        assert np.isfinite(pipe.score(X, Y))
        search = GridSearchCV(pipe, {"separator__alpha": [0.0, 0.1, 0.5, 1.0],
                                     "separator__embedding_dim": [10, 20]},
                              cv=GroupKFold(3), error_score="raise")
        search.fit(X, Y, groups=songs)
        assert set(search.best_params_) == {"separator__alpha", "separator__embedding_dim"}
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    def test_bare_estimator_on_waveforms_and_clone_pickle(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = ChimeraSeparator(**TINY)
        assert clone(est).get_params() == est.get_params()
        pickle.dumps(est)
        est.fit(X[:3], Y[:3])
        restored = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(restored.predict(X[:1])[0], est.predict(X[:1])[0])

    def test_targets_reachable_by_grid_search(self):
        pipe = Pipeline([("separator", ChimeraSeparator())])
        from sksep import IdealBinaryMask
        pipe.set_params(separator__dc_target=IdealBinaryMask(), separator__dc_target__threshold_db=-30)
        assert pipe.get_params()["separator__dc_target__threshold_db"] == -30

    def test_array_in_array_out(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        X_arr, Y_arr = np.stack(X[:3]), np.stack(Y[:3])
        out = ChimeraSeparator(**TINY).fit(X_arr, Y_arr).predict(X_arr)
        assert isinstance(out, np.ndarray) and out.shape == Y_arr.shape


class TestReproducibility:
    def test_same_random_state_same_predictions(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        a = ChimeraSeparator(**TINY).fit(X[:3], Y[:3]).predict(X[3:4])[0]
        b = ChimeraSeparator(**TINY).fit(X[:3], Y[:3]).predict(X[3:4])[0]
        np.testing.assert_array_equal(a, b)

    def test_different_random_state_differs(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        a = ChimeraSeparator(**TINY).fit(X[:3], Y[:3]).predict(X[3:4])[0]
        b = ChimeraSeparator(**{**TINY, "random_state": 1}).fit(X[:3], Y[:3]).predict(X[3:4])[0]
        assert not np.array_equal(a, b)



class TestValidationData:
    """``fit(X, Y, validation_data=(X_valid, Y_valid))`` trains on all of X, validates on the rest."""

    @staticmethod
    def _segments_per_epoch(est, kind):
        return sum(batch[f"{kind}_batch_size"] for batch in est.history_[0, "batches"]
                   if f"{kind}_batch_size" in batch)

    def test_all_of_X_trains_and_the_given_clips_validate(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = ChimeraSeparator(**{**TINY, "validation_fraction": 0.5})
        est.fit(X[:3], Y[:3], validation_data=(X[3:5], Y[3:5]))
        trained = self._segments_per_epoch(est, "train")
        validated = self._segments_per_epoch(est, "valid")
        default = ChimeraSeparator(**{**TINY, "validation_fraction": 0.5}).fit(X[:3], Y[:3])
        # validation_fraction=0.5 would hold out clips of X; validation_data takes its place
        assert trained > self._segments_per_epoch(default, "train")
        assert validated > 0 and np.all(np.isfinite(est.history_[:, "valid_loss"]))
        # every X clip trains: as many segments as a fit on X without any validation
        no_split = ChimeraSeparator(**{**TINY, "validation_fraction": 0.0}).fit(X[:3], Y[:3])
        assert trained == self._segments_per_epoch(no_split, "train")
        assert not hasattr(est, "_n_validation_clips")
        # the fitted model predicts as long as its mixtures
        assert est.predict(X[5:6])[0].shape == Y[5].shape

    def test_records_pipeline_and_bad_pairs(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        features = MelFeatures().fit(X)
        records = features.transform(X)
        est = ChimeraSeparator(**TINY)
        est.fit(records[:3], Y[:3], validation_data=(records[3:5], Y[3:5]))
        assert len(est.history_) == TINY["max_epochs"]
        pipe = Pipeline([("features", MelFeatures()), ("separator", ChimeraSeparator(**TINY))])
        pipe.fit(X[:3], Y[:3], separator__validation_data=(records[3:5], Y[3:5]))
        with pytest.raises(InvalidInputError, match="must be a pair .*tuple of length 3"):
            est.fit(X[:3], Y[:3], validation_data=(X[3:5], Y[3:5], None))
        with pytest.raises(InvalidInputError, match="must be a pair .*got str"):
            est.fit(X[:3], Y[:3], validation_data="valid")
        with pytest.raises(InvalidInputError, match="at least one clip"):
            est.fit(X[:3], Y[:3], validation_data=([], []))
        with pytest.raises(InvalidInputError, match=r"Y_valid\[0\] has 1 sources; expected 2"):
            est.fit(X[:3], Y[:3], validation_data=(X[3:5], [y[:1] for y in Y[3:5]]))
        with pytest.raises(InvalidInputError, match="validation_data: .*fitted on"):
            est.fit(records[:3], Y[:3], validation_data=(X[3:5], Y[3:5]))


class TestHeadsAndOutputs:
    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return ChimeraSeparator(**{**TINY, "segment_frames": (40, 80), "max_epochs": (1, 1)}).fit(X, Y)

    def test_both_heads_give_masks_that_sum_to_one(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        mi_masks = fitted.predict_masks(X[:1])[0]
        np.testing.assert_allclose(mi_masks.sum(0), 1, atol=1e-5)
        fitted.set_params(head="dc")
        try:
            dc_masks = fitted.predict_masks(X[:1])[0]
            assert set(np.unique(dc_masks)) <= {0.0, 1.0}
            np.testing.assert_array_equal(dc_masks.sum(0), 1)
            estimates = fitted.predict(X[:1])[0]
            np.testing.assert_allclose(estimates.sum(0), X[0], atol=1e-5)
            assert fitted.prediction_head() == "dc" and fitted.sources_are_named()
        finally:
            fitted.set_params(head="mi")

    def test_curriculum_and_embeddings(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        assert fitted.inference_frames_ == 80
        assert len(fitted.history_) == 2
        embedding = fitted.embed(X[:1])[0]
        assert embedding.shape == (1 + len(X[0]) // 128, 150, 8)
        np.testing.assert_allclose(np.linalg.norm(embedding, axis=-1), 1, atol=1e-4)

    def test_deep_clustering_unnamed_is_permutation_invariant(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        dc = DeepClusteringSeparator(**{**TINY, "max_epochs": 1}, cluster_naming=None).fit(X[:2], Y[:2])
        assert dc.permutation_invariant_
        assert not dc.sources_are_named()
        assert np.isfinite(dc.score(X[:2], Y[:2]))
        named = DeepClusteringSeparator(**{**TINY, "max_epochs": 1}).fit(X[:2], Y[:2])
        assert not named.permutation_invariant_
        assert named.sources_are_named()  # two sources, the low-frequency rule

    def test_alpha_one_predicts_with_dc_head(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        est = ChimeraSeparator(**{**TINY, "max_epochs": 1}, alpha=1.0).fit(X[:2], Y[:2])
        masks = est.predict_masks(X[:1])[0]
        assert set(np.unique(masks)) <= {0.0, 1.0}
        assert est.prediction_head() == "dc"
        assert est.sources_are_named()  # two sources, named by the low-frequency rule

    def test_four_clusters_are_not_named(self, mir1k_train_small):
        """K-means clusters of more than two sources get no reliable names, though
        they come in a fixed order (matched to the mask-inference head's masks)."""
        X, Y, _ = mir1k_train_small
        four = [np.concatenate([y / 2, y / 2]) for y in Y[:2]]
        est = ChimeraSeparator(**{**TINY, "max_epochs": 1}, head="dc").fit(X[:2], four)
        assert est.prediction_head() == "dc" and not est.permutation_invariant_
        assert not est.sources_are_named()
        est.set_params(head="mi")
        assert est.prediction_head() == "mi" and est.sources_are_named()

    @pytest.mark.parametrize("params, head", [({}, "mi"), ({"head": "dc"}, "dc"),
                                              ({"alpha": 1.0, "head": "mi"}, "dc"),
                                              ({"alpha": 0.0, "head": "dc"}, "dc")])
    def test_prediction_head_is_the_separators_answer(self, params, head):
        assert ChimeraSeparator(**params).prediction_head() == head
        assert DeepClusteringSeparator().prediction_head() == "dc"

    def test_unfitted_separator_cannot_say_whether_its_sources_are_named(self):
        with pytest.raises(NotFittedError):
            ChimeraSeparator().sources_are_named()


class TestBadInput:
    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        return ChimeraSeparator(**{**TINY, "max_epochs": 1}).fit(X[:2], Y[:2])

    def test_predict_before_fit(self, mir1k_train_small):
        with pytest.raises(NotFittedError):
            ChimeraSeparator().predict(mir1k_train_small[0])

    def test_wrong_number_of_sources_at_score(self, fitted, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 1 sources; expected 2"):
            fitted.score(X[:1], [Y[0][:1]])

    def test_mismatched_lengths(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=r"Y\[0\] has 31999 samples but its mixture X\[0\] has 32000"):
            ChimeraSeparator(**TINY).fit(X[:1], [Y[0][:, :-1]])

    def test_nan_and_short_clips(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        bad = X[0].copy()
        bad[10] = np.nan
        with pytest.raises(InvalidInputError, match=r"X\[1\] contains 1 NaN"):
            fitted.predict([X[0], bad])
        with pytest.raises(InvalidInputError, match=r"X\[0\] has 100 samples; expected at least 512"):
            fitted.predict([X[0][:100]])

    def test_one_source(self, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match="expected at least 2"):
            ChimeraSeparator(**TINY).fit(X[:2], [y[:1] for y in Y[:2]])

    def test_records_from_other_sample_rate(self, fitted, mir1k_train_small):
        X, _, _ = mir1k_train_small
        records = MelFeatures(sample_rate=22050).fit_transform(X[:1])
        with pytest.raises(InvalidInputError, match="was fitted on"):
            fitted.predict(records)

    @pytest.mark.parametrize("params, match", [
        ({"alpha": 1.5}, "alpha=1.5 must be <= 1"),
        ({"rnn_type": "transformer"}, "rnn_type='transformer' must be one of 'lstm', 'gru'"),
        ({"embedding_dim": 0}, "embedding_dim=0 must be an integer >= 1"),
        ({"segment_frames": (100, 0)}, "segment_frames=0"),
        ({"mi_objective": "sdr"}, "mi_objective='sdr'"),
        ({"dc_objective": "lda"}, "dc_objective='lda' must be one of 'dc', 'wkm'"),
        ({"max_epochs": (1, 2, 3)}, "one entry per"),
    ])
    def test_bad_params(self, params, match, mir1k_train_small):
        X, Y, _ = mir1k_train_small
        with pytest.raises(InvalidInputError, match=match):
            ChimeraSeparator(**{**TINY, **params}).fit(X[:2], Y[:2])
