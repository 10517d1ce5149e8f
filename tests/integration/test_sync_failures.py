"""Unreachable servers, 500s, malformed JSON and dropped streams: clear messages, nothing lost."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.errors import SourceError, StreamInterruptedError
from desktop_registry.sources.ollama import OllamaSource
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def synced(registry_path):
    """A registry that already holds the five standard models, and the emulator it came from."""
    with OllamaEmulator(standard_models()) as emu:
        assert cli(["--db", str(registry_path), "sync", "--ollama-url", emu.url]) == 0
        yield emu


def names(capsys, registry_path) -> set[str]:
    capsys.readouterr()
    assert cli(["--db", str(registry_path), "list", "--json"]) == 0
    return {m["name"] for m in json.loads(capsys.readouterr().out)}


def test_unreachable_ollama_says_how_to_start_it_and_exits_2(capsys, synced, registry_path):
    url = f"http://127.0.0.1:{free_port()}"
    capsys.readouterr()
    code = cli(["--db", str(registry_path), "sync", "--ollama-url", url])
    err = capsys.readouterr().err
    assert code == 2
    assert f"Ollama is not running at {url}" in err
    assert "ollama serve" in err
    assert "Traceback" not in err
    assert len(names(capsys, registry_path)) == 5


def test_server_error_on_listing_is_reported_and_the_registry_is_untouched(
    capsys, synced, registry_path
):
    synced.errors["/api/tags"] = (500, "something broke")
    capsys.readouterr()
    code = cli(["--db", str(registry_path), "sync", "--ollama-url", synced.url])
    err = capsys.readouterr().err
    assert code == 2
    assert "answered 500" in err and "something broke" in err
    assert len(names(capsys, registry_path)) == 5


def test_malformed_json_is_reported_as_not_ollama(capsys, synced, registry_path):
    synced.malformed_paths.add("/api/tags")
    capsys.readouterr()
    code = cli(["--db", str(registry_path), "sync", "--ollama-url", synced.url])
    err = capsys.readouterr().err
    assert code == 2
    assert "not what Ollama sends" in err
    assert len(names(capsys, registry_path)) == 5


def test_one_models_failing_show_is_reported_and_the_rest_still_sync(capsys, registry_path):
    with OllamaEmulator(standard_models()) as emu:
        emu.errors["/api/show"] = (500, "show exploded")
        code = cli(["--db", str(registry_path), "sync", "--ollama-url", emu.url])
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("show exploded") == 5  # every model named with its error
        emu.errors.clear()
        assert cli(["--db", str(registry_path), "sync", "--ollama-url", emu.url]) == 0
    assert len(names(capsys, registry_path)) == 5


def test_dropped_chat_stream_keeps_the_partial_reply_and_says_so():
    with OllamaEmulator(standard_models()) as emu:
        emu.disconnect_after_chunks = 3

        async def chat() -> tuple[str, Exception | None]:
            received = ""
            async with OllamaSource(emu.url) as source:
                try:
                    async for chunk in source.chat(
                        "phi:2.7b", [ChatMessage(role="user", content="hi")]
                    ):
                        received += chunk.content
                except SourceError as exc:
                    return received, exc
            return received, None

        partial, error = asyncio.run(chat())
    assert isinstance(error, StreamInterruptedError)
    assert "partial" in str(error).lower() or "kept" in str(error).lower()
    assert partial  # the words that arrived are not thrown away
    assert partial != emu.model("phi:2.7b").reply


def test_midstream_error_line_is_reported_with_ollamas_text():
    with OllamaEmulator(standard_models()) as emu:
        emu.midstream_error = "model runner has unexpectedly stopped"

        async def chat() -> str:
            async with OllamaSource(emu.url) as source:
                with pytest.raises(SourceError) as caught:
                    async for _ in source.chat(
                        "phi:2.7b", [ChatMessage(role="user", content="hi")]
                    ):
                        pass
                return str(caught.value)

        message = asyncio.run(chat())
    assert "unexpectedly stopped" in message
