"""``benchmarks/bench_oracle_ceilings.py``: oracle masks on the mel and the STFT grid."""

import numpy as np


def test_ceilings_on_two_clips(benchmark_module, mir1k_root, tmp_path):
    bench = benchmark_module("bench_oracle_ceilings")
    result = bench.measure(mir1k_root, max_clips=2)
    assert result["clips"] == 2
    rows = {(row["grid"], row["mask"]): row for row in result["rows"]}
    assert set(rows) == {(grid, mask) for grid in bench.GRIDS for mask in bench.MASKS}
    for row in rows.values():  # every oracle separates (a mixture scores 0)
        assert row["vocals"] > 5.0 and row["accompaniment"] > 5.0, row
    # The best real mask with the mixture phase beats the ratio mask it replaces.
    assert rows["mel", "phase-sensitive"]["vocals"] > rows["mel", "wiener p2"]["vocals"]
    text = bench.markdown(result)
    assert "| phase-sensitive |" in text and "STFT - mel" in text


def test_stft_grid_masks_are_the_direct_ones(benchmark_module, mir1k_root):
    from sksep import MelFeatures
    from sksep._spectral import linear_grid
    from sksep.datasets import load_mir1k

    bench = benchmark_module("bench_oracle_ceilings")
    data = load_mir1k(mir1k_root, "test", max_clips=1)
    record = MelFeatures().fit_transform([data.X[0]])[0]
    sources = data.Y[0]
    masks = bench.oracle_masks(record, sources, linear_grid(record.grid))
    spectra = record.grid.stft(sources)  # (C, n_freq, T)
    power = np.abs(spectra) ** 2
    np.testing.assert_allclose(masks["wiener p2"], (power / power.sum(0)).transpose(0, 2, 1),
                               atol=1e-4)
    in_phase = np.real(spectra * np.exp(-1j * np.angle(record.stft)))
    direct = np.clip(in_phase / np.maximum(np.abs(record.stft), 1e-12), 0, 1)
    np.testing.assert_allclose(masks["phase-sensitive"], direct.transpose(0, 2, 1), atol=1e-4)
