"""``tools/ship_conv_campaign.py``: a campaign model ships only when it beats
``chimera-mir1k`` on the validation songs."""

import json

import pytest


@pytest.fixture
def ship(tool_module):
    yield tool_module("ship_conv_campaign")
    # conv_campaign builds bfloat16 accelerators, whose state accelerate keeps globally.
    import accelerate
    accelerate.state.AcceleratorState._reset_state(True)


def _curve(name, points):
    return {"name": name, "seed": 0, "description": name, "parameters": 1000,
            "chunks": [{"cpu_seconds": 60.0 * m, "epochs": e, "best_epoch": e,
                        "best_valid_loss": 1.0 / e, "vocals_si_sdri": v,
                        "accompaniment_si_sdri": v} for m, e, v in points]}


def _run_folder(tmp_path, vocals):
    folder = tmp_path / "hg64-8k-seed0"
    folder.mkdir()
    (folder / "curve.json").write_text(json.dumps(_curve("hg64-8k", [(15, 5, vocals)])))
    (folder / "model.sksep").write_bytes(b"weights")
    return folder


def test_ship_refuses_a_model_not_better_than_chimera_mir1k(ship, tmp_path, monkeypatch):
    _run_folder(tmp_path, 9.0)
    monkeypatch.setattr(ship.campaign, "shipped_references", lambda names: {
        "chimera-mir1k": {"vocals": {"SI-SDRi": 9.17}}})
    models = tmp_path / "models"
    with pytest.raises(SystemExit, match="not shipped: 9.00 dB vocals SI-SDRi on the "
                                         "validation songs, chimera-mir1k 9.17"):
        ship.ship("hg64-8k", 0, "hourglass-mir1k", root=tmp_path, models=models)
    assert not models.exists()
