"""Names a server sends with terminal escapes or bidi overrides are shown escaped, never raw:
`list` and `show` in a terminal, the tree and the inspector in the window."""

from __future__ import annotations

from pathlib import Path

from desktop_registry.cli import main as cli
from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.domain.entries import ModelEntry
from desktop_registry.storage import Database, ModelRepository

RED = "\x1b[31mllama3\x1b[0m:8b"
REVERSED = "invoice\u202egpj.exe:latest"


def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.db"
    db = Database.open(path)
    repo = ModelRepository(db)
    for name in (RED, REVERSED):
        repo.register(ModelRecord(name=name, source=Source.OLLAMA, serving=Serving.LOCAL))
    db.dispose()
    return path


def test_list_and_show_print_escapes_instead_of_control_characters(tmp_path, capsys):
    path = registry(tmp_path)
    assert cli(["--db", str(path), "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31mllama3\\x1b[0m:8b" in out
    assert "invoice\\u202egpj.exe:latest" in out
    assert cli(["--db", str(path), "show", RED]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[31mllama3" in out


def test_json_output_keeps_the_name_exactly_as_the_server_sent_it(tmp_path, capsys):
    import json

    path = registry(tmp_path)
    assert cli(["--db", str(path), "list", "--json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    assert names == {RED, REVERSED}


def test_the_windows_tree_label_is_escaped():
    from desktop_registry.ui.model_tree import model_label

    entry = ModelEntry(1, REVERSED, "latest", "ollama", "", "local", "base", "available",
                       ("general",), None, "")  # fmt: skip
    assert model_label(entry) == "invoice\\u202egpj.exe:latest"
