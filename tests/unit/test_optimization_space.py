"""Search spaces: the CLI spelling, the per-model-type defaults, and every refusal naming its field."""

from __future__ import annotations

import pytest

from desktop_registry.domain.optimization import ModelType, ParameterRange
from desktop_registry.errors import UserInputError
from desktop_registry.services.optimization.space import (
    default_space,
    fit_num_ctx,
    grid_values,
    merge_space,
    parse_range,
    validate_space,
)


def test_cli_spelling_reads_ranges_steps_and_choices():
    assert parse_range("temperature=0:1.2:0.1") == ParameterRange(
        name="temperature", low=0, high=1.2, step=0.1
    )
    top_k = parse_range("top_k=20,40,80")
    assert top_k.choices == [20, 40, 80] and top_k.categorical
    assert parse_range("num_ctx=2048:8192:2048").integer
    assert parse_range("top_p=0.8:1").describe() == "top_p=0.8:1"


@pytest.mark.parametrize(
    ("spec", "field", "why"),
    [
        ("temperature=1:0", "temperature", "above high"),
        ("warmth=0:1", "warmth", "not an option"),
        ("temperature=0:1:0.3", "temperature", "does not divide"),
        ("top_k=", "top_k", "at least one value"),
        ("top_k=1.5:10", "top_k", "whole numbers"),
        ("temperature=0:9", "temperature", "leaves 0..2"),
        ("temperature=0:1:0", "temperature", "above 0"),
    ],
)
def test_an_invalid_space_is_refused_naming_the_field(spec, field, why):
    with pytest.raises(UserInputError) as caught:
        validate_space([parse_range(spec)])
    assert f"space {field}" in str(caught.value) and why in str(caught.value)


@pytest.mark.parametrize("spec", ["temperature", "temperature=a:1", "temperature=0:1:2:3"])
def test_a_malformed_range_says_how_to_write_one(spec):
    with pytest.raises(UserInputError, match="temperature"):
        parse_range(spec)


def test_a_log_range_needs_a_positive_low():
    with pytest.raises(UserInputError, match="space min_p: a log range"):
        validate_space([ParameterRange(name="min_p", low=0, high=0.5, log=True)])


def test_an_empty_space_and_a_repeated_option_are_refused():
    with pytest.raises(UserInputError, match="space: name at least one"):
        validate_space([])
    twice = [parse_range("top_p=0:1"), parse_range("top_p=0.5:1")]
    with pytest.raises(UserInputError, match="space top_p: named twice"):
        validate_space(twice)


def test_options_a_server_does_not_take_are_refused_for_that_server():
    assert validate_space([parse_range("top_k=10:50:10")], "ollama")
    with pytest.raises(UserInputError, match=r"space top_k: not an option .*github_models"):
        validate_space([parse_range("top_k=10:50:10")], "github_models")
    assert validate_space([parse_range("top_k=10:50:10")], "llamacpp")


@pytest.mark.parametrize("model_type", list(ModelType))
def test_each_model_type_has_a_valid_default_space(model_type):
    space = default_space(model_type)
    assert {"temperature", "top_p"} <= {p.name for p in space}
    assert validate_space(space) == space


def test_defaults_for_a_remote_model_keep_only_what_its_api_accepts():
    names = {p.name for p in default_space(ModelType.GENERAL, "github_models")}
    assert names == {"temperature", "top_p"}  # top_k is Ollama's and llama.cpp's, not OpenAI's


def test_creative_defaults_run_hotter_than_code_defaults():
    code = next(p for p in default_space(ModelType.CODE) if p.name == "temperature")
    creative = next(p for p in default_space(ModelType.CREATIVE) if p.name == "temperature")
    assert creative.low >= code.high


def test_a_user_range_replaces_the_default_of_the_same_name():
    merged = merge_space(default_space(ModelType.GENERAL), [parse_range("temperature=0.2:0.4")])
    temperature = next(p for p in merged if p.name == "temperature")
    assert (temperature.low, temperature.high) == (0.2, 0.4)
    assert len(merged) == len(default_space(ModelType.GENERAL))


def test_grid_visits_each_step_and_five_points_of_an_unstepped_range():
    assert grid_values(parse_range("temperature=0:1:0.25")) == [0, 0.25, 0.5, 0.75, 1.0]
    assert grid_values(parse_range("top_p=0:1")) == [0, 0.25, 0.5, 0.75, 1.0]
    assert grid_values(parse_range("top_k=20,40")) == [20, 40]


def test_num_ctx_values_that_do_not_fit_are_left_out_with_a_note():
    space = [parse_range("temperature=0:1:0.5"), parse_range("num_ctx=4096:16384:4096")]
    kept, notes = fit_num_ctx(space, lambda n: None if n <= 8192 else f"needs {n // 1024} GB")
    num_ctx = next(p for p in kept if p.name == "num_ctx")
    assert num_ctx.choices == [4096, 8192]
    assert notes == ["num_ctx 12288 left out: needs 12 GB", "num_ctx 16384 left out: needs 16 GB"]
