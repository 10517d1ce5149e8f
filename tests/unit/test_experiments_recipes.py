"""Recipes refuse bad input naming the field; combination rules and MLflow params behave."""

from __future__ import annotations

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.recipes import modelfile, parse_recipe
from desktop_registry.services.serving.ensemble import (
    MemberAnswer,
    first_valid_json,
    judged,
    majority,
)
from desktop_registry.tracking.mlflow import flatten, public_uri, registered_name


def refused(recipe: dict) -> str:
    with pytest.raises(UserInputError) as caught:
        parse_recipe(recipe)
    return caught.value.message


def tuning(**options) -> dict:
    return {"type": "parameter_tuning", "name": "v", "base": "llama3.1:8b", "options": options}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"temperature": -1}, "options.temperature: input should be greater than or equal to 0"),
        ({"top_p": 1.5}, "options.top_p: input should be less than or equal to 1"),
        ({"num_ctx": "big"}, "options.num_ctx: input should be a valid integer"),
        ({"mirostat_tau": 5}, "options.mirostat_tau: not an option Ollama accepts"),
        ({}, "options: set at least one generation option"),
    ],
)
def test_bad_generation_options_are_refused_naming_the_field(options, expected):
    assert expected in refused(tuning(**options))


def test_missing_base_unknown_type_and_bad_name_are_named():
    assert "base: required" in refused({"type": "parameter_tuning", "name": "v", "options": {}})
    assert refused({"type": "distillation"}).startswith("type: 'distillation'")
    assert "name 'my variant'" in refused({**tuning(seed=1), "name": "my variant"})


def test_prompt_recipe_needs_every_template_variable():
    message = refused(
        {"type": "prompt_engineering", "name": "p", "base": "b", "system": "Hi {{who}}"}
    )
    assert message.endswith("variables: no value for who used in the system prompt")
    recipe = parse_recipe(
        {
            "type": "prompt_engineering",
            "name": "p",
            "base": "b",
            "system": "Hi {{ who }}",
            "variables": {"who": "Ana"},
        }
    )
    assert recipe.rendered_system() == "Hi Ana"


def test_modelfile_has_from_parameters_system_and_messages():
    text = modelfile(
        "llama3.1:8b",
        options={"temperature": 0.2, "stop": ["<|a|>", "<|b|>"]},
        system="Line one\nline two",
        messages=[("user", "Hi"), ("assistant", "Hello")],
    )
    assert text.splitlines() == [
        "FROM llama3.1:8b",
        "PARAMETER temperature 0.2",
        'PARAMETER stop "<|a|>"',
        'PARAMETER stop "<|b|>"',
        'SYSTEM """Line one',
        'line two"""',
        "MESSAGE user Hi",
        "MESSAGE assistant Hello",
    ]


def answers(*texts: str) -> list[MemberAnswer]:
    return [MemberAnswer(f"m{i}", t, None) for i, t in enumerate(texts)]


def test_majority_ignores_case_spacing_and_end_punctuation_and_ties_go_to_the_first():
    assert majority(answers("Lyon", "Paris.", " paris ")).text == "Paris."
    assert majority(answers("Lyon", "Paris")).text == "Lyon"


def test_judge_reply_is_read_by_number_or_by_member_name():
    pool = answers("a", "b", "c")
    assert judged("Answer 2 is best", pool) is pool[1]
    assert judged("I prefer m2's answer", pool) is pool[2]
    assert judged("Answer 9", pool) is None


def test_first_valid_json_accepts_fenced_json_and_skips_prose():
    pool = answers("Sure! Here it is", '```json\n{"a": 1}\n```', "[1]")
    assert first_valid_json(pool) is pool[1]
    assert first_valid_json(answers("no", "nope")) is None


def test_mlflow_params_never_carry_secrets_and_uris_lose_credentials():
    params = flatten(
        {"options": {"temperature": 0.2}, "api_key": "sk-1", "headers": {"token": "x"}}
    )
    assert params == {"options.temperature": "0.2"}
    assert public_uri("https://ana:s3cret@mlflow.example.com/path?token=x") == (
        "https://mlflow.example.com/path"
    )
    assert registered_name("llama-cold:latest") == "llama-cold-latest"
