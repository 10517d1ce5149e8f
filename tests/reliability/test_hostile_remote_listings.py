"""A hostile GitHub Models catalog or OpenAI-compatible /v1/models: a message, exit 2, no changed row.

Real emulators on real sockets, the real CLI. A reply that is not a model list (or holds no usable
model) is the server's error and never counts as "the server has none of your models".
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_registry.cli import main as cli
from tests.reliability.conftest import registry_rows
from tests.servers.github_models_emulator import GitHubModelsEmulator, RawReply
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

DEEP = b"[" * 100_000 + b"]" * 100_000
FIFTY_MB = 50 << 20


def json_reply(obj: Any) -> RawReply:
    return RawReply(json.dumps(obj).encode())


@pytest.fixture
def remote(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[GitHubModelsEmulator, GitHubModelsEmulator, OllamaEmulator]]:
    """A registry synced from GitHub Models and an endpoint 'lab' (and Ollama beside them)."""
    with (
        GitHubModelsEmulator() as github,
        GitHubModelsEmulator(openai_compatible=True) as lab,
        OllamaEmulator(standard_models()) as ollama,
    ):
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
        monkeypatch.setenv("GH_TOKEN", github.token)
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setattr("sys.stdin", io.StringIO(lab.token + "\n"))
        db = ["--db", str(registry_path)]
        assert cli([*db, "endpoint", "add", "lab", lab.v1_url, "--api-key-stdin"]) == 0
        assert cli([*db, "sync"]) == 0
        capsys.readouterr()
        yield github, lab, ollama


def sync(registry_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli(["--db", str(registry_path), "sync"])
    out, err = capsys.readouterr()
    return code, out + err


NOT_A_LIST = [
    ("invalid_utf8", RawReply(b'[{"id":"openai/\xff\xfe"}]'), "not UTF-8"),
    ("nested_100000_deep", RawReply(DEEP), "nests too deep"),
    ("null", json_reply(None), "not a list"),
    ("an_object", json_reply({"models": []}), "not a list"),
    ("empty_list", json_reply([]), "it is empty"),
    ("every_entry_wrong", json_reply([{"id": 5}, "text", None, [1], {"id": "\ud800"}]), "none"),
    ("html_with_200", RawReply(b"<html>hi</html>", content_type="text/html"), "not JSON"),
    ("cut_short", RawReply(b'[{"id":"openai/gpt-4.1","name":"x"'), "not JSON"),
    ("fifty_mb", RawReply(b'["' + b"a" * FIFTY_MB + b'"]'), "larger than 16 MB"),
]


@pytest.mark.parametrize(("case", "reply", "said"), NOT_A_LIST, ids=[c[0] for c in NOT_A_LIST])
def test_a_catalog_that_is_not_a_model_list_is_githubs_error_and_changes_no_row(
    case, reply, said, remote, registry_path, capsys
):
    github, _lab, _ollama = remote
    before = registry_rows(registry_path)
    github.raw_replies["/catalog/models"] = reply
    code, text = sync(registry_path, capsys)
    assert code == 2, text
    assert said in text and "GitHub Models catalog" in text
    assert "Traceback" not in text
    assert registry_rows(registry_path) == before


def test_a_catalog_with_some_broken_entries_still_syncs_the_good_ones(
    remote, registry_path, capsys
):
    github, _lab, _ollama = remote
    good = [e.to_json() for e in github.catalog]
    github.raw_replies["/catalog/models"] = json_reply([*good, {"id": 7}, "x", {"id": ""}])
    code, text = sync(registry_path, capsys)
    assert code == 0, text
    listed = json.loads(_list(registry_path, capsys, "--source", "github_models"))
    assert {m["status"] for m in listed} == {"listed"} and len(listed) == len(good)


@pytest.mark.parametrize(
    ("case", "reply", "said"),
    [
        ("invalid_utf8", RawReply(b'{"data":[{"id":"\xff"}]}'), "not UTF-8"),
        ("nested_100000_deep", RawReply(DEEP), "nests too deep"),
        ("null", json_reply(None), "is null"),
        ("a_list", json_reply([1, 2, 3]), "is a list"),
        ("data_is_text", json_reply({"object": "list", "data": "abc"}), "`data` is text"),
        ("every_entry_wrong", json_reply({"data": [{"id": 5}, {"id": ["a"]}, "s"]}), "none"),
        ("html_with_200", RawReply(b"<html>hi</html>", content_type="text/html"), "not JSON"),
        ("fifty_mb", RawReply(b'{"data":[],"x":"' + b"a" * FIFTY_MB + b'"}'), "16 MB"),
    ],
)
def test_a_models_listing_that_is_not_a_model_list_is_the_endpoints_error_and_changes_no_row(
    case, reply, said, remote, registry_path, capsys
):
    _github, lab, _ollama = remote
    before = registry_rows(registry_path)
    lab.raw_replies["/v1/models"] = reply
    code, text = sync(registry_path, capsys)
    assert code == 2, text
    assert said in text and "'lab'" in text
    assert "Traceback" not in text
    assert registry_rows(registry_path) == before


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_failing_status_on_either_listing_is_reported_and_changes_no_row(
    status, remote, registry_path, capsys
):
    github, lab, _ollama = remote
    before = registry_rows(registry_path)
    headers = (("Retry-After", "1"),) if status == 429 else ()
    for emu, path in ((github, "/catalog/models"), (lab, "/v1/models")):
        emu.raw_replies[path] = RawReply(b'{"error":{"message":"no"}}', status, headers=headers)
    code, text = sync(registry_path, capsys)
    assert code == 2, text
    assert str(status) in text or "slow down" in text
    assert "Traceback" not in text
    assert registry_rows(registry_path) == before


def _list(registry_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli(["--db", str(registry_path), "list", "--json", *args]) == 0
    return capsys.readouterr().out
