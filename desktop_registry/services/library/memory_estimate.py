"""Estimates the memory a model needs at a context length, from its metadata alone.

Pure arithmetic on /api/show or catalog fields; never loads a model or asks a server.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from desktop_registry.errors import UserInputError
from desktop_registry.services.library.memory_rules import (
    ACCOUNTING_LABELS,
    GPU_RESERVE_MIB,
    METAL_RESERVE_MIB,
    MLLAMA_TILES,
    MLLAMA_VISION_TOKENS,
    WANTS_FLASH_ATTENTION,
    Accounting,
    GraphShape,
    default_graph,
    gptoss_graph,
    layer_kinds,
    old_estimator_graph,
    old_estimator_partial_graph,
    sliding_cache_tokens,
)
from desktop_registry.services.library.memory_spec import (
    BITS_PER_WEIGHT,
    GIB,
    MIB,
    MemoryEstimate,
    ModelSpec,
    bits_per_weight,
)

__all__ = [
    "BITS_PER_WEIGHT", "GIB", "GPU_RESERVE", "KV_BYTES", "MIB", "KvCacheType", "MemoryEstimate",
    "ModelSpec", "bits_per_weight", "estimate_memory",
]  # fmt: skip

# Bytes per cached key/value element for each OLLAMA_KV_CACHE_TYPE (q8_0/q4_0 carry a scale per 32).
KV_BYTES: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
KvCacheType = Literal["f16", "q8_0", "q4_0"]

GPU_RESERVE = (
    GPU_RESERVE_MIB * MIB
)  # the CUDA/ROCm minimum the old estimator sets aside (ml/device.go)
BATCH = 512  # Ollama's default num_batch: the compute graph is sized for one batch
DEFAULT_VOCAB = 128_000
MULTIMODAL_MIN_CONTEXT = 2048  # Ollama never loads a model with a vision projector below this
DEFAULT_PROJECTOR_WEIGHTS = 600 * MIB
PROJECTOR_GRAPH = 512 * MIB  # used only when the vision encoder's shape is not in the metadata
PROJECTOR_BYTES_PER_PARAM = 2  # vision towers and mmproj files ship in F16


# Typical relative error of each part (one standard deviation), from the errors issue 18 measured
# on independent reference points: stated priors, not fitted to the reference set.
_PART_ERROR = {"weights": 0.02, "KV cache": 0.02, "graph": 0.40, "vision": 0.15, "reserve": 0.0}
_PART_ERROR_GUESSED = {"weights": 0.10, "KV cache": 0.25}  # when the shape or size was assumed


def estimate_memory(
    spec: ModelSpec,
    context_length: int,
    *,
    parallel: int = 1,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool = False,
    gpu: bool = True,
    accounting: Accounting | None = None,
    metal: bool = False,
) -> MemoryEstimate:
    """What Ollama reserves to load the whole model on one device, part by part.

    `accounting` is the Ollama version's reckoning ("old" ≤ 0.11, "new" ≥ 0.12); None (version
    unknown) computes both and reports the larger. `gpu` adds the old estimator's fixed GPU
    reservation (512 MiB on Metal, 457 MiB otherwise), which a CPU-only load does not make.
    """
    if accounting is not None:
        return _estimate(
            spec, context_length, parallel, kv_cache_type, flash_attention, gpu, accounting, metal
        )
    old = _estimate(
        spec, context_length, parallel, kv_cache_type, flash_attention, gpu, "old", metal
    )
    new = _estimate(
        spec, context_length, parallel, kv_cache_type, flash_attention, gpu, "new", metal
    )
    primary, other = (old, new) if old.total_bytes >= new.total_bytes else (new, old)
    primary.alternative_accounting = other.accounting
    primary.alternative_total_bytes = other.total_bytes
    return primary


def _estimate(
    spec: ModelSpec,
    context_length: int,
    parallel: int,
    kv_cache_type: KvCacheType,
    flash_attention: bool,
    gpu: bool,
    accounting: Accounting,
    metal: bool,
) -> MemoryEstimate:
    if context_length < 1 or parallel < 1:
        raise UserInputError("Context length and parallel slots must be at least 1.")
    if kv_cache_type not in KV_BYTES:
        raise UserInputError(f"Unknown KV cache type {kv_cache_type!r}: use f16, q8_0 or q4_0.")
    if kv_cache_type != "f16" and not flash_attention:
        flash_attention = True  # Ollama only quantizes the cache with flash attention on
    notes: list[str] = []
    projector_weights, projector_graph = _projector(spec, notes)
    weights, params = _weights(spec, projector_weights, notes)
    table = _separate_input_embedding(spec, params)
    cpu_weights = int(weights * table / max(params - _in_file_vision(spec), 1)) if table else 0
    if cpu_weights:
        weights -= cpu_weights
        if accounting == "old":
            notes.append(
                f"token-embedding table ({cpu_weights / GIB:.2f} GiB) stays in system RAM: "
                "not part of the total, as in Ollama's own estimate"
            )
    layers = spec.block_count or max(1, round(8 * (params / 1e9) ** 0.4))
    if not spec.block_count:
        notes.append(f"layer count unknown: assumed {layers}")
    loaded_ctx = context_length
    if spec.has_projector and context_length < MULTIMODAL_MIN_CONTEXT:
        loaded_ctx = MULTIMODAL_MIN_CONTEXT
        notes.append(f"Ollama loads models with a vision projector at {loaded_ctx} tokens or more")
    kv = _kv_cache(spec, layers, params, loaded_ctx, parallel, kv_cache_type, accounting, notes)
    if accounting == "new" and spec.architecture in WANTS_FLASH_ATTENTION:
        flash_attention = True
    graph, partial_graph = _graph(
        spec, layers, params, loaded_ctx, parallel, kv, flash_attention, accounting
    )
    layer_bytes = int((weights + kv) / layers)
    runtime = 0
    if accounting == "old":
        # llm/memory.go keeps the backend minimum (ml/device.go MinimumMemory) and one layer
        # (weights + its cache) spare on the device it loads onto; the new engine reports neither.
        reserve = (METAL_RESERVE_MIB if metal else GPU_RESERVE_MIB) * MIB if gpu else 0
        runtime = reserve + layer_bytes
    else:
        weights += cpu_weights  # ml/device.go BackendMemory.Log counts InputWeights in the total
        cpu_weights = 0
    projector_total = projector_weights + projector_graph
    overhead = graph + projector_total + runtime
    estimate = MemoryEstimate(
        model=spec.name,
        context_length=context_length,
        parallel=parallel,
        kv_cache_type=kv_cache_type,
        accounting=accounting,
        accounting_label=ACCOUNTING_LABELS[accounting],
        weights_bytes=weights,
        cpu_weights_bytes=cpu_weights,
        kv_cache_bytes=kv,
        graph_bytes=graph,
        partial_graph_bytes=partial_graph,
        projector_bytes=projector_total,
        projector_weights_bytes=projector_weights,
        projector_graph_bytes=projector_graph,
        runtime_bytes=runtime,
        overhead_bytes=overhead,
        total_bytes=weights + kv + overhead,
        layers=layers,
        layer_bytes=layer_bytes,
        assumptions=notes,
    )
    estimate.uncertainty_bytes = _uncertainty(estimate, spec)
    return estimate


def _uncertainty(estimate: MemoryEstimate, spec: ModelSpec) -> int:
    """Parts' typical errors added in quadrature (they miss independently)."""
    errors = dict(_PART_ERROR)
    if not spec.file_size_bytes:
        errors["weights"] = _PART_ERROR_GUESSED["weights"]
    if not (spec.head_count_kv and spec.block_count):
        errors["KV cache"] = _PART_ERROR_GUESSED["KV cache"]
    total = sum((errors[name] * value) ** 2 for name, value in estimate.parts().items())
    return int(total**0.5)


