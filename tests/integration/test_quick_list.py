"""`list` answered straight from the file prints exactly what the full path prints, for every
filter, and steps aside whenever only the full path can answer (new file, old schema, odd home).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.commands import registry as registry_commands
from desktop_registry.domain.categories import Category
from desktop_registry.storage.database import head_revisions
from desktop_registry.storage.quick_read import schema_heads


@pytest.fixture
def synced(capsys, data_home: Path, ollama, github, monkeypatch) -> Path:
    monkeypatch.setenv("GH_TOKEN", github.token)
    assert cli(["sync", "--ollama-url", ollama.url]) == 0
    capsys.readouterr()
    return data_home


def listing(capsys, *args: str) -> tuple[int, str]:
    code = cli(["list", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_the_migrations_heads_read_from_their_files_are_alembics() -> None:
    assert schema_heads() == head_revisions()


FILTERS = [
    (),
    *[("--category", c.value) for c in Category],
    ("--source", "ollama"),
    ("--source", "github_models"),
    ("--kind", "base"),
    ("--capability", "tools"),
    ("--capability", "vision"),
    ("--status", "available"),
    ("--category", "function_calling", "--source", "ollama"),
]


def test_the_quick_listing_equals_the_full_one_for_every_filter(
    capsys, synced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = {f: listing(capsys, *f) for f in FILTERS}
    answered = {f for f in FILTERS if registry_commands.quick_list(_args(*f)) is not None}
    capsys.readouterr()
    assert () in answered and ("--source", "ollama") in answered  # the quick path did answer
    monkeypatch.setattr(registry_commands, "quick_list", lambda args: None)
    for f in FILTERS:
        assert listing(capsys, *f) == quick[f], f


def _args(*argv: str):
    from desktop_registry.cli import build_parser

    return build_parser().parse_args(["list", *argv])


def test_a_registry_at_another_schema_is_left_to_the_full_path(capsys, synced: Path) -> None:
    """A file a newer app wrote (a revision this code has not got): the full path explains."""
    db = synced / "registry.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    assert registry_commands.quick_list(_args()) is None
    code, out = listing(capsys)
    assert code != 0 and "9999" in out and "Traceback" not in out


def test_a_home_chosen_in_settings_json_is_where_the_quick_list_reads(
    capsys, tmp_path: Path, ollama, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_registry.config import settings_path

    monkeypatch.delenv("DESKTOP_REGISTRY_HOME", raising=False)
    moved = tmp_path / "moved-registry"
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({"home": str(moved)}))
    assert cli(["sync", "--ollama-url", ollama.url]) == 0
    capsys.readouterr()
    assert (moved / "registry.db").is_file()
    assert registry_commands.quick_list(_args()) == 0
    assert "llama3.1:8b" in capsys.readouterr().out


def test_no_registry_yet_gets_the_full_paths_advice(capsys, data_home: Path) -> None:
    assert registry_commands.quick_list(_args()) is None
    code, out = listing(capsys)
    assert code == 0 and "Run `desktop-registry-cli sync`" in out
