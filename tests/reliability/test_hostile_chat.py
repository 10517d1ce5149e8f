"""A hostile or broken /api/chat: a SourceError the chat pane can show, never an AttributeError.

Blank NDJSON lines are not an error (servers and proxies send them): they are skipped.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.errors import SourceProtocolError
from desktop_registry.sources.ollama import OllamaSource
from tests.reliability.conftest import registry_rows, sync
from tests.servers.ollama_emulator import OllamaEmulator, RawReply, standard_models

HI = [ChatMessage(role="user", content="hi")]


def chat(url: str, model: str = "phi:2.7b") -> list[ChatChunk]:
    async def run() -> list[ChatChunk]:
        async with OllamaSource(url) as source:
            return [chunk async for chunk in source.chat(model, HI)]

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("case", "body", "chunked"),
    [
        ("null", b"null", False),
        ("a_list", b"[1,2,3]", False),
        ("null_line_in_a_stream", b"null\n", True),
        ("a_list_line_in_a_stream", b"[1,2,3]\n", True),
        ("message_is_a_string", b'{"message":"hi","done":false}\n', True),
        (
            "content_is_a_number",
            b'{"message":{"role":"assistant","content":5},"done":true}\n',
            True,
        ),
        ("tool_calls_is_a_string", b'{"message":{"tool_calls":"x"},"done":true}\n', True),
        ("invalid_utf8", b'{"message":{"content":"\xff"},"done":true}\n', True),
        ("nested_100000_deep", b"[" * 100_000 + b"]" * 100_000 + b"\n", True),
    ],
)
def test_a_chat_reply_that_is_not_a_chat_chunk_is_a_protocol_error(
    case, body, chunked, synced, registry_path, capsys
):
    before = registry_rows(registry_path)
    synced.raw_replies["/api/chat"] = RawReply(
        body, chunked=chunked, content_type="application/x-ndjson"
    )
    with pytest.raises(SourceProtocolError) as caught:
        chat(synced.url)
    assert "not what Ollama sends" in str(caught.value), case
    assert registry_rows(registry_path) == before
    synced.raw_replies.clear()  # and the registry still syncs cleanly afterwards
    assert sync(registry_path, synced, capsys) == 0


def test_blank_lines_in_a_chat_stream_are_skipped():
    with OllamaEmulator(standard_models()) as emu:
        lines = emu.chat_lines("phi:2.7b", reply="Hello there, friend.")
        body = b"\n\r\n".join(json.dumps(line).encode() for line in lines)
        emu.raw_replies["/api/chat"] = RawReply(
            b"\n" + body + b"\n\n", chunked=True, piece_bytes=7, content_type="application/x-ndjson"
        )
        chunks = chat(emu.url)
    assert "".join(c.content for c in chunks) == "Hello there, friend."
    assert chunks[-1].done and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(lines) - 1


def test_blank_lines_in_a_pull_stream_are_skipped():
    with OllamaEmulator(standard_models()) as emu:
        lines = [{"status": "pulling manifest"}, {"status": "verifying"}, {"status": "success"}]
        body = b"\n\n".join(json.dumps(line).encode() for line in lines) + b"\n"
        emu.raw_replies["/api/pull"] = RawReply(
            body, chunked=True, content_type="application/x-ndjson"
        )

        async def run() -> list[str]:
            async with OllamaSource(emu.url) as source:
                return [p.status async for p in source.pull("phi:2.7b")]

        statuses = asyncio.run(run())
    assert statuses == ["pulling manifest", "verifying", "success"]
