"""Validation by whole songs: every clip of a held-out song validates, the rest train.

Clips of one song share its singer, mix and arrangement, so a validation clip whose
song also trains measures memory more than separation. The shipped models are chosen
on held-out songs of the training singers, never on the test singers.
"""

import numpy as np

from .._validation import check_int, check_real, short_repr
from ..exceptions import InvalidInputError, InvalidParameterTypeError

__all__ = ["hold_out_songs"]


def hold_out_songs(groups, *, songs=None, fraction=0.1, random_state=0):
    """Split clips into training and validation clips by song.

    Either the songs named by ``songs`` are held out, or a ``fraction`` of the songs
    drawn at random (at least one). Every clip of a held-out song validates; the
    clips of the other songs train.

    Parameters
    ----------
    groups : array-like of str, shape (n_clips,)
        The song of each clip, e.g. the ``groups`` of :func:`load_mir1k`.
    songs : sequence of str, default=None
        The songs to hold out; each must be among ``groups``. ``None`` draws them.
    fraction : float, default=0.1
        With ``songs=None``: the share of the songs held out, in (0, 1), rounded to
        a whole number of songs (at least one, and at least one song left to train).
    random_state : int or None, default=0
        Seed of the draw (``numpy.random.default_rng``); ignored with ``songs``.

    Returns
    -------
    train_index : ndarray of int, shape (n_train_clips,)
        Indices of the clips of the songs that train, in order.
    validation_index : ndarray of int, shape (n_validation_clips,)
        Indices of the clips of the held-out songs, in order.
    held_out : list of str
        The held-out songs, sorted.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``groups`` is empty or not 1-D, a name of ``songs`` is not among ``groups``,
        ``fraction`` is outside (0, 1), or no song would be left to train.

    Examples
    --------
    >>> from sksep.datasets import hold_out_songs
    >>> groups = ["amy_1", "amy_1", "amy_2", "abjones_1", "abjones_1"]
    >>> train, validation, held_out = hold_out_songs(groups, songs=["amy_1"])
    >>> train.tolist(), validation.tolist(), held_out
    ([2, 3, 4], [0, 1], ['amy_1'])
    >>> hold_out_songs(groups, fraction=0.3, random_state=0)[2]
    ['amy_2']
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.size == 0:
        raise InvalidInputError(f"groups must be a non-empty 1-D sequence of song names, "
                                f"one per clip; got shape {groups.shape}")
    groups = groups.astype(str)
    names = np.unique(groups)
    if songs is None:
        fraction = check_real(fraction, name="fraction", minimum=0.0,
                              exclusive_minimum=True)
        if fraction >= 1.0:
            raise InvalidInputError(f"fraction={fraction} must be < 1: some songs must train")
        random_state = check_int(random_state, name="random_state", minimum=0,
                                 allow_none=True)
        rng = np.random.default_rng(random_state)
        held_out = set(rng.choice(names, max(1, round(fraction * len(names))), replace=False))
    else:
        if isinstance(songs, str) or not np.iterable(songs):
            raise InvalidParameterTypeError(f"songs={short_repr(songs)} must be a sequence of "
                                            f"song names, e.g. ['amy_2', 'amy_6']")
        held_out = {str(song) for song in songs}
        missing = sorted(held_out - set(names))
        if missing:
            raise InvalidInputError(f"songs: {missing} are not among the {len(names)} songs "
                                    f"of groups (e.g. {names[:3].tolist()})")
        if not held_out:
            raise InvalidInputError("songs must name at least one song to hold out")
    if len(held_out) >= len(names):
        raise InvalidInputError(f"holding out {len(held_out)} of {len(names)} songs leaves "
                                f"none to train")
    is_held_out = np.isin(groups, sorted(held_out))
    return (np.flatnonzero(~is_held_out), np.flatnonzero(is_held_out),
            sorted(str(song) for song in held_out))
