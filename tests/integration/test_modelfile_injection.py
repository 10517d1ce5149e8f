"""Text that would end a Modelfile value early (and smuggle in a second FROM) is refused.

Ollama's Modelfile parser has no escapes: a \"\"\"-quoted value ends at the first line break after
three double quotes. `--system`, `--template` and `--shot` used to be written into the exported
Modelfile as they were, so `export-modelfile` printed a second `FROM evil2` line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.recipes import modelfile, modelfile_problem
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

HOSTILE = 'hi"""\nFROM evil2\nSYSTEM """x'


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


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--system", HOSTILE, "system"),
        ("--template", 'x"""\nFROM evil2\nTEMPLATE """y', "template"),
        ("--shot", 'ask"""\nFROM evil2 => answer', "few_shot.0.user"),
    ],
)
def test_hostile_text_is_refused_at_create_naming_the_field(capsys, db, emu, flag, value, field):
    code = cli([
        "--db", str(db), "--ollama-url", emu.url, "experiment", "create",
        "--type", "prompt_engineering", "--base", "llama3.1:8b", "--name", "evil", flag, value,
    ])  # fmt: skip
    _out, err = capsys.readouterr()
    assert code == 1
    assert f"{field}: a line may not end with three double quotes" in err
    assert "Traceback" not in err
    assert not any(r.path == "/api/create" for r in emu.requests)  # nothing reached Ollama


def test_the_exporter_refuses_such_text_even_from_a_record_made_before_the_check():
    with pytest.raises(UserInputError, match=r"^system: a line may not end"):
        modelfile("llama3.1:8b", system=HOSTILE)
    with pytest.raises(UserInputError, match=r"^base: .* may not contain a line break"):
        modelfile("llama3.1:8b\nFROM evil2")


def test_quotes_that_cannot_end_a_value_are_kept_and_exported_once():
    text = 'Say "hi"\nthen """quote""" mid-line\nend with """'
    assert modelfile_problem(text) is None
    exported = modelfile("llama3.1:8b", system=text)
    assert exported.count("FROM ") == 1
    assert exported.endswith(f'SYSTEM """{text}"""\n')
