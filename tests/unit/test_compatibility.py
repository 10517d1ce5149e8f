"""Memory estimates and fit decisions a user sees before pulling a model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.library.compatibility import CompatibilityService, Fit, assess
from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile
from desktop_registry.services.library.memory_estimate import GIB, ModelSpec, estimate_memory

LLAMA_8B = ModelSpec(
    name="llama3.1:8b", parameter_count=8_030_261_248, quantization="Q4_K_M", block_count=32,
    head_count=32, head_count_kv=8, key_length=128, embedding_length=4096, vocab_size=128256,
)  # fmt: skip
NO_GPU_8GB = HardwareProfile.describe(ram_gb=8)
GPU_24GB = HardwareProfile.describe(ram_gb=32, gpu_vram_gb=24, gpu_name="NVIDIA RTX 4090")


def test_kv_cache_follows_the_formula_two_times_layers_ctx_kv_heads_head_dim_bytes() -> None:
    estimate = estimate_memory(LLAMA_8B, 8192)
    assert estimate.kv_cache_bytes == 2 * 32 * 8192 * 8 * 128 * 2  # exactly 1 GiB at f16


def test_quantized_kv_cache_and_parallel_slots_change_the_cache() -> None:
    f16 = estimate_memory(LLAMA_8B, 8192).kv_cache_bytes
    assert estimate_memory(LLAMA_8B, 8192, kv_cache_type="q8_0").kv_cache_bytes < 0.55 * f16
    assert estimate_memory(LLAMA_8B, 8192, kv_cache_type="q4_0").kv_cache_bytes < 0.3 * f16
    assert estimate_memory(LLAMA_8B, 8192, parallel=4).kv_cache_bytes == 4 * f16


def test_weights_follow_the_quantization_including_k_quants() -> None:
    q4 = estimate_memory(LLAMA_8B, 2048).weights_bytes
    q8 = estimate_memory(LLAMA_8B.model_copy(update={"quantization": "Q8_0"}), 2048).weights_bytes
    f16 = estimate_memory(LLAMA_8B.model_copy(update={"quantization": "F16"}), 2048).weights_bytes
    assert 4.4 * GIB < q4 < 4.8 * GIB  # Q4_K_M llama3.1:8b downloads as 4.9 GB
    assert q4 < q8 < f16 and abs(f16 - 16.06e9) < 0.1e9


def test_a_vision_projector_adds_overhead_and_says_what_it_assumed() -> None:
    plain = estimate_memory(LLAMA_8B, 4096)
    vision = estimate_memory(LLAMA_8B.model_copy(update={"has_projector": True}), 4096)
    assert vision.overhead_bytes > plain.overhead_bytes + 500 * 1024**2
    assert any("projector" in a for a in vision.assumptions)


def test_estimate_matches_what_ollama_reported_for_llama31_8b() -> None:
    # ollama/ollama#11292: memory.required.full="6.5 GiB" at 4 slots × 2048 tokens on a GPU.
    estimate = estimate_memory(LLAMA_8B, 2048, parallel=4)
    assert abs(estimate.total_bytes - 6.5 * GIB) / (6.5 * GIB) < 0.05


def test_from_show_reads_a_saved_api_show_response(shared_protocols: Path) -> None:
    show = json.loads((shared_protocols / "ollama-fixtures" / "show_llava.json").read_text())
    spec = ModelSpec.from_show(show)
    assert (spec.block_count, spec.head_count_kv, spec.quantization) == (32, 8, "Q4_0")
    assert estimate_memory(spec, 4096).kv_cache_bytes == 512 * 1024**2


def test_a_file_that_is_not_an_api_show_response_gets_a_clear_message() -> None:
    with pytest.raises(UserInputError, match="not an /api/show response"):
        ModelSpec.from_show({"models": []})
    with pytest.raises(UserInputError, match="neither its size nor its parameter count"):
        estimate_memory(ModelSpec(name="mystery"), 4096)


def test_eight_gb_without_gpu_runs_small_models_on_cpu_and_refuses_big_ones() -> None:
    small = estimate_memory(
        LLAMA_8B.model_copy(update={"parameter_count": 3_210_000_000}), 4096, gpu=False
    )
    big = estimate_memory(LLAMA_8B.model_copy(update={"parameter_count": 32_000_000_000, "block_count": 64}), 4096, gpu=False)  # fmt: skip
    assert assess(small, NO_GPU_8GB)[0] is Fit.CPU_ONLY
    fit, layers, score, reason = assess(big, NO_GPU_8GB)
    assert (fit, layers, score) == (Fit.DOES_NOT_FIT, 0, 0.0)
    assert "no GPU" in reason and "needs" in reason


def test_a_24gb_gpu_runs_8b_fully_and_splits_a_70b_by_layers() -> None:
    seventy = LLAMA_8B.model_copy(
        update={"parameter_count": 70_600_000_000, "block_count": 80, "embedding_length": 8192, "head_count": 64}
    )  # fmt: skip
    assert assess(estimate_memory(LLAMA_8B, 8192), GPU_24GB)[0] is Fit.FULL_GPU
    workstation = HardwareProfile.describe(ram_gb=64, gpu_vram_gb=24, gpu_name="NVIDIA RTX 4090")
    fit, layers, score, _ = assess(estimate_memory(seventy, 8192), workstation)
    assert fit is Fit.PARTIAL and 10 < layers < 80 and 0 < score < 1


def test_suggestions_offer_a_shorter_context_and_a_smaller_quantization() -> None:
    service = CompatibilityService(HardwareProbe())
    report = service.check_spec(LLAMA_8B, 8192, hardware=NO_GPU_8GB)
    assert report.fit is Fit.DOES_NOT_FIT
    kinds = {s.kind for s in report.suggestions}
    assert {"context", "quantization"} <= kinds
    assert all(s.fit is not Fit.DOES_NOT_FIT for s in report.suggestions)
    assert report.as_json()["total_bytes"] == report.estimate.total_bytes


def test_ollama_loads_a_model_at_its_own_num_ctx_else_its_default_for_the_gpu_memory():
    from desktop_registry.services.library.compatibility import ollama_load_context

    small = HardwareProfile.describe(ram_gb=32, gpu_vram_gb=8)
    mid = HardwareProfile.describe(ram_gb=64, gpu_vram_gb=24)
    big = HardwareProfile.describe(ram_gb=128, gpu_vram_gb=80)
    cpu = HardwareProfile.describe(ram_gb=16)
    assert ollama_load_context({}, 131072, small) == 4096
    assert ollama_load_context({}, 131072, cpu) == 4096
    assert ollama_load_context({}, 131072, mid) == 32768
    assert ollama_load_context({}, 131072, big) == 131072  # never past what it was trained for
    assert ollama_load_context({}, None, big) == 262144
    assert ollama_load_context({}, 2048, small) == 2048
    assert ollama_load_context({"num_ctx": 16384}, 131072, small) == 16384
    assert ollama_load_context({"num_ctx": ["8192"]}, 131072, small) == 8192  # Modelfile form
    assert ollama_load_context({"num_ctx": "lots"}, 131072, small) == 4096