def _projector(spec: ModelSpec, notes: list[str]) -> tuple[int, int]:
    """(weights, graph) of the vision encoder; (0, 0) for a text-only model."""
    if not spec.has_projector:
        return 0, 0
    if spec.projector_parameters:
        weights = spec.projector_parameters * PROJECTOR_BYTES_PER_PARAM
    else:
        weights = DEFAULT_PROJECTOR_WEIGHTS
        notes.append("vision projector size unknown: assumed 600 MiB")
    image, patch, heads = spec.vision_image_size, spec.vision_patch_size, spec.vision_head_count
    if image and patch and heads:
        # The encoder attends over every patch of every tile at once: patches² scores per head (f32),
        # next to the image itself; this is the term Ollama sizes the vision graph by.
        tiles = spec.vision_max_tiles or 1
        patches = tiles * (image // patch) ** 2
        graph = 4 * (tiles * image * image * 3 + patches * patches * heads)
    else:
        graph = PROJECTOR_GRAPH
    return weights, graph


def _weights(spec: ModelSpec, projector_weights: int, notes: list[str]) -> tuple[int, int]:
    """(language-model weight bytes, parameter count) from the file size or parameters × bits."""
    params = spec.parameter_count
    bpw = bits_per_weight(spec.quantization)
    vision_params = _in_file_vision(spec)
    if spec.file_size_bytes:
        weights = spec.file_size_bytes - (projector_weights if spec.has_projector else 0)
        weights = weights if weights > 0 else spec.file_size_bytes
    elif params and bpw:
        weights = int(max(params - vision_params, 0) * bpw / 8)
    elif params:
        weights = int(max(params - vision_params, 0) * 4.89 / 8)
        notes.append(f"quantization {spec.quantization or 'unknown'}: assumed Q4_K_M")
    else:
        raise UserInputError(
            f"Cannot estimate {spec.name or 'this model'}: neither its size nor its parameter "
            "count is known. Sync it first, or pass a saved /api/show response."
        )
    return weights, params or int(weights * 8 / (bpw or 4.89))


def _in_file_vision(spec: ModelSpec) -> int:
    return (spec.projector_parameters or 0) if spec.projector_in_weights else 0


def _separate_input_embedding(spec: ModelSpec, params: int) -> int:
    """Parameters of a token-embedding table that is not also the output layer; 0 if shared/unknown.

    llama.cpp and Ollama keep the input embedding in system RAM, and Ollama's estimate counts it
    only when it doubles as the output projection (tied embeddings). /api/show does not say which:
    the parameter count does, because an untied model holds the vocab × width table twice.
    """
    e, layers = spec.embedding_length, spec.block_count
    heads, kv_heads = spec.head_count, spec.head_count_kv
    ff, vocab = spec.feed_forward_length, spec.vocab_size
    if not (e and layers and heads and kv_heads and ff and vocab) or spec.expert_count:
        return 0
    key = spec.key_length or e // heads
    value = spec.value_length or key
    attention = e * heads * key + e * kv_heads * (key + value) + heads * value * e
    body = layers * (attention + 3 * e * ff)  # gated feed-forward: gate, up and down
    table = vocab * e
    text = params - _in_file_vision(spec)
    untied, tied = body + 2 * table, body + table
    if abs(untied - text) < abs(tied - text) and abs(untied - text) <= 0.03 * text:
        return table
    return 0


def _kv_cache(
    spec: ModelSpec,
    layers: int,
    params: int,
    context: int,
    parallel: int,
    kv_cache_type: KvCacheType,
    accounting: Accounting,
    notes: list[str],
) -> int:
    """Cache bytes over the layers that keep one, layer by layer where Ollama's source says how."""
    per_element = KV_BYTES[kv_cache_type]
    ctx_total = context * parallel
    embedding, heads = spec.embedding_length or 0, spec.head_count or 0
    if not (spec.head_count_kv and (spec.key_length or (embedding and heads))):
        notes.append("attention shape unknown: KV cache estimated from parameter count")
        return int(1.2e-5 * params * per_element / 2 * ctx_total)  # ~GQA-era models, f16
    key_dim = spec.key_length or embedding // heads
    value_dim = spec.value_length or key_dim
    cached_layers = max(layers - spec.shared_kv_layers, 1)
    global_token = spec.head_count_kv * (key_dim + value_dim) * per_element
    local_key = spec.sliding_key_length or key_dim
    local_value = spec.sliding_value_length or spec.sliding_key_length or value_dim
    local_token = spec.head_count_kv * (local_key + local_value) * per_element
    window = spec.sliding_window or 0
    local_ctx = (
        sliding_cache_tokens(spec.architecture, window, context, parallel, BATCH, accounting)
        if window
        else ctx_total
    )
    kinds = layer_kinds(
        spec.architecture,
        cached_layers,
        has_window=bool(window),
        cross_layers=frozenset(spec.cross_attention_layers),
        accounting=accounting,
    )
    if kinds is not None:
        # mllama's cross-attention layers hold the image tokens of every tile, in f32.
        cross = spec.head_count_kv * (key_dim + value_dim) * 4 * MLLAMA_VISION_TOKENS * MLLAMA_TILES
        sizes = {
            "global": global_token * ctx_total,
            "local": local_token * local_ctx,
            "cross": cross,
        }
        return int(sum(sizes[kind] for kind in kinds))
    if not (window and spec.sliding_layer_fraction):
        return int(cached_layers * global_token * ctx_total)
    local_layers = round(cached_layers * spec.sliding_layer_fraction)
    notes.append(
        f"{spec.architecture}: sliding-window layers taken as {spec.sliding_layer_fraction:.0%} "
        "of the layers (no per-layer rule read from Ollama's source yet)"
    )
    global_part = (cached_layers - local_layers) * global_token * ctx_total
    return int(global_part + local_layers * local_token * local_ctx)


def _graph(
    spec: ModelSpec,
    layers: int,
    params: int,
    context: int,
    parallel: int,
    kv: int,
    flash_attention: bool,
    accounting: Accounting,
) -> tuple[int, int]:
    """(whole-GPU, partial-offload) compute buffer for one batch, by the architecture's rule."""
    ctx_total = context * parallel
    embedding = spec.embedding_length or (int((params / layers / 12) ** 0.5) if params else 4096)
    heads = spec.head_count or max(1, embedding // 128)
    vocab = spec.vocab_size or DEFAULT_VOCAB
    batch = min(BATCH, ctx_total)
    if spec.embedding_only:
        graph = 4 * batch * (1 + 4 * embedding + min(ctx_total, BATCH) * (1 + heads))
        return graph, graph
    shape = GraphShape(
        arch=spec.architecture,
        embedding=embedding,
        heads=heads,
        heads_kv=spec.head_count_kv or heads,
        key_length=spec.key_length or embedding // heads,
        vocab=vocab,
        batch=batch,
        context=ctx_total,
        kv_total=kv,
    )
    if spec.architecture in ("gptoss", "gpt-oss"):
        graph = gptoss_graph(shape, parallel, flash_attention)
        return graph, graph
    if flash_attention:
        # Flash attention never materialises the batch x context score matrix.
        shape = replace(shape, context=min(ctx_total, 256))
    full, partial = old_estimator_graph(shape), old_estimator_partial_graph(shape)
    if full is None:
        if spec.architecture and spec.head_count_kv and accounting == "old":
            # The old estimator's placeholder for architectures it has no case for.
            graph = default_graph(shape)
            return graph, graph
        # The new engine allocates the real graph: attention scores or output logits, whichever
        # is larger — the shape of the llama rule, which is what the catalog falls back to too.
        llama = replace(shape, arch="llama")
        full, partial = old_estimator_graph(llama), old_estimator_partial_graph(llama)
    return full or 0, partial or full or 0
