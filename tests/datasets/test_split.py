"""sksep.datasets.hold_out_songs: validation by whole songs."""

from pathlib import Path

import numpy as np
import pytest

from sksep.datasets import hold_out_songs, load_mir1k
from sksep.exceptions import InvalidInputError, InvalidParameterTypeError

MIR1K = Path(__file__).resolve().parents[3] / "shared" / "data" / "MIR-1K"
GROUPS = ["a_1", "a_1", "a_2", "b_1", "b_2", "b_2", "b_3", "a_1"]


class TestHoldOutSongs:
    def test_named_songs_validate_and_the_rest_train(self):
        train, validation, held_out = hold_out_songs(GROUPS, songs=("b_2", "a_1"))
        assert held_out == ["a_1", "b_2"]
        assert validation.tolist() == [0, 1, 4, 5, 7]
        assert train.tolist() == [2, 3, 6]

    def test_no_song_is_on_both_sides(self):
        train, validation, held_out = hold_out_songs(GROUPS, fraction=0.4, random_state=3)
        groups = np.array(GROUPS)
        assert set(groups[train]).isdisjoint(groups[validation])
        assert sorted(set(groups[validation])) == held_out
        assert len(held_out) == 2  # round(0.4 * 5 songs)
        assert sorted(np.concatenate([train, validation]).tolist()) == list(range(len(GROUPS)))

    def test_the_draw_is_seeded(self):
        draws = {tuple(hold_out_songs(GROUPS, random_state=seed)[2]) for seed in range(20)}
        assert len(draws) > 1  # the seed matters ...
        assert hold_out_songs(GROUPS, random_state=7)[2] == hold_out_songs(GROUPS,
                                                                          random_state=7)[2]

    def test_at_least_one_song_is_held_out(self):
        assert len(hold_out_songs(GROUPS, fraction=0.01)[2]) == 1

    def test_the_shipped_models_validation_songs(self):
        # chimera-mir1k (train_shipped_model.py --remixes) and hourglass-mir1k validate on
        # the two songs the default draw holds out of MIR-1K's training singers.
        data = load_mir1k(MIR1K, "train")
        train, validation, held_out = hold_out_songs(data.groups)
        assert held_out == ["amy_2", "amy_6"]
        assert (len(train), len(validation)) == (157, 18)

    @pytest.mark.parametrize("kwargs, error, message", [
        ({"groups": []}, InvalidInputError, "groups must be a non-empty 1-D sequence"),
        ({"groups": [["a", "b"]]}, InvalidInputError, r"got shape \(1, 2\)"),
        ({"songs": ["c_9"]}, InvalidInputError, r"songs: \['c_9'\] are not among the 5 songs"),
        ({"songs": "a_1"}, InvalidParameterTypeError, "songs='a_1' must be a sequence"),
        ({"songs": []}, InvalidInputError, "songs must name at least one song"),
        ({"songs": ["a_1", "a_2", "b_1", "b_2", "b_3"]}, InvalidInputError,
         "holding out 5 of 5 songs leaves none to train"),
        ({"fraction": 0.0}, InvalidInputError, "fraction=0.0 must be > 0"),
        ({"fraction": 1.0}, InvalidInputError, "fraction=1.0 must be < 1"),
        ({"fraction": 0.95}, InvalidInputError, "leaves none to train"),
        ({"fraction": "half"}, InvalidParameterTypeError, "fraction='half' must be a real"),
        ({"random_state": -1}, InvalidInputError, "random_state=-1 must be an integer >= 0"),
    ])
    def test_arguments_are_validated(self, kwargs, error, message):
        kwargs = {"groups": GROUPS, **kwargs}
        with pytest.raises(error, match=message):
            hold_out_songs(kwargs.pop("groups"), **kwargs)
