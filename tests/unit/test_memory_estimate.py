"""The memory estimate part by part, checked against what Ollama's own server logs printed."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from desktop_registry.services.library.memory_estimate import (
    GIB,
    GPU_RESERVE,
    MIB,
    ModelSpec,
    estimate_memory,
)
from desktop_registry.services.library.memory_rules import accounting_for_version

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "estimate_reference"
LLAMA_8B = ModelSpec(
    name="llama3.1:8b", parameter_count=8_030_261_248, quantization="Q4_K_M", block_count=32,
    head_count=32, head_count_kv=8, key_length=128, embedding_length=4096, vocab_size=128256,
)  # fmt: skip


def _show(name: str) -> ModelSpec:
    return ModelSpec.from_show(json.loads((REFERENCE / name).read_text()))


def test_a_gpu_load_keeps_the_backend_reserve_and_one_layer_spare_a_cpu_load_only_the_layer() -> (
    None
):
    gpu = estimate_memory(LLAMA_8B, 4096, accounting="old")
    cpu = estimate_memory(LLAMA_8B, 4096, gpu=False, accounting="old")
    assert gpu.runtime_bytes == GPU_RESERVE + gpu.layer_bytes
    assert cpu.runtime_bytes == cpu.layer_bytes
    assert gpu.total_bytes - cpu.total_bytes == GPU_RESERVE


def test_gemma3_cache_graph_and_vision_parts_match_ollamas_log() -> None:
    # deep-research-at-home#14 (gemma3:12b, 8192 tokens over 2 slots): kv 1.3 GiB, graph.full
    # 519.5 MiB, projector weights 795.9 MiB, projector graph 1.0 GiB; PR ollama#12000 at
    # 8192 tokens and one slot: kv 992.0 MiB.
    gemma3 = _show("gemma3-12b.show.json")
    two_slots = estimate_memory(gemma3, 4096, parallel=2, gpu=False)
    assert two_slots.kv_cache_bytes == 1312 * MIB  # 8 global layers × 8192 + 40 local × 2560
    assert two_slots.graph_bytes == 4 * 512 * (3840 + 262_144)  # logits over gemma's vocabulary
    assert abs(two_slots.projector_weights_bytes - 795.9 * MIB) < 0.02 * 795.9 * MIB
    assert abs(two_slots.projector_graph_bytes - 1.0 * GIB) < 0.05 * GIB
    assert estimate_memory(gemma3, 8192).kv_cache_bytes == 992 * MIB


def test_a_vision_tower_inside_the_model_file_is_counted_once_at_f16() -> None:
    gemma3 = _show("gemma3-12b.show.json")
    vision = gemma3.projector_parameters or 0
    text_only = gemma3.model_copy(update={"has_projector": False, "projector_in_weights": False})
    with_vision = estimate_memory(gemma3, 4096)
    without = estimate_memory(text_only, 4096)
    assert gemma3.projector_in_weights and 400e6 < vision < 430e6  # SigLIP-so400m
    # Its parameters leave the quantized language weights and come back as F16 projector weights.
    assert abs((without.weights_bytes - with_vision.weights_bytes) - vision * 4.89 / 8) < 1e3
    assert with_vision.projector_weights_bytes == vision * 2


def test_the_vision_encoder_graph_grows_with_patches_squared() -> None:
    # ollama/ollama#10615: mistral-small3.1 (1540 px images, 14 px patches) logged projector.graph 8.8 GiB.
    mistral = _show("mistral-small3.1-24b.show.json")
    assert abs(estimate_memory(mistral, 4096).projector_graph_bytes - 8.8 * GIB) < 0.1 * GIB


def test_an_untied_token_embedding_stays_in_ram_and_out_of_the_total() -> None:
    # ollama/ollama#11292: llama3.1:8b at 4 slots × 2048 tokens on a GPU, memory.required.full 6.5 GiB.
    untied = estimate_memory(_show("llama3.1-8b.show.json"), 2048, parallel=4)
    table = 128_256 * 4096 * 4.89 / 8  # vocab × width at the file's bits per weight
    assert abs(untied.cpu_weights_bytes - table) < 0.01 * table
    assert (
        untied.total_bytes == untied.weights_bytes + untied.kv_cache_bytes + untied.overhead_bytes
    )
    assert abs(untied.total_bytes - 6.5 * GIB) < 0.03 * 6.5 * GIB
    assert any("system RAM" in a for a in untied.assumptions)
    # Llama 3.2 3B reuses the table as its output layer: it is counted with the weights.
    assert estimate_memory(_show("llama3.2-3b.show.json"), 2048).cpu_weights_bytes == 0


def test_shared_kv_layers_keep_no_cache_and_sliding_layers_use_their_own_head_size() -> None:
    gemma4 = _show("gemma4.show.json")  # 42 layers, 18 share a cache; local heads 256, global 512
    assert (gemma4.shared_kv_layers, gemma4.sliding_key_length) == (18, 256)
    # 24 cached layers: 4 global × 4096 tokens × 2 heads × 1024 + 20 local × (512 + 512) × 2 × 512, f16.
    expected = 4 * 4096 * 2 * 1024 * 2 + 20 * 1024 * 2 * 512 * 2
    assert estimate_memory(gemma4, 4096).kv_cache_bytes == expected


def test_a_vision_model_is_sized_at_2048_tokens_even_when_asked_for_fewer() -> None:
    gemma3 = _show("gemma3-12b.show.json")
    short = estimate_memory(gemma3, 512)
    assert short.kv_cache_bytes == estimate_memory(gemma3, 2048).kv_cache_bytes
    assert short.context_length == 512 and any("2048" in a for a in short.assumptions)


def test_qwen_logits_use_the_tokenizer_size_the_gguf_leaves_out() -> None:
    # ollama/ollama#8588 (qwen2.5:14b, 2048 tokens): graph.full 307.0 MiB.
    qwen = _show("qwen2.5-14b.show.json")
    assert abs(estimate_memory(qwen, 2048).graph_bytes - 307 * MIB) < 0.01 * 307 * MIB


def _compared(point: dict[str, Any], estimate: Any) -> int:
    compare = point.get("compare", "total")
    if compare == "weights+kv":
        return int(estimate.weights_bytes + estimate.kv_cache_bytes)
    if compare == "total-partial":
        return int(estimate.total_bytes - estimate.graph_bytes + estimate.partial_graph_bytes)
    return int(estimate.total_bytes)


def test_reference_points_stay_within_ten_percent_of_what_ollama_reported() -> None:
    doc = json.loads((REFERENCE / "points.json").read_text())
    errors = []
    for point in doc["points"]:
        assert point["source"] and point["context_source"] and point["metadata_source"]
        assert point["ollama_version"] and point["family"]
        if point.get("excluded"):
            continue
        estimate = estimate_memory(
            _show(point["show"]),
            point["num_ctx"],
            parallel=point["parallel"],
            gpu=point["device"] == "gpu",
            accounting=accounting_for_version(point["ollama_version"]),
        )
        reported = point["reported_size_bytes"]
        errors.append(abs(_compared(point, estimate) - reported) / reported)
    assert len(errors) >= 20
    assert len({p["family"] for p in doc["points"] if not p.get("excluded")}) >= 8
    assert statistics.median(errors) <= 0.10
    assert max(errors) <= 0.15  # no point is far off
