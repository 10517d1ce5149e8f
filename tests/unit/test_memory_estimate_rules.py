"""Each per-architecture and per-version rule of the estimate, with the Ollama source it came from."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_registry.services.library.memory_estimate import (
    GIB,
    MIB,
    ModelSpec,
    estimate_memory,
)
from desktop_registry.services.library.memory_rules import accounting_for_version, layer_kinds

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "estimate_reference"
LLAMA_8B = ModelSpec(
    name="llama3.1:8b", architecture="llama", parameter_count=8_030_261_248,
    quantization="Q4_K_M", block_count=32, head_count=32, head_count_kv=8, key_length=128,
    embedding_length=4096, vocab_size=128256, file_size_bytes=4_920_753_328,
)  # fmt: skip


def _show(name: str) -> ModelSpec:
    return ModelSpec.from_show(json.loads((REFERENCE / name).read_text()))


def test_the_server_version_picks_the_accounting_and_an_unknown_version_reports_both() -> None:
    # Ollama 0.12.0 made the new memory layout (allocation totals) the default.
    assert accounting_for_version("0.11.11") == "old"
    assert accounting_for_version("0.12.0") == "new"
    assert accounting_for_version("ollama version is 0.13.2") == "new"
    assert accounting_for_version(None) is None and accounting_for_version("dev") is None
    both = estimate_memory(LLAMA_8B, 8192)
    old = estimate_memory(LLAMA_8B, 8192, accounting="old")
    new = estimate_memory(LLAMA_8B, 8192, accounting="new")
    assert both.total_bytes == max(old.total_bytes, new.total_bytes)
    assert both.alternative_total_bytes == min(old.total_bytes, new.total_bytes)
    assert "unknown" in both.accounting_note() and "unknown" not in old.accounting_note()


def test_the_new_engine_figure_has_no_gpu_reserve_or_spare_layer() -> None:
    # ml/device.go BackendMemory.Log: "total memory" = weights + kv cache + compute graph.
    new = estimate_memory(LLAMA_8B, 8192, accounting="new")
    assert new.runtime_bytes == 0
    assert new.total_bytes == new.weights_bytes + new.kv_cache_bytes + new.graph_bytes


def test_the_new_engine_counts_an_untied_token_embedding_the_old_estimator_leaves_out() -> None:
    # ml/device.go: BackendMemory.InputWeights (always on the CPU) is part of "total memory".
    coder = _show("qwen2.5-coder-14b-base-q2_K.show.json")
    old = estimate_memory(coder, 4096, gpu=False, accounting="old")
    new = estimate_memory(coder, 4096, gpu=False, accounting="new")
    assert old.cpu_weights_bytes > 0 and new.cpu_weights_bytes == 0
    assert new.weights_bytes == old.weights_bytes + old.cpu_weights_bytes


def test_metal_reserves_512_mib_where_cuda_reserves_457() -> None:
    # ml/device.go MinimumMemory; discover/gpu_darwin.go metalMinimumMemory = 512 MiB.
    cuda = estimate_memory(LLAMA_8B, 4096, accounting="old")
    metal = estimate_memory(LLAMA_8B, 4096, accounting="old", metal=True)
    assert metal.total_bytes - cuda.total_bytes == (512 - 457) * MIB


def test_gemma3_keeps_every_sixth_layer_global_so_34_layers_have_five_full_caches() -> None:
    # model/models/gemma3/model_text.go: gemmaGlobalCacheCount = 6, (layer+1) % 6 == 0 is global.
    kinds = layer_kinds("gemma3", 34, has_window=True)
    assert kinds is not None and kinds.count("global") == 5
    assert [i for i, kind in enumerate(kinds) if kind == "global"] == [5, 11, 17, 23, 29]


def test_gemma2_counts_every_layer_at_full_context_in_the_old_estimator() -> None:
    # fs/ggml/ggml.go GraphSize: the sliding window is only modelled for the Ollama engine's gemma3.
    assert layer_kinds("gemma2", 42, has_window=True, accounting="old") == ["global"] * 42


def test_mllama_cross_attention_layers_cache_the_image_tokens_in_f32() -> None:
    # fs/ggml/ggml.go GraphSize case "mllama": 1601 vision tokens x 4 tiles, 4 bytes each.
    # ollama/ollama#9311 (llama3.2-vision:11b, 2048 tokens): memory.required.kv = 656.2 MiB.
    vision = _show("llama3.2-vision-11b.show.json")
    estimate = estimate_memory(vision, 2048, accounting="old")
    assert abs(estimate.kv_cache_bytes - 656.2 * MIB) < 0.1 * MIB


def test_gpt_oss_sliding_layers_keep_4096_tokens_per_slot_and_a_batch() -> None:
    # model/models/gptoss: NewSWAMemCache(window, 4096); kvcache/causal.go sizes it slots x 4096 +
    # batch. ollama/ollama#12752 lists 34603008 B per sliding and 67108864 B per global layer.
    oss = _show("gpt-oss-120b.show.json")
    estimate = estimate_memory(oss, 8192, parallel=4, accounting="new")
    assert estimate.kv_cache_bytes == 18 * 34603008 + 18 * 67108864


def test_partial_offload_graph_follows_ollamas_rule_for_qwen2() -> None:
    # fs/ggml/ggml.go GraphSize case "qwen2"; ollama/ollama#5913 (qwen2 72B, 2048 tokens):
    # memory.graph.full = 313.0 MiB, memory.graph.partial = 1.3 GiB.
    qwen = _show("dolphin-qwen2-72b-q4_K_S.show.json")
    estimate = estimate_memory(qwen, 2048, accounting="old")
    assert abs(estimate.graph_bytes - 313.0 * MIB) < 0.5 * MIB
    assert abs(estimate.partial_graph_bytes - 1.3 * GIB) < 0.05 * GIB


def test_an_architecture_without_a_case_gets_the_gqa_over_six_graph_in_the_old_estimator() -> None:
    # llm/memory.go: graphPartialOffload = gqa x kv total / 6 when GraphSize has no case.
    qwen3 = _show("qwen3-32b.show.json")
    old = estimate_memory(qwen3, 16384, accounting="old")
    assert old.graph_bytes == (64 // 8) * old.kv_cache_bytes // 6
    new = estimate_memory(qwen3, 16384, accounting="new")
    assert new.graph_bytes < old.graph_bytes / 10  # the engine allocates the real, smaller graph


def test_the_summary_gives_the_spread_and_the_parts_that_dominate() -> None:
    estimate = estimate_memory(_show("qwen2.5-coder-32b.show.json"), 65536, accounting="old")
    text = estimate.summary()
    assert text.startswith(f"{estimate.total_bytes / GIB:.1f} GiB ± ")
    assert "weights" in text and "KV cache" in text
    assert 0 < estimate.uncertainty_bytes < 0.1 * estimate.total_bytes
    guessed = estimate_memory(ModelSpec(name="x", parameter_count=7_000_000_000), 8192)
    assert guessed.uncertainty_bytes / guessed.total_bytes > (
        estimate.uncertainty_bytes / estimate.total_bytes
    )
