"""``benchmarks/musdb_transfer.py``: MUSDB stems as extra training data
(``tools/train_shipped_model.py --musdb-songs``), scored on the song each run left out."""

import numpy as np
import pytest
import soundfile as sf

SONGS = ["A", "B", "C"]


@pytest.fixture
def transfer(benchmark_module):
    return benchmark_module("musdb_transfer")


def test_each_run_leaves_out_one_song_and_the_baseline_hears_none(transfer, tmp_path):
    commands = transfer.training_commands(SONGS, seed=3, work=tmp_path)
    assert list(commands) == ["mir1k-seed3", "musdb_out0-seed3", "musdb_out1-seed3",
                              "musdb_out2-seed3"]
    assert "--musdb-songs" not in commands["mir1k-seed3"]
    for index, song in enumerate(SONGS):
        argv = commands[f"musdb_out{index}-seed3"]
        heard = argv[argv.index("--musdb-songs") + 1:argv.index("--checkpoint")]
        assert heard == [s for s in SONGS if s != song]
        assert argv[argv.index("--models-dir") + 1] == str(tmp_path / f"musdb_out{index}-seed3")
        assert argv[argv.index("--seed") + 1] == "3"
    # every run has the same recipe: only the data differs
    recipes = {tuple(argv[2:argv.index("--seed")]) for argv in commands.values()}
    assert len(recipes) == 1


def test_held_out_song_names_the_song_a_run_never_heard(transfer):
    assert transfer.held_out_song("mir1k", SONGS) is None
    assert transfer.held_out_song("musdb_out1", SONGS) == "B"
    for bad in ("musdb_out3", "musdb_outx", "vmr"):
        with pytest.raises(ValueError, match=bad):
            transfer.held_out_song(bad, SONGS)


def _record(lever, seed, musdb, songs=(), valid=9.0, test=7.5):
    return {"name": f"{lever}-seed{seed}", "lever": lever, "seed": seed, "musdb": musdb,
            "musdb_songs": list(songs), "epochs": 15, "train_seconds": 900.0,
            "validation": {"vocals": {"SI-SDRi": valid}},
            "test": {"mi": {"vocals": {"GNSDR": test}}}}


def test_gains_pair_each_left_out_song_with_the_baseline_of_the_same_seed(transfer):
    base = {"A": [4.0, 3.0], "B": [5.0, 2.0], "C": [6.0, 1.0]}
    records = [_record("mir1k", 0, base),
               _record("mir1k", 1, {song: [0.0, 0.0] for song in SONGS}),
               _record("musdb_out0", 0, {"A": [5.0, 3.5], "B": [9, 9], "C": [9, 9]}, "BC"),
               _record("musdb_out2", 0, {"A": [9, 9], "B": [9, 9], "C": [5.0, 2.0]}, "AB",
                       valid=8.5, test=7.75),
               _record("musdb_out1", 2, {"A": [9, 9], "B": [9, 9], "C": [9, 9]}, "AC")]
    rows, summary = transfer.transfer_table(records, SONGS)
    assert [(row["song"], row["seed"]) for row in rows] == [("A", 0), ("C", 0)]  # seed 2: no base
    assert rows[0]["gain"] == pytest.approx([1.0, 0.5])
    assert rows[1]["gain"] == pytest.approx([-1.0, 1.0])
    assert rows[1]["mir1k_gain"] == pytest.approx([-0.5, 0.25])  # what MIR-1K pays
    assert summary["vocals"]["mean"] == pytest.approx(0.0)
    assert summary["vocals"]["std"] == pytest.approx(np.std([1.0, -1.0], ddof=1))
    assert summary["accompaniment"]["mean"] == pytest.approx(0.75)
    assert transfer.transfer_table(records[:3], SONGS)[1] is None  # one row: no spread

    result = {"songs": SONGS, "rows": rows, "summary": summary, "runs": records[:4]}
    text = transfer.render(result)
    assert "| A | 0 | 4.00 | 5.00 | +1.00 |" in text
    assert "9.00 *trained*" in text and "| musdb_out0-seed0 | 15 | 15 | 9.00 | 7.50 | 5.00 |" \
        in text


def _song(folder, seconds, rng):
    folder.mkdir(parents=True)
    stems = {name: rng.uniform(-0.1, 0.1, (int(seconds * 44100), 2)).astype(np.float32)
             for name in ("vocals", "drums", "bass", "other")}
    for name, audio in stems.items():
        sf.write(folder / f"{name}.flac", audio, 44100)
    sf.write(folder / "mixture.flac", sum(stems.values()), 44100)


def test_song_scores_separate_every_song_folder(benchmark_module, tmp_path):
    from sksep.separators import ChimeraSeparator

    recipe = benchmark_module("shipped_recipe")
    rng = np.random.default_rng(1)
    for name in ("B", "A"):
        _song(tmp_path / "songs" / name, 1.5, rng)
    X = [rng.uniform(-0.1, 0.1, 16000).astype(np.float32) for _ in range(2)]
    Y = [np.stack([x, np.zeros_like(x)]) for x in X]
    model = ChimeraSeparator(hidden_size=4, num_layers=1, embedding_dim=4, max_epochs=1,
                             random_state=0).fit([y.sum(0) for y in Y], Y)
    path = model.save(tmp_path / "tiny.sksep")
    scores = recipe.musdb_song_scores(path, root=tmp_path / "songs")
    assert list(scores) == ["A", "B"]
    assert all(len(pair) == 2 and np.all(np.isfinite(pair)) for pair in scores.values())
