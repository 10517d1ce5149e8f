"""The GitHub token lives in the keyring (or a 0600 file when there is none) and nowhere else.

The keyring here is tests/keyring_backend.py's stand-in for the OS keyring (a real backend over a
file in tmp_path); keyrings.alt's file backends are not system keyrings and get the 0600 file.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import stat
import traceback
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.errors import RegistryError
from desktop_registry.sources.credentials import TokenStore
from tests.keyring_backend import IsolatedKeyring
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

TOKEN = "github_pat_11ABCDEFG0123456789_secretpart"


@pytest.fixture
def file_keyring() -> IsolatedKeyring:
    """The test's own keyring (tests/conftest.py gives every test one under tmp_path)."""
    backend = keyring.get_keyring()
    assert isinstance(backend, IsolatedKeyring)
    return backend


def run(capsys, monkeypatch, home: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli(["--db", str(home / "registry.db"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_token_set_reads_stdin_and_stores_the_token_in_the_keyring(
    capsys, monkeypatch, data_home, file_keyring
):
    code, out, err = run(capsys, monkeypatch, data_home, "token", "set", stdin=TOKEN + "\n")
    assert code == 0
    assert "system keyring" in out
    assert file_keyring.get_password("desktop-registry", "github-token") == TOKEN
    assert not (data_home / "github_token").exists()
    code, out, _ = run(capsys, monkeypatch, data_home, "token", "status", "--json")
    assert json.loads(out) == {"source": "keyring", "fallback_warning": ""}
    assert TOKEN not in out + err


def test_token_set_refuses_the_token_as_an_argument(capsys, monkeypatch, data_home, file_keyring):
    with pytest.raises(SystemExit):
        run(capsys, monkeypatch, data_home, "token", "set", TOKEN)
    assert file_keyring.get_password("desktop-registry", "github-token") is None


def test_without_a_keyring_the_token_goes_to_a_0600_file_and_the_user_is_told(
    capsys, monkeypatch, data_home, no_keyring
):
    code, _out, err = run(capsys, monkeypatch, data_home, "token", "set", stdin=TOKEN)
    assert code == 0
    path = data_home / "github_token"
    assert path.read_text() == TOKEN
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "0600" in err and "keyring" in err
    status = TokenStore(data_home).status()
    assert status.source == "file" and str(path) in status.fallback_warning


def test_a_token_from_gh_token_is_used_and_never_written(
    capsys, monkeypatch, data_home, file_keyring
):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    store = TokenStore(data_home)
    assert store.get() == TOKEN
    code, out, _ = run(capsys, monkeypatch, data_home, "token", "status")
    assert code == 0 and "environment" in out and TOKEN not in out
    assert file_keyring.get_password("desktop-registry", "github-token") is None
    assert not (data_home / "github_token").exists()


def test_token_clear_removes_it_from_keyring_and_file(capsys, monkeypatch, data_home, file_keyring):
    (data_home).mkdir(parents=True, exist_ok=True)
    run(capsys, monkeypatch, data_home, "token", "set", stdin=TOKEN)
    code, out, _ = run(capsys, monkeypatch, data_home, "token", "clear")
    assert code == 0 and "removed" in out
    assert file_keyring.get_password("desktop-registry", "github-token") is None
    assert TokenStore(data_home).status().source == "none"


def test_an_empty_token_is_refused_and_nothing_is_stored(
    capsys, monkeypatch, data_home, file_keyring
):
    code, _, err = run(capsys, monkeypatch, data_home, "token", "set", stdin="\n")
    assert code == 1 and "nothing was stored" in err.lower()
    assert file_keyring.get_password("desktop-registry", "github-token") is None


def test_the_token_appears_nowhere_but_the_keyring(
    capsys, caplog, monkeypatch, data_home, file_keyring
):
    """Grep the registry DB, logs, exports, cached files and exception texts for the token."""
    caplog.set_level(logging.DEBUG)
    token = "ghp_" + "Zq8" * 12
    texts: list[str] = []
    with (
        GitHubModelsEmulator(token=token) as github,
        OllamaEmulator(standard_models()) as ollama,
    ):
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
        assert run(capsys, monkeypatch, data_home, "token", "set", stdin=token)[0] == 0
        for args in (
            ("sync", "--ollama-url", ollama.url, "--json"),
            ("--ollama-url", ollama.url, "chat", "openai/gpt-4.1", "Hi"),
            ("list", "--json"),
            ("show", "openai/gpt-4.1", "--json"),
            ("providers", "--json"),
            ("token", "status", "--json"),
        ):
            code, out, err = run(capsys, monkeypatch, data_home, *args)
            assert code == 0, err
            texts += [out, err]

        async def failing_calls() -> list[RegistryError]:
            errors: list[RegistryError] = []
            ctx = build_context(Settings(), db_path=data_home / "registry.db")
            service = ctx.serving()
            for status in (401, 404, 413, 429):
                body = '{"error":{"code":"x","message":"refused"}}'
                github.fail_next.append((status, body, {"retry-after": "99999"}))
            for _ in range(4):
                try:
                    async for _chunk in service.chat(
                        "openai/gpt-4.1", [ChatMessage(role="user", content="Hi")]
                    ):
                        pass
                except RegistryError as exc:
                    errors.append(exc)
            await ctx.aclose()
            ctx.close()
            return errors

        errors = asyncio.run(failing_calls())
    assert len(errors) == 4
    for exc in errors:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    for path in data_home.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    assert (data_home / "registry.db").is_file()
    assert caplog.records  # the logs were really captured
    leaks = [t for t in texts if token in t]
    assert leaks == []
    assert file_keyring.get_password("desktop-registry", "github-token") == token


def test_a_keyrings_alt_file_backend_is_not_called_a_system_keyring(
    capsys, monkeypatch, data_home, tmp_path
):
    # keyrings.alt (installed by the [dev] extra) stores the token base64-encoded in a plain
    # file; `token status` used to call that "the system keyring".
    alt = PlaintextKeyring()
    alt.file_path = str(tmp_path / "alt" / "keyring_pass.cfg")  # type: ignore[misc]
    monkeypatch.setattr(keyring, "get_keyring", lambda: alt)
    code, _out, err = run(capsys, monkeypatch, data_home, "token", "set", stdin=TOKEN + "\n")
    assert code == 0
    assert "keyrings.alt.file.PlaintextKeyring" in err and "not a system keyring" in err
    assert "0600" in err
    assert alt.get_password("desktop-registry", "github-token") is None
    assert not (tmp_path / "alt" / "keyring_pass.cfg").exists()
    code, out, _ = run(capsys, monkeypatch, data_home, "token", "status", "--json")
    assert json.loads(out)["source"] == "file"
