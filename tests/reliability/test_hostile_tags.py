"""A hostile or broken /api/tags: a message and exit 2, never a traceback, never a changed row.

One bad entry is that entry's error (the others still sync); a reply that is not a model list
at all is the server's error, and never counts as "the server has none of your models".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.reliability.conftest import deep_json, raw_json, registry_rows, sync
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, RawReply

NEWCOMER = EmulatedModel("smollm2:135m", family="llama", parameter_size="135M")


def serve_tags_with(emu: OllamaEmulator, change: Any) -> None:
    """Serve the emulator's real tags body, with `change(entries)` applied, as a raw reply."""
    body = emu.tags_json()
    change(body["models"])
    emu.raw_replies["/api/tags"] = raw_json(body)


@pytest.mark.parametrize(
    ("case", "reply"),
    [
        ("invalid_utf8", RawReply(b'{"models":[{"name":"\xff\xfe llama","digest":"ab"}]}')),
        ("nested_100000_deep", RawReply(deep_json())),
        ("a_list_not_an_object", raw_json([1, 2, 3])),
        ("null", raw_json(None)),
        ("models_is_a_string", raw_json({"models": "llama3.1:8b"})),
        ("empty_body", RawReply(b"")),
    ],
)
def test_a_tags_reply_that_is_not_a_model_list_is_the_servers_error_and_changes_no_row(
    case, reply, synced, registry_path, capsys
):
    before = registry_rows(registry_path)
    synced.raw_replies["/api/tags"] = reply
    code = sync(registry_path, synced, capsys)
    err = capsys.readouterr().err
    assert code == 2, case
    assert "Traceback" not in err
    assert f"Ollama at {synced.url}" in err
    assert registry_rows(registry_path) == before


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("details_is_a_string", {"details": "gguf"}),
        ("parameter_size_is_a_number", {"details": {"parameter_size": 8}}),
        ("quantization_level_is_a_list", {"details": {"quantization_level": ["Q4"]}}),
        ("families_is_a_number", {"details": {"families": 3}}),
        ("size_is_text", {"size": "big"}),
        ("capabilities_is_a_string", {"capabilities": "completion"}),
    ],
)
def test_one_bad_tags_entry_is_that_models_error_and_the_others_still_sync(
    case, change, synced, registry_path, capsys
):
    before = registry_rows(registry_path)
    synced.add_model(NEWCOMER)

    def spoil(entries: list[Any]) -> None:
        entry = next(e for e in entries if e["name"] == "phi:2.7b")
        for key, value in change.items():
            if isinstance(value, dict):
                entry[key] = {**entry[key], **value}
            else:
                entry[key] = value

    serve_tags_with(synced, spoil)
    code = sync(registry_path, synced, capsys)
    out, err = capsys.readouterr()
    assert code == 2, case
    assert "Traceback" not in err
    assert "error: phi:2.7b:" in err
    assert "1 added" in out and "0 missing" in out  # the newcomer synced, nothing marked missing
    after = [r for r in registry_rows(registry_path) if r["name"] != NEWCOMER.name]
    assert after == before  # phi:2.7b kept as it was: neither updated nor missing


@pytest.mark.parametrize(
    ("case", "junk"),
    [
        ("a_string", "phi:2.7b"),
        ("a_number", 42),
        ("null", None),
        ("a_list", ["phi:2.7b"]),
    ],
)
def test_tags_entries_that_are_not_objects_are_reported_and_mark_nothing_missing(
    case, junk, synced, registry_path, capsys
):
    """phi:2.7b is replaced by junk: it may be that entry, so it must not be marked missing."""
    before = registry_rows(registry_path)

    def spoil(entries: list[Any]) -> None:
        index = next(i for i, e in enumerate(entries) if e["name"] == "phi:2.7b")
        entries[index] = junk

    serve_tags_with(synced, spoil)
    code = sync(registry_path, synced, capsys)
    out, err = capsys.readouterr()
    assert code == 2, case
    assert "Traceback" not in err
    assert "entry 5" in err  # the position of the junk, since it has no name to give
    assert "0 missing" in out
    assert registry_rows(registry_path) == before


@pytest.mark.parametrize(
    ("case", "name"),
    [("no_name", None), ("name_is_a_number", 8), ("name_is_a_list", ["a"]), ("empty", "")],
)
def test_tags_entries_without_usable_names_change_no_row(case, name, synced, registry_path, capsys):
    before = registry_rows(registry_path)

    def spoil(entries: list[Any]) -> None:
        for entry in entries:
            entry.pop("model", None)
            if name is None:
                entry.pop("name")
            else:
                entry["name"] = copy.deepcopy(name)

    serve_tags_with(synced, spoil)
    code = sync(registry_path, synced, capsys)
    err = capsys.readouterr().err
    assert code == 2, case
    assert "Traceback" not in err
    assert "not a model list" in err
    assert registry_rows(registry_path) == before  # not "every model went missing"
