"""The three LoRA presets of the brief (efficient, balanced, high quality) and editing them.

Every edit is validated; an invalid one raises a UserInputError that names the field at fault
(`lora.rank: …`), never a pydantic traceback. Never changes the built-in presets themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from desktop_registry.domain.finetune import LoraSettings, TrainingPreset
from desktop_registry.errors import UserInputError

# Exactly the brief's figures: (learning rate, batch size, epochs, warmup steps).
PRESETS: dict[str, TrainingPreset] = {
    "efficient": TrainingPreset(
        name="efficient", learning_rate=2e-5, batch_size=2, epochs=2, warmup_steps=50
    ),
    "balanced": TrainingPreset(
        name="balanced", learning_rate=1e-5, batch_size=4, epochs=3, warmup_steps=100
    ),
    "high_quality": TrainingPreset(
        name="high_quality", learning_rate=5e-6, batch_size=8, epochs=5, warmup_steps=200
    ),
}
DEFAULT_PRESET = "balanced"


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str) -> TrainingPreset:
    """A copy of a named preset ("high quality", "high-quality" and "high_quality" all work)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in PRESETS:
        raise UserInputError(f"no preset {name!r}; the presets are {', '.join(PRESETS)}")
    return PRESETS[key].model_copy(deep=True)


def _fields(model: type[TrainingPreset] | type[LoraSettings]) -> list[str]:
    return list(model.model_fields)


def setting_names() -> list[str]:
    """Every editable setting, LoRA ones dotted: learning_rate, …, lora.rank, lora.alpha, …"""
    top = [name for name in _fields(TrainingPreset) if name != "lora"]
    return top + [f"lora.{name}" for name in _fields(LoraSettings)]


def _nested(changes: Mapping[str, Any]) -> dict[str, Any]:
    """{"lora.rank": 16, "epochs": 1} → {"lora": {"rank": 16}, "epochs": 1}, unknown names refused."""
    known = set(setting_names())
    out: dict[str, Any] = {}
    for key, value in changes.items():
        name = key.strip().replace("-", "_")
        if name.startswith("lora_") and f"lora.{name[5:]}" in known:
            name = f"lora.{name[5:]}"  # lora_rank, as a command-line flag writes it
        if name == "lora" and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                out.setdefault("lora", {})[str(inner)] = inner_value
            continue
        if name not in known:
            raise UserInputError(
                f"unknown setting {key!r}; the settings are {', '.join(sorted(known))}"
            )
        if name == "lora.target_modules" and isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if name.startswith("lora."):
            out.setdefault("lora", {})[name[5:]] = value
        else:
            out[name] = value
    return out


def _message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        given = item.get("input")
        shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
        problems.append(f"{field}: {item['msg'].removeprefix('Value error, ')}{shown}")
    return "; ".join(problems)


def edit_preset(preset: TrainingPreset, changes: Mapping[str, Any]) -> TrainingPreset:
    """`preset` with `changes` applied (flat, dotted for LoRA), checked as a whole."""
    nested = _nested(changes)
    body = preset.model_dump()
    lora = body["lora"]
    lora.update(nested.pop("lora", {}))
    body.update(nested)
    if changes and "name" not in nested and preset.name in PRESETS:
        body["name"] = f"{preset.name} (edited)"
    return make_preset(body)


def make_preset(body: Mapping[str, Any]) -> TrainingPreset:
    """A preset from plain data (a saved recipe, a form): each field checked, the field named."""
    try:
        return TrainingPreset.model_validate(dict(body))
    except ValidationError as exc:
        raise UserInputError(f"invalid training settings: {_message(exc)}") from None
