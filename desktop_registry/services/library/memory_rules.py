"""Ollama's own per-architecture memory rules (which layers cache what, how big the graph is).

Each rule is read from Ollama's source and cites the file; pure arithmetic, never fitted to a point.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Accounting = Literal["old", "new"]

# The version where `ollama ps` SIZE stopped being the old estimator's `memory.required.full` and
# became the sum of what the runner allocated (weights + cache + graph, the "total memory" log line):
# v0.12.0 made the new memory layout the default (OLLAMA_NEW_ESTIMATES was the opt-in in 0.11.x).
NEW_ACCOUNTING_SINCE = (0, 12, 0)

ACCOUNTING_LABELS = {
    "old": "Ollama ≤ 0.11 estimator (memory.required.full: GPU reserve + one spare layer included)",
    "new": "Ollama ≥ 0.12 engine (allocation total: weights + KV + graph, no reserve)",
}

# ml/device.go `MinimumMemory`: what the old estimator sets aside on a GPU (CUDA/ROCm), and
# discover/gpu_darwin.go `metalMinimumMemory` for Apple's Metal.
GPU_RESERVE_MIB = 457
METAL_RESERVE_MIB = 512

# model/models/gemma3/model_text.go `gemmaGlobalCacheCount = 6`: every 6th layer is global,
# the rest keep a sliding window (also the old estimator's rule in fs/ggml/ggml.go GraphSize).
GEMMA3_GLOBAL_EVERY = 6
# mllama cross-attention layers cache the image tokens, not the text: fs/ggml/ggml.go GraphSize
# (Ollama ≤ 0.12.10) sizes them as 1601 vision tokens x 4 tiles, in f32.
MLLAMA_VISION_TOKENS = 1601
MLLAMA_TILES = 4
# gpt-oss: even layers are sliding-window layers keeping 4096 tokens per slot + one batch
# (fs/ggml/ggml.go GraphSize case "gptoss"; model/models/gptoss NewSWAMemCache(window, 4096)).
GPTOSS_SWA_MEMORY = 4096

LayerKind = Literal["global", "local", "cross"]


def accounting_for_version(version: str | None) -> Accounting | None:
    """Which accounting an Ollama server version reports; None when the version is unknown."""
    if not version:
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not match:
        return None
    parts = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    return "new" if parts >= NEW_ACCOUNTING_SINCE else "old"


def layer_kinds(
    arch: str,
    blocks: int,
    *,
    has_window: bool,
    cross_layers: frozenset[int] = frozenset(),
    accounting: Accounting = "old",
) -> list[LayerKind] | None:
    """Per-layer cache kind for architectures whose rule is in Ollama's source; None otherwise."""
    if arch == "gemma3" and has_window:
        return ["global" if (i + 1) % GEMMA3_GLOBAL_EVERY == 0 else "local" for i in range(blocks)]
    if arch in ("gptoss", "gpt-oss"):
        return ["local" if i % 2 == 0 else "global" for i in range(blocks)]
    if arch == "mllama" and cross_layers:
        return ["cross" if i in cross_layers else "global" for i in range(blocks)]
    if arch == "gemma2" and accounting == "old":
        # fs/ggml/ggml.go: "Gemma2 also has sliding window attention but we only have an optimized
        # implementation in the Ollama engine" — the old estimator counts every layer at full context.
        return ["global"] * blocks
    return None


def sliding_cache_tokens(
    arch: str,
    window: int,
    per_slot_ctx: int,
    parallel: int,
    batch: int,
    accounting: Accounting = "old",
) -> int:
    """Tokens a sliding-window layer keeps: slots x window + one batch, or the whole context.

    Old estimator: fs/ggml/ggml.go GraphSize; new engine: kvcache/causal.go `Causal.Init`, which
    also keeps one token more than the window per slot when there are several slots.
    """
    memory = GPTOSS_SWA_MEMORY if arch in ("gptoss", "gpt-oss") else window
    if parallel > 1 and accounting == "new":
        memory = max(memory, window + 1)
    if memory >= per_slot_ctx:
        return per_slot_ctx * parallel
    return memory * parallel + batch


@dataclass(frozen=True)
class GraphShape:
    arch: str
    embedding: int
    heads: int
    heads_kv: int
    key_length: int
    vocab: int
    batch: int
    context: int  # tokens over all slots
    kv_total: int  # bytes, for the architectures whose graph Ollama derives from the cache


