"""Turn a PEFT LoRA adapter (safetensors) into the GGUF LoRA file llama.cpp and Ollama load.

The place where a fine-tune is right or silently wrong: llama.cpp stores the q/k weights of
llama-family models with each head's rotary halves interleaved, so the output rows of those LoRA
B matrices must be reordered the same way; A matrices and every other projection are kept as
they are. Never writes a partial file (a temp name, then a rename); never guesses an architecture
it has no name map for.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_registry.errors import UserInputError

# Hugging Face module → llama.cpp tensor, per block (llama.cpp's tensor names, gguf-py's
# constants.py MODEL_TENSOR names for LLM_ARCH_LLAMA / QWEN2).
_BLOCK_TENSORS = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
# Architectures whose converter reorders q/k rows for rotary embeddings (llama.cpp's
# convert_hf_to_gguf.py does it for the Llama family, not for Qwen2); the value is the GGUF
# architecture name.
ROTARY_PERMUTED = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "llama"}
AS_STORED = {"Qwen2ForCausalLM": "qwen2"}
_KEY = re.compile(
    r"^base_model\.model\.model\.layers\.(\d+)\.([a-z_]+\.[a-z_]+)\.lora_([AB])\.weight$"
)


@dataclass(frozen=True)
class AdapterShape:
    """What the conversion needs of the base model (from its config.json)."""

    architecture: str  # the Hugging Face class, e.g. LlamaForCausalLM
    heads: int
    kv_heads: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AdapterShape:
        archs = config.get("architectures") or []
        arch = str(archs[0]) if archs else ""
        heads = int(config.get("num_attention_heads") or 0)
        return cls(arch, heads, int(config.get("num_key_value_heads") or heads))


@dataclass(frozen=True)
class GgufAdapter:
    path: Path
    architecture: str  # the GGUF architecture, e.g. llama
    alpha: float
    rank: int
    tensors: int


def interleave_rotary_rows(rows: Any, heads: int) -> Any:
    """Reorder a (heads × head_dim, …) matrix from Hugging Face's rotary layout (each head's
    first half, then its second half) to llama.cpp's (the two halves' rows alternating)."""
    import numpy as np

    array = np.asarray(rows)
    head_dim = array.shape[0] // heads
    if heads <= 0 or head_dim * heads != array.shape[0] or head_dim % 2:
        raise UserInputError(
            f"A q/k matrix with {array.shape[0]} rows cannot be split into {heads} heads of "
            "even size; is the base model's config.json the right one?"
        )
    split = array.reshape(heads, 2, head_dim // 2, *array.shape[1:])
    return np.ascontiguousarray(split.swapaxes(1, 2).reshape(array.shape))


def convert_adapter(adapter_dir: Path, base_config: Mapping[str, Any], out: Path) -> GgufAdapter:
    """Write `out` (GGUF, f32) from a PEFT adapter folder and its base model's config."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    shape = AdapterShape.from_config(base_config)
    gguf_arch = ROTARY_PERMUTED.get(shape.architecture) or AS_STORED.get(shape.architecture)
    if gguf_arch is None:
        known = ", ".join(sorted({*ROTARY_PERMUTED, *AS_STORED}))
        raise UserInputError(
            f"Cannot convert an adapter for {shape.architecture or 'an unnamed architecture'}: "
            f"this app converts {known}. llama.cpp's convert_lora_to_gguf.py handles others."
        )
    permute = shape.architecture in ROTARY_PERMUTED
    settings = _adapter_settings(adapter_dir)
    weights_file = adapter_dir / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise UserInputError(f"{adapter_dir} has no adapter_model.safetensors (PEFT's file).")
    weights = load_file(str(weights_file))
    pairs: dict[str, dict[str, Any]] = {}
    for key, value in weights.items():
        match = _KEY.match(key)
        if match is None or match.group(2) not in _BLOCK_TENSORS:
            raise UserInputError(
                f"The adapter holds {key!r}, which is not a LoRA matrix of a projection this "
                "app converts (q/k/v/o and the MLP's gate/up/down)."
            )
        block, module, side = match.groups()
        name = f"blk.{block}.{_BLOCK_TENSORS[module]}.weight"
        pairs.setdefault(name, {})[side] = value.astype(np.float32)
    if not pairs:
        raise UserInputError(f"{weights_file} holds no LoRA matrices.")
    ranks = set()
    for name, pair in pairs.items():
        if set(pair) != {"A", "B"}:
            raise UserInputError(f"The adapter has only half of {name}'s LoRA pair.")
        ranks.add(pair["A"].shape[0])
        if permute and name.endswith((".attn_q.weight", ".attn_k.weight")):
            heads = shape.heads if ".attn_q." in name else shape.kv_heads
            pair["B"] = interleave_rotary_rows(pair["B"], heads)
    writer = gguf.GGUFWriter(str(out) + ".partial", gguf_arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, settings["alpha"])
    for name in sorted(pairs):
        writer.add_tensor(name + ".lora_a", pairs[name]["A"])
        writer.add_tensor(name + ".lora_b", pairs[name]["B"])
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    os.replace(str(out) + ".partial", out)
    return GgufAdapter(out, gguf_arch, settings["alpha"], max(ranks), len(pairs) * 2)


def _adapter_settings(adapter_dir: Path) -> dict[str, float]:
    path = adapter_dir / "adapter_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserInputError(f"{path} cannot be read as PEFT's adapter config ({exc}).") from None
    if not isinstance(config, dict) or str(config.get("peft_type", "")).upper() != "LORA":
        raise UserInputError(f"{path} is not a LoRA adapter's config (peft_type LORA).")
    alpha = config.get("lora_alpha")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or alpha <= 0:
        raise UserInputError(f"{path} has no positive lora_alpha.")
    if config.get("use_rslora") or config.get("use_dora"):
        raise UserInputError("rsLoRA and DoRA adapters cannot be written as llama.cpp LoRA files.")
    return {"alpha": float(alpha)}
