"""What the memory estimate reads (ModelSpec, from /api/show or the catalog) and returns (MemoryEstimate).

Data shapes and their wording only; never does the arithmetic (memory_estimate.py) or asks a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from desktop_registry.domain import ModelDetails
from desktop_registry.domain.library import LibraryEntry, parse_parameter_size
from desktop_registry.errors import UserInputError
from desktop_registry.services.library.memory_rules import (
    ACCOUNTING_LABELS,
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
