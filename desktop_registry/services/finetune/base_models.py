"""Which Hugging Face weights a fine-tune of an Ollama base trains on, and where they are on disk.

Weights come from a local folder or the user's Hugging Face cache only: this module never
downloads anything, and it says how to get the weights when they are missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from desktop_registry.errors import UserInputError

# Ollama model (name:tag, or the name alone for any tag) → Hugging Face model id. Instruct
# checkpoints, since Ollama's library tags are the chat models.
DEFAULT_BASES: dict[str, str] = {
    "llama3.2:1b": "meta-llama/Llama-3.2-1B-Instruct",
    "llama3.2:3b": "meta-llama/Llama-3.2-3B-Instruct",
    "llama3.2": "meta-llama/Llama-3.2-3B-Instruct",
    "llama3.1:8b": "meta-llama/Llama-3.1-8B-Instruct",
    "llama3.1": "meta-llama/Llama-3.1-8B-Instruct",
    "llama3:8b": "meta-llama/Meta-Llama-3-8B-Instruct",
    "llama3": "meta-llama/Meta-Llama-3-8B-Instruct",
    "qwen2.5:0.5b": "Qwen/Qwen2.5-0.5B-Instruct",
    "qwen2.5:1.5b": "Qwen/Qwen2.5-1.5B-Instruct",
    "qwen2.5:3b": "Qwen/Qwen2.5-3B-Instruct",
    "qwen2.5:7b": "Qwen/Qwen2.5-7B-Instruct",
    "qwen2.5": "Qwen/Qwen2.5-7B-Instruct",
    "qwen2.5-coder:1.5b": "Qwen/Qwen2.5-Coder-1.5B-Instruct",
    "qwen2.5-coder:7b": "Qwen/Qwen2.5-Coder-7B-Instruct",
    "qwen2.5-coder": "Qwen/Qwen2.5-Coder-7B-Instruct",
    "mistral:7b": "mistralai/Mistral-7B-Instruct-v0.3",
    "mistral": "mistralai/Mistral-7B-Instruct-v0.3",
    "smollm2:135m": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "smollm2:360m": "HuggingFaceTB/SmolLM2-360M-Instruct",
    "smollm2:1.7b": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    "smollm2": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
    "tinyllama": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
}
OVERRIDES_FILE = "base_models.json"


def hf_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def is_model_folder(path: Path) -> bool:
    return (path / "config.json").is_file()


def cached_snapshot(model_id: str, cache: Path | None = None) -> Path | None:
    """The cached snapshot folder of `model_id` (refs/main first, else the newest), if any."""
    root = (cache or hf_cache_dir()) / ("models--" + model_id.replace("/", "--"))
    snapshots = root / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = root / "refs" / "main"
    if ref.is_file():
        pinned = snapshots / ref.read_text(encoding="utf-8").strip()
        if is_model_folder(pinned):
            return pinned
    found = [p for p in snapshots.iterdir() if is_model_folder(p)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


class BaseModels:
    """The mapping table, with the user's overrides (base_models.json in the data folder) on top."""

    def __init__(
        self,
        overrides_file: Path | None = None,
        *,
        defaults: Mapping[str, str] | None = None,
        cache: Path | None = None,
    ) -> None:
        self.overrides_file = overrides_file
        self.defaults = dict(DEFAULT_BASES if defaults is None else defaults)
        self.cache = cache

    def table(self) -> dict[str, str]:
        table = dict(self.defaults)
        table.update(self._overrides())
        return table

    def _overrides(self) -> dict[str, str]:
        if self.overrides_file is None or not self.overrides_file.is_file():
            return {}
        try:
            data = json.loads(self.overrides_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserInputError(
                f"{self.overrides_file} is not valid JSON ({exc}); fix or delete it."
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise UserInputError(
                f"{self.overrides_file} must map Ollama model names to Hugging Face ids or "
                'folders, e.g. {"llama3.2:1b": "meta-llama/Llama-3.2-1B-Instruct"}.'
            )
        return data

    def set(self, base: str, target: str) -> None:
        """Remember that fine-tunes of `base` train on `target` (an HF id or a folder)."""
        if self.overrides_file is None:
            raise UserInputError("No file to keep base model choices in.")
        data = self._overrides()
        data[base] = target
        self.overrides_file.parent.mkdir(parents=True, exist_ok=True)
        self.overrides_file.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def lookup(self, base: str) -> str | None:
        """The HF id or folder for an Ollama name: exact name, name:latest, then the family."""
        table = self.table()
        name = base.strip()
        for key in (name, name.removesuffix(":latest"), name.split(":", 1)[0]):
            if key in table:
                return table[key]
        return None

    def resolve(self, base: str, hf_model: str | None = None) -> Path:
        """The local folder holding the weights for `base`; never downloads, says what to do."""
        if hf_model:
            return self._folder_or_cached(hf_model, base)
        target = self.lookup(base)
        if target is None:
            raise UserInputError(
                f"No Hugging Face model is known for {base}. Give one with --hf-model "
                "(a folder with config.json and the weights, or a Hugging Face id already in "
                "your cache), or add it to "
                f"{self.overrides_file or OVERRIDES_FILE}."
            )
        return self._folder_or_cached(target, base)

    def _folder_or_cached(self, target: str, base: str) -> Path:
        path = Path(target).expanduser()
        if path.is_dir():
            if not is_model_folder(path):
                raise UserInputError(f"{path} has no config.json: it is not a model folder.")
            return path.resolve()
        if target.startswith((".", "/", "~")) or os.sep in target.strip("/").replace("/", "", 1):
            raise UserInputError(f"The model folder {path} does not exist.")
        snapshot = cached_snapshot(target, self.cache)
        if snapshot is None:
            raise UserInputError(
                f"The weights of {target} (for {base}) are not in the Hugging Face cache at "
                f"{self.cache or hf_cache_dir()}, and the app never downloads them. Fetch them "
                f"once with `huggingface-cli download {target}`, or pass --hf-model FOLDER."
            )
        return snapshot
