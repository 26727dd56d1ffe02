"""``tools/train_shipped_model.py``: the training program of the shipped Chimera models
(``--musdb-songs``: MUSDB stems as extra training data)."""

import numpy as np
import pytest
import soundfile as sf


def _song(folder, seconds, rng):
    folder.mkdir(parents=True)
    stems = {name: rng.uniform(-0.1, 0.1, (int(seconds * 44100), 2)).astype(np.float32)
             for name in ("vocals", "drums", "bass", "other")}
    for name, audio in stems.items():
        sf.write(folder / f"{name}.flac", audio, 44100)
    sf.write(folder / "mixture.flac", sum(stems.values()), 44100)


def test_musdb_material_cuts_each_channel_of_the_asked_songs(tool_module, tmp_path):
    trainer = tool_module("train_shipped_model")
    rng = np.random.default_rng(0)
    for name, seconds in (("A", 9.0), ("B", 5.0), ("C", 5.0)):
        _song(tmp_path / name, seconds, rng)
    X, Y, note = trainer._musdb_material(["A", "B"], 3, root=tmp_path, seed=1)
    # A: 2 channels x 2 clips of 4 s, B: 2 x 1; then 3 remixes
    assert len(X) == len(Y) == 6 + 3
    for x, y in zip(X, Y):
        assert x.shape == (64000,) and y.shape == (2, 64000)
        np.testing.assert_allclose(x, y.sum(axis=0), atol=1e-6)
    assert "A + B" in note and "6 4-s clips" in note
    with pytest.raises(SystemExit, match="--musdb-songs.*'D'"):
        trainer._musdb_material(["A", "D"], 3, root=tmp_path)
