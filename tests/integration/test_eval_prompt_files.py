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
def home(capsys, data_home: Path, ollama, monkeypatch) -> Iterator[Path]:
    with GitHubModelsEmulator() as github:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
        monkeypatch.setenv("GH_TOKEN", github.token)
        assert (
            cli(["--db", str(data_home / "registry.db"), "sync", "--ollama-url", ollama.url]) == 0
        )
        capsys.readouterr()
        yield data_home


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


def test_json_schema_prompt_runs_with_the_suites_schema(capsys, home, ollama, shared_protocols):
    source = shared_protocols / "gh-models-prompts" / "json_schema_prompt.yml"
    assert cli_run(capsys, home, ollama, "eval", "import", str(source))[0] == 0
    code, out, _ = cli_run(
        capsys,
        home,
        ollama,
        "eval",
        "run",
        "JSON Schema Response Example",
        "--models",
        "llama3.1:8b",
        "--json",
    )
    summary = json.loads(out)["models"][0]
    assert code == 0 and summary["rows"] == 3
    # llama's fixed greeting has neither "name" nor "habitat": every row fails, none errors
    assert summary["failed"] == 3 and summary["errors"] == 0


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
