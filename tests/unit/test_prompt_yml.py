"""`.prompt.yml` files as `gh models eval` reads them: parse, template, export unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from desktop_registry.errors import UserInputError
from desktop_registry.resources_path import resource
from desktop_registry.services.evaluation.suite import (
    EvalSuite,
    dump_prompt_yml,
    equivalent,
    parse_prompt_yml,
    render,
)


def real_prompt_files(shared_protocols: Path) -> list[Path]:
    files = sorted((shared_protocols / "gh-models-prompts").glob("*.yml"))
    assert files, "the gh-models examples are missing from ../shared/protocols"
    return files


def test_every_gh_models_example_parses_and_exports_byte_for_byte(shared_protocols):
    for path in real_prompt_files(shared_protocols):
        text = path.read_text()
        suite = parse_prompt_yml(text, origin=path.name)
        assert suite.name and suite.messages
        assert dump_prompt_yml(suite) == text


def test_json_schema_example_keeps_its_schema_and_response_format(shared_protocols):
    suite = parse_prompt_yml(
        (shared_protocols / "gh-models-prompts/json_schema_prompt.yml").read_text()
    )
    assert suite.response_format == "json_schema"
    assert suite.json_schema and suite.json_schema["name"] == "animal_description"
    assert [r["animal"] for r in suite.rows()] == ["dog", "cat", "elephant"]
    assert suite.chat_messages(suite.rows()[2])[1].content == "Describe a elephant in detail."


def test_sample_prompt_maps_model_parameters_to_serving_options(shared_protocols):
    suite = parse_prompt_yml((shared_protocols / "gh-models-prompts/sample_prompt.yml").read_text())
    assert suite.options() == {"temperature": 0.5, "num_predict": 50}
    assert [e.kind for e in suite.evaluators] == ["string", "uses"]


def test_a_suite_built_here_exports_only_the_keys_it_has_in_order():
    raw = {"name": "Mini", "model": "phi", "messages": [{"role": "user", "content": "a\nb"}]}
    suite = EvalSuite(name="Mini", raw=raw)
    text = dump_prompt_yml(suite)
    assert list(yaml.safe_load(text)) == ["name", "model", "messages"]
    assert "content: |" in text  # multi-line prompts stay readable
    assert equivalent(text, yaml.safe_dump(raw))


def test_render_leaves_unknown_placeholders_like_gh_models():
    assert render("{{a}} and {{b}}", {"a": 1, "flag": True}) == "1 and {{b}}"
    assert render("{{x}}", {"x": {"k": [1]}}) == '{"k": [1]}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list", "a mapping"),
        ("description: no name\nmessages: [{role: user, content: hi}]", "`name` is missing"),
        ("name: x\nmessages: [{role: robot, content: hi}]", "messages[0]"),
        ("name: x\nmessages: []", "`messages` is empty"),
        (
            "name: x\nmessages: [{role: user, content: hi}]\nevaluators: [{name: e}]",
            "evaluators[0]",
        ),
        ("name: x\nmessages: [{role: user, content: hi}]\nresponseFormat: xml", "responseFormat"),
        ("name: x\nmessages: [{role: user, content: hi}]\njsonSchema: '{oops'", "jsonSchema"),
        ("name: [unclosed", "not valid YAML"),
    ],
)
def test_a_broken_prompt_file_names_what_to_fix(text, message):
    with pytest.raises(UserInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_prompt_yml(text)


def test_shipped_suites_all_parse_and_have_evaluators():
    files = sorted(resource("eval_suites").glob("*.prompt.yml"))
    assert len(files) >= 4
    for path in files:
        suite = parse_prompt_yml(path.read_text(), origin=path.name)
        assert suite.evaluators and suite.test_data, path.name
