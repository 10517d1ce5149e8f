"""What a fine-tune job hands its trainer: the validated split as jsonl, the preset as settings.

Never lets bad rows through unless the job was started with drop_bad_rows; never edits the
built-in presets (an edited copy goes to the trainer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_registry.domain.finetune import CsvColumns, DataFormat, DataSplit, TrainingPreset
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.data_validation import training_examples, validate_file
from desktop_registry.services.finetune.presets import DEFAULT_PRESET, edit_preset, get_preset

TRAIN_FILE = "train.jsonl"
VALIDATION_FILE = "val.jsonl"
DEFAULT_CONTEXT = 2048


@dataclass(frozen=True)
class PreparedSplit:
    train: int
    validation: int


def _columns(value: Any) -> CsvColumns | None:
    if not value:
        return None
    if isinstance(value, Mapping):
        return CsvColumns(**{str(k): str(v) for k, v in value.items()})
    from desktop_registry.services.finetune.data_formats import parse_columns

    return parse_columns(str(value))


def prepare_split(data: Path, run_dir: Path, params: Mapping[str, Any]) -> PreparedSplit:
    """Validate `data` and write its clean rows, split, into run_dir (train.jsonl, val.jsonl)."""
    fmt = params.get("format")
    report = validate_file(
        data,
        format=DataFormat(fmt) if fmt else None,
        columns=_columns(params.get("columns")),
        context_tokens=int(params.get("context") or DEFAULT_CONTEXT),
        split=DataSplit(
            validation_fraction=float(params.get("validation_fraction", 0.1)),
            seed=int(params.get("split_seed", 42)),
        ),
    )
    if report.good == 0:
        raise UserInputError(f"{data.name} has no usable training rows.")
    drop = bool(params.get("drop_bad_rows", False))
    counts = []
    for side, name in (("train", TRAIN_FILE), ("validation", VALIDATION_FILE)):
        rows = 0
        partial = run_dir / (name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            for example in training_examples(report, split=side, drop_bad_rows=drop):  # type: ignore[arg-type]
                out.write(example.model_dump_json(exclude_none=True) + "\n")
                rows += 1
        partial.replace(run_dir / name)
        counts.append(rows)
    if counts[0] == 0:
        raise UserInputError(
            f"{data.name}: every clean row fell in the validation split; lower "
            "validation_fraction or add rows."
        )
    return PreparedSplit(counts[0], counts[1])


def chosen_preset(name: str, params: Mapping[str, Any]) -> TrainingPreset:
    """The named preset with the job's edits (params["settings"], dotted for LoRA) applied."""
    preset = get_preset(name or DEFAULT_PRESET)
    changes = params.get("settings") or {}
    if not isinstance(changes, Mapping):
        raise UserInputError("settings: expected KEY=VALUE pairs, e.g. lora.rank=16")
    return edit_preset(preset, changes) if changes else preset


def preset_settings(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """TrainConfig's hyperparameters from a preset (and the job's own trainer-only options)."""
    preset = chosen_preset(name, params)
    settings: dict[str, Any] = {
        "learning_rate": preset.learning_rate,
        "batch_size": preset.batch_size,
        "epochs": preset.epochs,
        "warmup_steps": preset.warmup_steps,
        "max_steps": preset.max_steps or 0,
        "grad_accum": preset.gradient_accumulation_steps,
        "seed": preset.seed,
        "lora_r": preset.lora.rank,
        "lora_alpha": preset.lora.alpha,
        "lora_dropout": preset.lora.dropout,
        "target_modules": list(preset.lora.target_modules),
    }
    for key in ("checkpoint_every", "eval_every", "max_length", "threads"):
        if params.get(key) is not None:
            settings[key] = int(params[key])
    return settings
