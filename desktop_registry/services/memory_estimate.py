"""Estimates the memory a model needs at a context length, from its metadata alone.

Pure arithmetic on /api/show or catalog fields; never loads a model or asks a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from desktop_registry.domain import ModelDetails
from desktop_registry.domain.library import LibraryEntry, parse_parameter_size
from desktop_registry.errors import UserInputError
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

BATCH = 512  # Ollama's default num_batch: the compute graph is sized for one batch
DEFAULT_VOCAB = 128_000
RUNTIME_OVERHEAD = 457 * MIB  # backend context and scratch buffers Ollama reserves per load
DEFAULT_PROJECTOR_WEIGHTS = 600 * MIB
PROJECTOR_GRAPH = 512 * MIB


def bits_per_weight(quantization: str | None) -> float | None:
    if not quantization:
        return None
    return BITS_PER_WEIGHT.get(quantization.upper().replace("-", "_"))


class ModelSpec(BaseModel):
    """What the estimator needs to know about one model (missing fields are assumed, and said so)."""

    name: str = ""
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
    vocab_size: int | None = None
    has_projector: bool = False
    projector_parameters: int | None = None
    embedding_only: bool = False
    sliding_window: int | None = None  # tokens a local-attention layer keeps
    sliding_layer_fraction: float = 0.0  # share of layers that use the sliding window

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
        vocab = as_int(info.get(f"{arch}.vocab_size")) if arch else None
        size = as_int(show.get("size"))
        spec = cls.from_details(
            details,
            name=name or str(show.get("model") or show.get("name") or ""),
            size_bytes=size,
            capabilities=[str(c) for c in show.get("capabilities") or []],
            vocab_size=vocab,
        )
        window = as_int(info.get(f"{arch}.attention.sliding_window")) if arch else None
        if window and arch in _SLIDING_LAYERS:
            spec.sliding_window = window
            spec.sliding_layer_fraction = _SLIDING_LAYERS[arch]
        tensors = show.get("tensors")
        if isinstance(tensors, list) and tensors and spec.file_size_bytes is None:
            spec.file_size_bytes = _tensor_bytes(tensors)
        return spec


# Architectures that interleave local (sliding-window) attention layers with global ones.
_SLIDING_LAYERS = {"gemma2": 0.5, "gemma3": 5 / 6, "gemma3n": 0.8, "gemma4": 5 / 6, "cohere2": 0.75}

_TYPE_BITS = {"F32": 32, "F16": 16, "BF16": 16, "Q8_0": 8.5, "Q6_K": 6.5625, "Q5_K": 5.5,
              "Q5_0": 5.5, "Q5_1": 6.0, "Q4_K": 4.5, "Q4_0": 4.5, "Q4_1": 5.0, "Q3_K": 3.4375,
              "Q2_K": 2.625, "MXFP4": 4.25, "IQ4_XS": 4.25, "IQ4_NL": 4.5}  # fmt: skip


def _tensor_bytes(tensors: list[Any]) -> int | None:
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


class MemoryEstimate(BaseModel):
    """Bytes a model needs loaded, by part; `total_bytes` is what `ollama ps` would call SIZE."""

    model: str = ""
    context_length: int
    parallel: int = 1
    kv_cache_type: str = "f16"
    weights_bytes: int
    kv_cache_bytes: int
    graph_bytes: int
    projector_bytes: int = 0
    runtime_bytes: int = 0
    overhead_bytes: int  # graph + projector + runtime
    total_bytes: int
    layers: int
    layer_bytes: int  # weights + KV of one repeating layer (what partial offload moves)
    assumptions: list[str] = Field(default_factory=list)


def estimate_memory(
    spec: ModelSpec,
    context_length: int,
    *,
    parallel: int = 1,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool = False,
    gpu: bool = True,
) -> MemoryEstimate:
    """Weights + KV cache (2 × layers × ctx × kv heads × head dim × bytes) + graph + projector.

    `gpu` adds the backend's fixed reservation, which a CPU-only load does not make.
    """
    if context_length < 1 or parallel < 1:
        raise UserInputError("Context length and parallel slots must be at least 1.")
    if kv_cache_type not in KV_BYTES:
        raise UserInputError(f"Unknown KV cache type {kv_cache_type!r}: use f16, q8_0 or q4_0.")
    if kv_cache_type != "f16" and not flash_attention:
        flash_attention = True  # Ollama only quantizes the cache with flash attention on
    notes: list[str] = []
    params = spec.parameter_count
    bpw = bits_per_weight(spec.quantization)
    projector = 0
    if spec.has_projector:
        projector = (
            spec.projector_parameters * 2
            if spec.projector_parameters
            else DEFAULT_PROJECTOR_WEIGHTS
        )
        if not spec.projector_parameters:
            notes.append("vision projector size unknown: assumed 600 MiB")
    if spec.file_size_bytes:
        weights = max(spec.file_size_bytes - (projector if spec.has_projector else 0), 0)
        weights = weights or spec.file_size_bytes
    elif params and bpw:
        weights = int(params * bpw / 8)
    elif params:
        weights = int(params * 4.89 / 8)
        notes.append(f"quantization {spec.quantization or 'unknown'}: assumed Q4_K_M")
    else:
        raise UserInputError(
            f"Cannot estimate {spec.name or 'this model'}: neither its size nor its parameter "
            "count is known. Sync it first, or pass a saved /api/show response."
        )
    params = params or int(weights * 8 / (bpw or 4.89))
    layers = spec.block_count or max(1, round(8 * (params / 1e9) ** 0.4))
    if not spec.block_count:
        notes.append(f"layer count unknown: assumed {layers}")
    ctx_total = context_length * parallel
    embedding = spec.embedding_length or 0
    heads = spec.head_count or 0
    if spec.head_count_kv and (spec.key_length or (embedding and heads)):
        key_dim = spec.key_length or embedding // heads
        value_dim = spec.value_length or key_dim
        per_token = layers * spec.head_count_kv * (key_dim + value_dim) * KV_BYTES[kv_cache_type]
    else:
        per_token = 1.2e-5 * params * KV_BYTES[kv_cache_type] / 2  # ~GQA-era models, f16
        notes.append("attention shape unknown: KV cache estimated from parameter count")
    if spec.sliding_window and spec.sliding_layer_fraction:
        local = min(context_length, spec.sliding_window + BATCH) * parallel
        share = spec.sliding_layer_fraction
        kv = int(per_token * ((1 - share) * ctx_total + share * local))
    else:
        kv = int(per_token * ctx_total)
    if not embedding:
        embedding = int((params / layers / 12) ** 0.5) if params else 4096
    heads = heads or max(1, embedding // 128)
    vocab = spec.vocab_size or DEFAULT_VOCAB
    attention_ctx = min(ctx_total, 256) if flash_attention else ctx_total
    graph = 4 * BATCH * max(1 + 4 * embedding + attention_ctx * (1 + heads), embedding + vocab)
    if spec.embedding_only:
        graph = 4 * BATCH * (1 + 4 * embedding + min(ctx_total, BATCH) * (1 + heads))
    projector_total = projector + (PROJECTOR_GRAPH if spec.has_projector else 0)
    runtime = RUNTIME_OVERHEAD if gpu else 0  # the GPU backend's context; a CPU load has none
    overhead = graph + projector_total + runtime
    total = weights + kv + overhead
    return MemoryEstimate(
        model=spec.name,
        context_length=context_length,
        parallel=parallel,
        kv_cache_type=kv_cache_type,
        weights_bytes=weights,
        kv_cache_bytes=kv,
        graph_bytes=graph,
        projector_bytes=projector_total,
        runtime_bytes=runtime,
        overhead_bytes=overhead,
        total_bytes=total,
        layers=layers,
        layer_bytes=int((weights + kv) / layers),
        assumptions=notes,
    )
