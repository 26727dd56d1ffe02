"""``benchmarks/bench_training_speed.py``: the bfloat16 autocast variant and row merging."""

import json

import pytest
import torch


@pytest.fixture
def speed(benchmark_module):
    return benchmark_module("bench_training_speed")


def _linear_problem():
    """A module and objective any CPU runs under bfloat16 autocast: ``nn.LSTM`` has no
    bfloat16 kernel on AVX2-only hosts, linear layers have one everywhere."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(40, 64), torch.nn.Tanh(),
                                 torch.nn.Linear(64, 40))
    batches = [(torch.randn(8, 40), {"target": torch.randn(8, 40)}) for _ in range(4)]

    def objective(output, targets):
        return ((output.float() - targets["target"]) ** 2).mean()

    return module, objective, batches


def test_autocast_trains_in_bfloat16_from_the_same_start(speed):
    module, objective, batches = _linear_problem()
    seen = []
    hook = module.register_forward_hook(
        lambda *_: seen.append(torch.is_autocast_enabled("cpu")))
    try:
        losses = speed.losses_from_same_start(module, objective, batches, "autocast")
    finally:
        hook.remove()
    assert seen  # copies share the hook; both runs went through the module
    assert any(seen) and not all(seen)  # the variant under autocast, the current code not
    current, variant = losses["current_loss"], losses["variant_loss"]
    assert variant == pytest.approx(current, rel=0.1) and variant != current


def test_a_subset_of_variants_keeps_the_other_rows_with_their_machine(speed, tmp_path):
    earlier = {"cpu": {"flags": ["avx2"]}, "machine": {"date_utc": "2026-12-03 12:38 UTC"},
               "rows": {"bf16": {"ratio_median": 0.09}, "compile": {"ratio_median": 1.07}}}
    path = tmp_path / "training_speed.json"
    path.write_text(json.dumps(earlier))
    new = {"autocast": {"ratio_median": 1.3, "cpu": {"flags": ["avx512_bf16", "amx_bf16"]},
                        "machine": {"date_utc": "2026-12-03 17:40 UTC"}}}
    rows = speed.merged_rows(path, new)
    assert list(rows) == ["bf16", "autocast", "compile"]
    assert speed._cpu_cell(rows["bf16"]) == "avx2, 2026-12-03 12:38"
    assert speed._cpu_cell(rows["autocast"]) == "avx512_bf16+amx_bf16, 2026-12-03 17:40"
    assert speed.merged_rows(tmp_path / "none.json", new) == new
