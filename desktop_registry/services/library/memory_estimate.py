"""Estimates the memory a model needs at a context length, from its metadata alone.

Pure arithmetic on /api/show or catalog fields; never loads a model or asks a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, Field

from desktop_registry.domain import ModelDetails
from desktop_registry.domain.library import LibraryEntry, parse_parameter_size
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
    tensor_bytes,
    vision_tower_parameters,
)
from desktop_registry.sources.ollama_records import as_int, details_from_show

GIB = 1024**3
MIB = 1024**2

# Average bits per weight of a whole GGUF file at each quantization (K-quants mix block types,
# and embeddings/output usually stay at higher precision, so these sit above the nominal bits).
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0,
    "Q8_0": 8.5, "Q8_K": 8.5,
    "Q6_K": 6.56,
    "Q5_K_M": 5.69, "Q5_K_S": 5.54, "Q5_K": 5.69, "Q5_1": 6.0, "Q5_0": 5.54,
    "Q4_K_M": 4.89, "Q4_K_S": 4.58, "Q4_K": 4.89, "Q4_1": 5.0, "Q4_0": 4.64,
    "IQ4_NL": 4.5, "IQ4_XS": 4.25, "MXFP4": 4.25,
    "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "Q3_K": 3.91,
    "IQ3_M": 3.66, "IQ3_XXS": 3.06, "Q2_K": 3.35, "IQ2_XS": 2.31, "IQ2_XXS": 2.06, "IQ1_S": 1.56,
}  # fmt: skip
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


def bits_per_weight(quantization: str | None) -> float | None:
    if not quantization:
        return None
    return BITS_PER_WEIGHT.get(quantization.upper().replace("-", "_"))


class ModelSpec(BaseModel):
    """What the estimator needs to know about one model (missing fields are assumed, and said so)."""

    name: str = ""
    architecture: str = ""
    parameter_count: int | None = None
    file_size_bytes: int | None = None
    quantization: str = ""
    context_length: int | None = None  # the longest context the model was trained for
    block_count: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    key_length: int | None = None
    value_length: int | None = None
    embedding_length: int | None = None
    feed_forward_length: int | None = None
    expert_count: int | None = None
    vocab_size: int | None = None
    has_projector: bool = False
    projector_parameters: int | None = None
    projector_in_weights: bool = False  # the vision tower is in the main file (and its parameters)
    vision_image_size: int | None = None
    vision_patch_size: int | None = None
    vision_head_count: int | None = None
    vision_max_tiles: int | None = None
    embedding_only: bool = False
    sliding_window: int | None = None  # tokens a local-attention layer keeps
    sliding_layer_fraction: float = 0.0  # share of layers that use the sliding window
    sliding_key_length: int | None = None  # head dim of the local layers, when it differs
    sliding_value_length: int | None = None
    shared_kv_layers: int = 0  # layers that reuse an earlier layer's cache and keep none
    cross_attention_layers: list[int] = Field(default_factory=list)  # mllama: cache image tokens

    @classmethod
    def from_details(
        cls,
        details: ModelDetails,
        *,
        name: str = "",
        size_bytes: int | None = None,
        capabilities: list[str] | None = None,
        vocab_size: int | None = None,
    ) -> ModelSpec:
        caps = capabilities or []
        return cls(
            name=name,
            parameter_count=details.parameter_count or parse_parameter_size(details.parameter_size),
            file_size_bytes=size_bytes,
            quantization=details.quantization_level or "",
            context_length=details.context_length,
            block_count=details.block_count,
            head_count=details.head_count,
            head_count_kv=details.head_count_kv,
            key_length=details.key_length,
            value_length=details.value_length,
            embedding_length=details.embedding_length,
            vocab_size=vocab_size,
            has_projector=details.has_projector,
            projector_parameters=details.projector_bytes,
            embedding_only="embedding" in caps and "completion" not in caps,
        )

    @classmethod
    def from_entry(cls, entry: LibraryEntry) -> ModelSpec:
        return cls.from_details(
            entry.details,
            name=entry.name,
            size_bytes=entry.size_bytes,
            capabilities=entry.capabilities,
        )

    @classmethod
    def from_show(cls, show: Mapping[str, Any], *, name: str = "") -> ModelSpec:
        """A saved /api/show response (model_info + details); `size` is used when present."""
        if not isinstance(show, Mapping) or not (show.get("model_info") or show.get("details")):
            raise UserInputError(
                "This is not an /api/show response: it has neither `model_info` nor `details`."
            )
        details = details_from_show(show)
        info = show.get("model_info") or {}
        arch = details.architecture or ""

        def key(suffix: str, source: Mapping[str, Any] = info) -> int | None:
            return as_int(source.get(f"{arch}.{suffix}")) if arch else None

        size = as_int(show.get("size"))
        spec = cls.from_details(
            details,
            name=name or str(show.get("model") or show.get("name") or ""),
            size_bytes=size,
            capabilities=[str(c) for c in show.get("capabilities") or []],
            vocab_size=key("vocab_size") or _ARCH_VOCAB.get(arch),
        )
        spec.architecture = arch
        cross = info.get(f"{arch}.attention.cross_attention_layers") if arch else None
        if isinstance(cross, list):
            spec.cross_attention_layers = [int(i) for i in cross if isinstance(i, int)]
        spec.feed_forward_length = key("feed_forward_length")
        spec.expert_count = key("expert_count")
        window = key("attention.sliding_window")
        if window and arch in _SLIDING_LAYERS:
            spec.sliding_window = window
            spec.sliding_layer_fraction = _SLIDING_LAYERS[arch]
            spec.sliding_key_length = key("attention.key_length_swa")
            spec.sliding_value_length = key("attention.value_length_swa")
        spec.shared_kv_layers = key("attention.shared_kv_layers") or 0
        projector = show.get("projector_info") or {}
        vision = projector if projector else info
        spec.vision_image_size = key("vision.image_size", vision)
        spec.vision_patch_size = key("vision.patch_size", vision)
        spec.vision_head_count = key("vision.attention.head_count", vision)
        spec.vision_max_tiles = key("vision.max_num_tiles", vision)
        if not projector and key("vision.block_count"):
            # The Ollama engine keeps the vision tower inside the model file: size it from its shape.
            spec.projector_in_weights = True
            spec.projector_parameters = vision_tower_parameters(
                blocks=key("vision.block_count") or 0,
                width=key("vision.embedding_length") or 0,
                feed_forward=key("vision.feed_forward_length"),
                text_width=spec.embedding_length or 0,
            )
        tensors = show.get("tensors")
        if isinstance(tensors, list) and tensors and spec.file_size_bytes is None:
            spec.file_size_bytes = tensor_bytes(tensors)
        return spec


# Tokenizer sizes by architecture, for GGUFs that carry no `<arch>.vocab_size`: /api/show leaves the
# token list out, and the output logits (batch × vocab) are often the largest part of the graph.
_ARCH_VOCAB = {
    "gemma": 256_000, "gemma2": 256_000, "gemma3": 262_144, "gemma3n": 262_144, "gemma4": 262_144,
    "qwen2": 151_936, "qwen2moe": 151_936, "qwen25vl": 151_936, "qwen3": 151_936, "qwen3moe": 151_936,
    "mistral3": 131_072, "command-r": 256_000, "cohere2": 256_000,
}  # fmt: skip

# Architectures that interleave local (sliding-window) attention layers with global ones.
# The share is a fallback: where Ollama's source states a per-layer rule, memory_rules.layer_kinds wins.
_SLIDING_LAYERS = {
    "gemma2": 0.5, "gemma3": 5 / 6, "gemma3n": 0.8, "gemma4": 5 / 6, "cohere2": 0.75, "gptoss": 0.5,
}  # fmt: skip


class MemoryEstimate(BaseModel):
    """Bytes a model needs loaded, by part; `total_bytes` is what `ollama ps` would call SIZE.

    Which figure that is depends on the Ollama version (`accounting`): the old estimator's
    `memory.required.full` (GPU reserve and a spare layer included, an untied token-embedding
    table left out) or the newer engine's allocation total (weights + KV + graph, nothing else).
    When the version is unknown, `total_bytes` is the larger and `alternative_total_bytes` the other.
    """

    model: str = ""
    context_length: int
    parallel: int = 1
    kv_cache_type: str = "f16"
    accounting: str = "old"  # "old" (Ollama ≤ 0.11 estimator) or "new" (Ollama ≥ 0.12 engine)
    accounting_label: str = ""
    alternative_accounting: str = ""  # set when the version is unknown: the other accounting
    alternative_total_bytes: int = 0
    weights_bytes: int  # the language model's weights (the vision tower is in projector_bytes)
    cpu_weights_bytes: int = 0  # the input-embedding table kept in system RAM, outside the total
    kv_cache_bytes: int
    graph_bytes: int
    partial_graph_bytes: int = 0  # the graph Ollama ≤ 0.11 counts when some layers stay on the CPU
    projector_bytes: int = 0  # vision weights + the vision encoder's compute buffer
    projector_weights_bytes: int = 0
    projector_graph_bytes: int = 0
    runtime_bytes: int = 0  # GPU reserve + the one-layer buffer Ollama keeps free
    overhead_bytes: int  # graph + projector + runtime
    total_bytes: int
    uncertainty_bytes: int = 0  # one standard deviation, from the parts' typical errors
    layers: int
    layer_bytes: int  # weights + KV of one repeating layer (what partial offload moves)
    assumptions: list[str] = Field(default_factory=list)

    def parts(self) -> dict[str, int]:
        """The parts `total_bytes` adds up, by the name a user reads."""
        weights = self.weights_bytes + (self.cpu_weights_bytes if self.accounting == "new" else 0)
        return {
            "weights": weights,
            "KV cache": self.kv_cache_bytes,
            "graph": self.graph_bytes,
            "vision": self.projector_bytes,
            "reserve": self.runtime_bytes,
        }

    def figure(self) -> str:
        """E.g. "7.4 GiB ± 0.5": the total and its spread."""
        return f"{self.total_bytes / GIB:.1f} GiB ± {self.uncertainty_bytes / GIB:.1f}"

    def dominant_parts(self) -> str:
        """E.g. "weights 61%, KV cache 28%": the parts that make up most of the total."""
        parts = sorted(self.parts().items(), key=lambda kv: -kv[1])
        return ", ".join(
            f"{name} {value / self.total_bytes:.0%}"
            for name, value in parts[:2]
            if value and value >= 0.15 * self.total_bytes
        )

    def summary(self) -> str:
        """E.g. "7.4 GiB ± 0.5 (weights 61%, KV cache 28%)": the figure, its spread, what dominates."""
        shares = self.dominant_parts()
        return f"{self.figure()} ({shares})" if shares else self.figure()

    def describe(self) -> str:
        """One line for a panel: "7.4 GiB ± 0.5 GiB at 8,192 tokens (weights 61%, KV cache 28%)"."""
        shares = self.dominant_parts()
        text = f"{self.figure()} GiB at {self.context_length:,} tokens"
        return f"{text} ({shares})" if shares else text

    def accounting_note(self) -> str:
        """Which Ollama's figure this is, and the other one when the version is unknown."""
        note = f"as {self.accounting_label}"
        if self.alternative_accounting:
            other = ACCOUNTING_LABELS.get(self.alternative_accounting, "")
            note += (
                f"; {self.alternative_total_bytes / GIB:.1f} GiB "
                f"as {other.split(' (')[0]} (server version unknown)"
            )
        return note


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
