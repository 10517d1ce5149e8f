"""Shared by the optimization tests: a "tunable" emulated model and a registry that knows it.

The model answers right only near temperature 0.7, top_p 0.9 (see EmulatedModel.answer_region).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from desktop_registry.app import AppContext, build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator

MODEL = "tunable:1b"
REGION = {"temperature": (0.7, 0.5), "top_p": (0.9, 0.5)}
SPACE = ["temperature=0:1:0.2", "top_p=0:1:0.2"]  # a 6 x 6 grid; 4 points sit in the best region


def tunable_emulator() -> OllamaEmulator:
    small = {
        "parameter_size": "1.2B",
        "parameter_count": 1_235_814_400,
        "size": 807_694_464,
        "block_count": 16,
        "embedding_length": 2048,
    }  # fits any test machine's memory
    model = EmulatedModel(MODEL, reply="no idea", answer_region=dict(REGION), **small)  # type: ignore[arg-type]
    return OllamaEmulator([model])


def echo_suite(rows: int = 12, name: str = "Echo") -> str:
    return yaml.safe_dump(
        {
            "name": name,
            "model": MODEL,
            "messages": [{"role": "user", "content": "word-{{n}}"}],
            "testData": [{"n": i} for i in range(rows)],
            "evaluators": [{"name": "echoes", "string": {"contains": "word-{{n}}"}}],
        },
        sort_keys=False,
    )


def registry_with_model(home: Path, emu: OllamaEmulator, rows: int = 12) -> Path:
    """A registry (home/registry.db) synced from the emulator, with the Echo suite imported."""
    db = home / "registry.db"
    assert cli(["--db", str(db), "sync", "--ollama-url", emu.url]) == 0
    suite = home / "echo.prompt.yml"
    suite.write_text(echo_suite(rows))
    assert cli(["--db", str(db), "eval", "import", str(suite)]) == 0
    return db


def context(home: Path, emu: OllamaEmulator) -> AppContext:
    return build_context(
        Settings(home=home / "h", ollama_url=emu.url), db_path=home / "registry.db"
    )