def old_estimator_graph(shape: GraphShape) -> int | None:
    """`graphFullOffload` of fs/ggml/ggml.go GraphSize (Ollama ≤ 0.12.10) for a whole-GPU load.

    None for architectures without a case there; Ollama then uses gqa x kv / 6 (llm/memory.go),
    which `default_graph` gives.
    """
    a, e, h, hk = shape.arch, shape.embedding, shape.heads, shape.heads_kv
    b, c, v, k = shape.batch, shape.context, shape.vocab, shape.key_length
    if a in ("llama", "llama4"):
        return max(4 * b * (1 + 4 * e + c * (1 + h)), 4 * b * (e + v))
    if a == "mllama":
        return max(4 * b * (2 + 3 * e + k * h + c * (1 + h)), 4 * b * (e + v))
    if a in ("gemma", "gemma2", "gemma3", "gemma3n"):
        full = max(4 * b * (e + v), 4 * b * (2 + c + c * h + 2 * e + 2 * k * h))
        return full * 4 if a == "gemma3n" else full
    if a == "command-r":
        return max(4 * b * (e + v), 4 * b * (2 + 4 * e + c * (1 + h)))
    if a == "qwen2":
        return max(4 * b * (e + v), 4 * b * (1 + 2 * e + c + c * h))
    if a == "phi2":
        return max(4 * b * (e + v), 4 * b * (1 + 4 * e + c + c * h))
    if a == "stablelm":
        return 4 * b * (c * (1 + h) + 3 * e + 2)
    if a == "deepseek2":
        return max(4 * b * (3 * e + v), 4 * b * (3 * e + 2 + c * (1 + hk) + 2 * k * hk))
    return None


def old_estimator_partial_graph(shape: GraphShape) -> int | None:
    """`graphPartialOffload` of the same GraphSize: what Ollama counts when layers spill to the CPU."""
    a, e, h, hk = shape.arch, shape.embedding, shape.heads, shape.heads_kv
    b, c, v, k = shape.batch, shape.context, shape.vocab, shape.key_length
    vocab_graph = 4 * b * (e + v) + e * v * 105 // 128
    if a in ("llama", "llama4"):
        attention = 4 * b * (1 + e + max(c, e)) + e * e * 9 // 16 + 4 * c * (b * h + k * hk)
        return 4 * b * e + max(attention, vocab_graph)
    if a == "mllama":
        return max(4 * (b * (2 * e + 1 + c * (1 + h) + k * h) + k * c * hk), vocab_graph)
    if a in ("gemma", "gemma2", "gemma3", "gemma3n"):
        partial = max(
            4 * e * b + e * v * 105 // 128 + 4 * v * b,
            4 * b * (2 * e + 1 + 2 * k * h + c + c * h) + 4 * k * c * 8 + e * k * h * 9 // 16,
        )
        return partial * 4 if a == "gemma3n" else partial
    if a == "command-r":
        attention = 4 * b * (1 + 2 * e + c * (1 + h)) + 4 * e * c + e * e * 9 // 16
        return max(vocab_graph, attention)
    if a == "qwen2":
        return max(vocab_graph, 4 * (b * (1 + 2 * e + c * (1 + h)) + e * (1 + c)))
    if a == "deepseek2":
        attention = (
            4 * b * (2 * e + 1 + 2 * k * hk + c + c * hk) + 4 * k * c * hk + e * k * hk * 9 // 16
        )
        return max(4 * b * (3 * e + v) + e * v * 105 // 128, attention)
    return None


def gptoss_graph(shape: GraphShape, parallel: int, flash_attention: bool) -> int:
    """fs/ggml/ggml.go GraphSize case "gptoss": a rough figure with flash attention, else gqa rule."""
    if flash_attention:
        return (4 * parallel + (shape.context >> 10) + 110) * 1024 * 1024
    return 2 * shape.heads // max(shape.heads_kv, 1) * shape.kv_total // 6


# fs/ggml/ggml.go `FlashAttention()` (Ollama 0.12): architectures the engine runs with flash
# attention on unless told otherwise.
WANTS_FLASH_ATTENTION = frozenset({"gemma3", "gptoss", "gpt-oss", "qwen3", "qwen3moe"})


def default_graph(shape: GraphShape) -> int:
    """llm/memory.go: with no per-architecture case, graph = (heads / kv heads) x KV total / 6."""
    gqa = shape.heads // max(shape.heads_kv, 1)
    return gqa * shape.kv_total // 6


_TYPE_BITS = {"F32": 32, "F16": 16, "BF16": 16, "Q8_0": 8.5, "Q6_K": 6.5625, "Q5_K": 5.5,
              "Q5_0": 5.5, "Q5_1": 6.0, "Q4_K": 4.5, "Q4_0": 4.5, "Q4_1": 5.0, "Q3_K": 3.4375,
              "Q2_K": 2.625, "MXFP4": 4.25, "IQ4_XS": 4.25, "IQ4_NL": 4.5}  # fmt: skip


def tensor_bytes(tensors: list[Any]) -> int | None:
    """Exact weight bytes from /api/show `tensors` (name, type, shape), when every type is known."""
    total = 0.0
    for tensor in tensors:
        if not isinstance(tensor, Mapping):
            return None
        bits = _TYPE_BITS.get(str(tensor.get("type", "")).upper())
        shape = tensor.get("shape") or []
        if bits is None or not shape:
            return None
        count = 1
        for dim in shape:
            count *= int(dim)
        total += count * bits / 8
    return int(total)


def vision_tower_parameters(
    *, blocks: int, width: int, feed_forward: int | None, text_width: int
) -> int | None:
    """A ViT block holds attention (4·w²) and an MLP (2·w·ff); a projection maps it to the text."""
    if not blocks or not width:
        return None
    ff = feed_forward or 4 * width
    return blocks * (4 * width * width + 2 * width * ff) + width * text_width
