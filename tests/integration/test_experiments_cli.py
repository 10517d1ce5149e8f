"""The experiment, slot and export-modelfile commands through the real CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models()) as emu:
        yield emu


@pytest.fixture
def db(tmp_path: Path, emu: OllamaEmulator, capsys, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    path = tmp_path / "registry.db"
    assert cli(["--db", str(path), "sync", "--ollama-url", emu.url]) == 0
    capsys.readouterr()
    return path


def run(capsys, db: Path, emu: OllamaEmulator, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(db), "--ollama-url", emu.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_experiment_create_list_and_export_from_the_command_line(capsys, db, emu):
    code, out, err = run(
        capsys, db, emu, "experiment", "create", "--type", "parameter_tuning",
        "--base", "llama3.1:8b", "--param", "temperature=0.2", "--param", "stop=END",
        "--name", "cold",
    )  # fmt: skip
    assert code == 0, err
    assert "Created cold:latest" in out and "MLflow run" in out
    assert (db.parent / "mlflow.db").is_file()  # the default store sits beside the registry
    body = next(r.body for r in emu.requests if r.path == "/api/create")
    assert body["parameters"] == {"temperature": 0.2, "stop": ["END"]}

    code, out, _ = run(capsys, db, emu, "experiment", "list", "--json")
    (row,) = json.loads(out)
    assert row["name"] == "cold:latest" and row["type"] == "parameter_tuning"
    assert row["mlflow_run_id"]

    code, out, _ = run(capsys, db, emu, "export-modelfile", "cold")
    assert code == 0
    assert out.splitlines()[1:] == ["FROM llama3.1:8b", "PARAMETER temperature 0.2",
                                    'PARAMETER stop "END"']  # fmt: skip


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--param", "temperature=-1"], "options.temperature"),
        (["--param", "warmth=3"], "options.warmth"),
        (["--base", "ghost:1b", "--param", "seed=1"], "base"),
    ],
)
def test_bad_recipes_exit_1_naming_the_field(capsys, db, emu, args, field):
    base = [] if "--base" in args else ["--base", "llama3.1:8b"]
    code, _, err = run(
        capsys, db, emu, "experiment", "create", "--type", "parameter_tuning", *base, *args
    )
    assert code == 1
    assert f"{field}:" in err
    assert "Traceback" not in err
    assert emu.count("/api/create") == 0


def test_slot_commands_switch_rollback_and_show_history(capsys, db, emu):
    assert run(capsys, db, emu, "slot", "create", "assistant", "--capability", "completion")[0] == 0
    assert (
        run(capsys, db, emu, "slot", "add", "assistant", "llama3.1:8b", "--version", "1.0.0")[0]
        == 0
    )
    assert (
        run(capsys, db, emu, "slot", "add", "assistant", "qwen3:8b", "--version", "1.1.0")[0] == 0
    )
    code, out, err = run(capsys, db, emu, "slot", "switch", "assistant", "1.1.0", "--reason", "try")
    assert code == 0, err
    assert "1.0.0 → 1.1.0" in out
    assert run(capsys, db, emu, "slot", "rollback", "assistant")[0] == 0
    code, out, _ = run(capsys, db, emu, "slot", "history", "assistant", "--json")
    assert [(h["action"], h["to_version"]) for h in json.loads(out)] == [
        ("slot_switch", "1.1.0"),
        ("slot_rollback", "1.0.0"),
    ]
    code, out, _ = run(capsys, db, emu, "slot", "list", "--json")
    assert json.loads(out)[0]["active_model"] == "llama3.1:8b"
    code, _, err = run(capsys, db, emu, "slot", "switch", "assistant", "7.0.0")
    assert code == 1 and "version:" in err
