"""Put a finished LoRA fine-tune into Ollama: GGUF adapter, blob upload, `/api/create`, registry.

Ollama converts safetensors adapters only for llama and gemma2 bases but takes a GGUF adapter
for any architecture, so the app always hands it GGUF (made by gguf_adapter, checked against
llama.cpp). Never deploys a half-written adapter file; the registry row, its lineage to the base
and the MLflow run come from the experiments service, as for an adapter trained elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.gguf_adapter import GgufAdapter, convert_adapter

ADAPTER_GGUF = "adapter.gguf"


class Experiments(Protocol):
    async def create(self, recipe: Mapping[str, Any]) -> ModelRecord: ...


def base_config(hf_model_dir: Path) -> dict[str, Any]:
    """The base model's config.json (the adapter's architecture and head counts)."""
    path = hf_model_dir / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserInputError(f"{path} cannot be read as a model config ({exc}).") from None
    if not isinstance(config, dict):
        raise UserInputError(f"{path} is not a model config (a JSON object).")
    return config


async def deploy_adapter(
    experiments: Experiments,
    *,
    name: str,
    base: str,
    adapter_dir: Path,
    hf_model_dir: Path,
    dataset: str = "",
    training: Mapping[str, float | int | str] | None = None,
    metrics: Mapping[str, float] | None = None,
    job_id: str = "",
) -> tuple[ModelRecord, GgufAdapter]:
    """Convert `adapter_dir` (PEFT) beside itself, then create `name` over Ollama model `base`."""
    converted = convert_adapter(adapter_dir, base_config(hf_model_dir), adapter_dir / ADAPTER_GGUF)
    recipe = {
        "type": "fine_tuning",
        "name": name,
        "base": base,
        "adapter_path": str(converted.path),
        "method": "lora",
        "dataset": dataset,
        "training": {
            **(training or {}),
            "lora_rank": converted.rank,
            "lora_alpha": converted.alpha,
        },
        "metrics": dict(metrics or {}),
        "job_id": job_id,
    }
    return await experiments.create(recipe), converted
