"""`pull`, `rm`, `ps` and `stop` with Ollama's names, against the emulator on a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

ROOT = Path(__file__).resolve().parents[2]
PULLABLE = EmulatedModel("gemma3:4b", family="gemma3", capabilities=["completion", "vision"])


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models(), library=[PULLABLE]) as emu:
        yield emu


@pytest.fixture
def db(tmp_path: Path, emu: OllamaEmulator, capsys) -> Path:
    path = tmp_path / "registry.db"
    assert cli(["--db", str(path), "--ollama-url", emu.url, "sync"]) == 0
    capsys.readouterr()
    return path


def run(capsys, db: Path, emu: OllamaEmulator, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(db), "--ollama-url", emu.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_pull_piped_prints_status_lines_and_adds_the_model(tmp_path, db, emu):
    name = PULLABLE.name
    done = subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", "--db", str(db), "--ollama-url", emu.url,
         "pull", name],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "pulling manifest" in lines[0]
    assert "\r" not in done.stdout  # no progress bar when piped
    assert lines[-1].startswith(f"{name} is pulled (") and lines[-1].endswith("in the registry.")
    shown = subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", "--db", str(db), "show", name, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(shown.stdout)["name"] == name


def test_ps_and_stop_show_and_free_a_loaded_model(capsys, db, emu):
    assert run(capsys, db, emu, "chat", "phi:2.7b", "hi")[0] == 0  # a chat loads it
    code, out, _ = run(capsys, db, emu, "ps")
    assert code == 0 and out.splitlines()[0].split() == ["NAME", "SIZE", "PROCESSOR", "CONTEXT",
                                                         "UNTIL"]  # fmt: skip
    assert "phi:2.7b" in out
    code, out, _ = run(capsys, db, emu, "stop", "phi:2.7b")
    assert code == 0 and out.strip() == "stopped phi:2.7b: its memory is free"
    code, out, _ = run(capsys, db, emu, "ps", "--json")
    assert "phi:2.7b" not in {m["name"] for m in json.loads(out)}


def test_rm_deletes_from_ollama_and_the_registry(capsys, db, emu):
    code, out, _ = run(capsys, db, emu, "rm", "qwen3:8b")
    assert code == 0 and out.strip() == "deleted 'qwen3:8b' from Ollama and the registry"
    assert any(r.path == "/api/delete" for r in emu.requests)
    code, _out, err = run(capsys, db, emu, "show", "qwen3:8b")
    assert code == 1 and "No model named 'qwen3:8b'" in err


def test_rm_of_an_unknown_model_is_a_user_error(capsys, db, emu):
    code, _out, err = run(capsys, db, emu, "rm", "nope:1b")
    assert code == 1 and "No model named 'nope:1b'" in err
    assert not any(r.path == "/api/delete" for r in emu.requests)
