"""``tools/ship_musdb_transfer.py``: the all-songs model ships only when every left-out song
gains, with the left-out estimate in its registry entry."""

import json

import pytest

SONGS = ["A", "B", "C"]


@pytest.fixture
def ship(tool_module):
    return tool_module("ship_musdb_transfer")


def _rows(*vocal_gains):
    return [{"song": song, "seed": 0, "gain": [gain, 0.5]}
            for song, gain in zip(SONGS, vocal_gains)]


def test_shipping_needs_a_vocals_gain_on_every_left_out_song(ship):
    assert ship.worth_shipping(_rows(2.0, 0.5, 0.1))
    assert not ship.worth_shipping(_rows(2.0, -0.1, 3.0))
    assert not ship.worth_shipping(_rows(2.0))  # one song is not a result


def test_ship_copies_the_all_songs_model_and_registers_the_estimate(ship, tmp_path):
    from _release import ROOT

    work, models = tmp_path / "work", tmp_path / "models"
    (work / "ship").mkdir(parents=True)
    models.mkdir()
    (work / "ship" / "m.sksep").write_bytes(b"weights")
    entry = {"file": "m.sksep", "description": "Chimera network",
             "training": f"tools/train_shipped_model.py --checkpoint {ROOT}/b/ckpt"}
    (work / "ship" / "registry.json").write_text(
        json.dumps({ship.SHIPPED: entry}))
    result = {"rows": _rows(2.0, 1.0), "summary": {"vocals": {"mean": 1.5, "std": 0.71},
                                                   "accompaniment": {"mean": 0.5, "std": 0.0}}}
    registry = ship.ship(result, work=work, models=models)
    assert (models / "m.sksep").read_bytes() == b"weights"
    shipped = json.loads(registry.read_text())[ship.SHIPPED]
    assert "+1.50 ± 0.71 dB (A +2.00, B +1.00;" in shipped["description"]
    assert "--checkpoint b/ckpt; reproduced by" in shipped["training"]
    with pytest.raises(SystemExit, match="not shipped"):
        ship.ship({**result, "rows": _rows(2.0, -1.0)}, work=work, models=models)
    with pytest.raises(SystemExit, match="no trained"):
        ship.ship(result, work=tmp_path / "elsewhere", models=models)
