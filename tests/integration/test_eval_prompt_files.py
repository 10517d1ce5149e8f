"""A real gh-models prompt file imports, runs against emulated local and remote models (real
sockets), and exports back unchanged; judges that answer nonsense are reported, not fatal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from desktop_registry.cli import main as cli
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

JUDGE_GOOD = EmulatedModel("judge-good:1b", reply="4")
JUDGE_CONFUSED = EmulatedModel("judge-confused:1b", reply="I'd rather not rate this one.")


@pytest.fixture
def ollama() -> Iterator[OllamaEmulator]:
    greeter = EmulatedModel("greeter:1b", reply="hello there, and goodbye for now")
    with OllamaEmulator([*standard_models(), greeter, JUDGE_GOOD, JUDGE_CONFUSED]) as emu:
        yield emu


@pytest.fixture
def github() -> Iterator[GitHubModelsEmulator]:
    with GitHubModelsEmulator() as emu:
        yield emu


@pytest.fixture
def home(capsys, data_home: Path, ollama, github, monkeypatch) -> Path:
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
    monkeypatch.setenv("GH_TOKEN", github.token)
    assert cli(["--db", str(data_home / "registry.db"), "sync", "--ollama-url", ollama.url]) == 0
    capsys.readouterr()
    return data_home


def cli_run(capsys, home: Path, ollama: OllamaEmulator, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), "--ollama-url", ollama.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_gh_models_sample_prompt_imports_runs_locally_and_remotely_and_exports_unchanged(
    capsys, home, ollama, shared_protocols
):
    source = shared_protocols / "gh-models-prompts" / "sample_prompt.yml"
    code, out, _ = cli_run(capsys, home, ollama, "eval", "import", str(source))
    assert code == 0 and "Sample Evaluation" in out

    code, out, err = cli_run(
        capsys,
        home,
        ollama,
        "eval",
        "run",
        "Sample Evaluation",
        "--models",
        "greeter:1b,openai/gpt-4o-mini",
        "--judge",
        "judge-good:1b",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    by_model = {m["model"]: m for m in result["models"]}
    greeter = by_model["greeter:1b"]
    # greeter's reply contains "hello" and "goodbye": both rows pass both evaluators
    assert greeter["rows"] == 2 and greeter["passed"] == 2 and greeter["mean_score"] == 0.875
    remote = by_model["openai/gpt-4o-mini"]
    assert remote["rows"] == 2 and remote["errors"] == 0 and remote["latency_p50_ms"] > 0

    code, exported, _ = cli_run(capsys, home, ollama, "eval", "export", "Sample Evaluation")
    assert code == 0
    assert exported == source.read_text()
    assert yaml.safe_load(exported) == yaml.safe_load(source.read_text())


def chat_bodies(emulator: OllamaEmulator | GitHubModelsEmulator, path: str) -> list[dict]:
    return [r.body for r in emulator.requests if r.path == path and isinstance(r.body, dict)]


def test_json_schema_prompt_sends_its_schema_to_local_and_remote_models(
    capsys, home, ollama, github, shared_protocols
):
    source = shared_protocols / "gh-models-prompts" / "json_schema_prompt.yml"
    schema = json.loads(yaml.safe_load(source.read_text())["jsonSchema"])
    assert cli_run(capsys, home, ollama, "eval", "import", str(source))[0] == 0
    code, out, err = cli_run(
        capsys,
        home,
        ollama,
        "eval",
        "run",
        "JSON Schema Response Example",
        "--models",
        "llama3.1:8b,openai/gpt-4o-mini",
        "--json",
    )
    assert code == 0, err
    # Ollama gets the schema itself as `format`; GitHub Models gets OpenAI's response_format,
    # exactly as `gh models eval` builds it from the file
    local = chat_bodies(ollama, "/api/chat")
    assert len(local) == 3 and all(b["format"] == schema["schema"] for b in local)
    remote = chat_bodies(github, "/inference/chat/completions")
    assert len(remote) == 3
    assert all(
        b["response_format"] == {"type": "json_schema", "json_schema": schema} for b in remote
    )
    # both answer JSON that fills the schema's fields, so "name" and "habitat" are in every reply
    by_model = {m["model"]: m for m in json.loads(out)["models"]}
    for summary in by_model.values():
        assert summary["rows"] == 3 and summary["passed"] == 3 and summary["errors"] == 0

    code, exported, _ = cli_run(
        capsys, home, ollama, "eval", "export", "JSON Schema Response Example"
    )
    assert code == 0 and yaml.safe_load(exported) == yaml.safe_load(source.read_text())


def test_json_object_format_reaches_both_kinds_of_model_and_text_sends_none(
    capsys, home, ollama, github, tmp_path
):
    suite = {
        "name": "Formats",
        "model": "llama3.1:8b",
        "responseFormat": "json_object",
        "messages": [{"role": "user", "content": "Reply in JSON: {{q}}"}],
        "testData": [{"q": "hi"}],
        "evaluators": [{"name": "json", "uses": "desktop-registry/json-valid"}],
    }
    path = tmp_path / "formats.prompt.yml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    models = "llama3.1:8b,openai/gpt-4o-mini"
    code, out, err = cli_run(capsys, home, ollama, "eval", "run", str(path), "--models", models)
    assert code == 0, err
    assert [b["format"] for b in chat_bodies(ollama, "/api/chat")] == ["json"]
    remote = chat_bodies(github, "/inference/chat/completions")
    assert [b["response_format"] for b in remote] == [{"type": "json_object"}]
    assert out.count(" 1/1 ") == 2  # each model's JSON reply passes json-valid

    ollama.reset_counts()
    github.requests.clear()
    path.write_text(yaml.safe_dump({**suite, "name": "Plain", "responseFormat": "text"}))
    cli_run(capsys, home, ollama, "eval", "run", str(path), "--models", models)
    assert [b.get("format") for b in chat_bodies(ollama, "/api/chat")] == [None]
    assert ["response_format" in b for b in chat_bodies(github, "/inference/chat/completions")] == [
        False
    ]


def test_a_judge_that_answers_nonsense_is_reported_per_row_and_the_run_finishes(
    capsys, home, ollama, shared_protocols
):
    source = shared_protocols / "gh-models-prompts" / "sample_prompt.yml"
    cli_run(capsys, home, ollama, "eval", "import", str(source))
    code, out, err = cli_run(
        capsys,
        home,
        ollama,
        "eval",
        "run",
        "Sample Evaluation",
        "--models",
        "greeter:1b",
        "--judge",
        "judge-confused:1b",
        "--json",
    )
    assert code == 0
    summary = json.loads(out)["models"][0]
    assert summary["errors"] == 2 and summary["passed"] == 0
    assert "similarity check: judge reply matched none of the choices" in err
    assert "rather not rate" in err


def test_a_typo_in_a_model_name_fails_before_any_request(capsys, home, ollama):
    ollama.reset_counts()
    code, _, err = cli_run(
        capsys, home, ollama, "eval", "run", "General QA", "--models", "llama3.1:8b,nope:1b"
    )
    assert code == 1 and "nope" in err
    assert ollama.count("/api/chat") == 0


def test_list_shows_shipped_suites_and_export_of_unknown_suite_says_how_to_find_one(
    capsys, home, ollama
):
    code, out, _ = cli_run(capsys, home, ollama, "eval", "list", "--json")
    names = {s["name"] for s in json.loads(out)}
    assert {"General QA", "Coding", "JSON Extraction", "Function Calling"} <= names
    code, _, err = cli_run(capsys, home, ollama, "eval", "export", "Nope")
    assert code == 1 and "eval list" in err


def test_function_calling_suite_scores_tool_calls_and_a_model_without_tools_errors(
    capsys, home, ollama
):
    code, out, _ = cli_run(
        capsys,
        home,
        ollama,
        "eval",
        "run",
        "Function Calling",
        "--models",
        "llama3.1:8b,phi:2.7b",
        "--json",
    )
    by_model = {m["model"]: m for m in json.loads(out)["models"]}
    # the emulator always asks for Paris: right for the Paris row only
    assert by_model["llama3.1:8b"]["passed"] == 1 and by_model["llama3.1:8b"]["failed"] == 2
    assert by_model["phi:2.7b"]["errors"] == 3
    assert code == 2  # every request to phi failed: its server refused tools
