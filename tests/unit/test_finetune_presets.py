"""The brief's three LoRA presets, exactly, and editing them: every field editable, every bad
value refused with the field named."""

from __future__ import annotations

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.presets import (
    PRESETS,
    edit_preset,
    get_preset,
    make_preset,
    preset_names,
    setting_names,
)


@pytest.mark.parametrize(
    ("name", "learning_rate", "batch_size", "epochs", "warmup_steps"),
    [
        ("efficient", 2e-5, 2, 2, 50),
        ("balanced", 1e-5, 4, 3, 100),
        ("high_quality", 5e-6, 8, 5, 200),
    ],
)
def test_presets_carry_the_briefs_figures(name, learning_rate, batch_size, epochs, warmup_steps):
    preset = get_preset(name)
    assert (preset.learning_rate, preset.batch_size, preset.epochs, preset.warmup_steps) == (
        learning_rate,
        batch_size,
        epochs,
        warmup_steps,
    )


def test_there_are_exactly_three_presets_in_the_briefs_order():
    assert preset_names() == ["efficient", "balanced", "high_quality"]


@pytest.mark.parametrize("spelled", ["high quality", "High-Quality", " high_quality "])
def test_a_preset_name_can_be_spelled_as_people_write_it(spelled: str):
    assert get_preset(spelled).name == "high_quality"


def test_an_unknown_preset_lists_the_ones_there_are():
    with pytest.raises(UserInputError, match="efficient, balanced, high_quality"):
        get_preset("fastest")


def test_every_setting_can_be_edited_including_lora_ones():
    edited = edit_preset(
        get_preset("balanced"),
        {
            "learning_rate": 3e-4,
            "batch_size": 16,
            "epochs": 1,
            "warmup_steps": 0,
            "max_steps": 40,
            "gradient_accumulation_steps": 2,
            "seed": 7,
            "lora.rank": 16,
            "lora.alpha": 32,
            "lora.dropout": 0.0,
            "lora.target_modules": "q_proj, v_proj",
        },
    )
    assert (edited.learning_rate, edited.batch_size, edited.max_steps, edited.seed) == (
        3e-4,
        16,
        40,
        7,
    )
    assert (edited.lora.rank, edited.lora.alpha, edited.lora.dropout) == (16, 32.0, 0.0)
    assert edited.lora.target_modules == ("q_proj", "v_proj")
    assert edited.name == "balanced (edited)"


def test_editing_a_preset_leaves_the_built_in_one_as_it_was():
    edit_preset(get_preset("efficient"), {"lora.rank": 64, "epochs": 9})
    assert PRESETS["efficient"].epochs == 2 and PRESETS["efficient"].lora.rank == 8
    assert get_preset("efficient").lora.rank == 8


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "two"}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"warmup_steps": -5}, "warmup_steps"),
        ({"max_steps": 0}, "max_steps"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps"),
        ({"seed": -1}, "seed"),
        ({"lora.rank": 0}, "lora.rank"),
        ({"lora.alpha": -8}, "lora.alpha"),
        ({"lora.dropout": 1.0}, "lora.dropout"),
        ({"lora.target_modules": ""}, "lora.target_modules"),
        ({"lora.target_modules": ["q_proj", "v proj"]}, "lora.target_modules"),
    ],
)
def test_an_invalid_value_is_refused_with_the_field_named(changes, field):
    with pytest.raises(UserInputError) as caught:
        edit_preset(get_preset("balanced"), changes)
    assert str(caught.value).startswith(f"invalid training settings: {field}: ")


def test_an_unknown_setting_is_refused_with_the_names_there_are():
    with pytest.raises(UserInputError) as caught:
        edit_preset(get_preset("balanced"), {"lr": 1e-4})
    assert "unknown setting 'lr'" in str(caught.value)
    assert "learning_rate" in str(caught.value) and "lora.rank" in str(caught.value)


def test_a_command_line_style_lora_name_is_understood():
    assert edit_preset(get_preset("balanced"), {"lora_rank": 4}).lora.rank == 4


def test_a_saved_recipe_round_trips_through_plain_data():
    edited = edit_preset(get_preset("high_quality"), {"lora.rank": 32})
    assert make_preset(edited.model_dump(mode="json")) == edited


def test_the_setting_names_cover_the_briefs_list():
    names = set(setting_names())
    for needed in (
        "learning_rate",
        "batch_size",
        "epochs",
        "warmup_steps",
        "max_steps",
        "gradient_accumulation_steps",
        "seed",
        "lora.rank",
        "lora.alpha",
        "lora.dropout",
        "lora.target_modules",
    ):
        assert needed in names
