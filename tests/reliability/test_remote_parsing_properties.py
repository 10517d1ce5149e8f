"""Property: whatever a GitHub Models or OpenAI-compatible server sends, its parsers raise only ours.

Arbitrary JSON values, real payloads from ../shared/protocols/github-models-fixtures with random
parts replaced, deleted or wrapped, and corrupted SSE bytes go through every function that turns
a catalog, a /v1/models listing, a completion or a stream into the app's types. In-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_registry.errors import RegistryError
from desktop_registry.services.sync.remote import record_from_catalog, record_from_endpoint_model
from desktop_registry.sources.github_models import parse_catalog
from desktop_registry.sources.openai_json import decode_json, parse_model_list
from desktop_registry.sources.openai_replies import SseReader, parse_chunk
from desktop_registry.sources.openai_stream import StreamNormaliser
from tests.conftest import SHARED

FIXTURES = SHARED / "protocols" / "github-models-fixtures"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/protocols is not beside this checkout"
)
MANY = settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _payloads() -> list[Any]:
    if not FIXTURES.is_dir():
        return [{}]
    found: list[Any] = []
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name != "index.json":
            found.append(json.loads(path.read_text(encoding="utf-8")))
    for line in (FIXTURES / "chat_stream.sse").read_text(encoding="utf-8").splitlines():
        if line.startswith("data: {"):
            found.append(json.loads(line[6:]))
    found.append({"object": "list", "data": [{"id": "m", "owned_by": "me", "created": 1}]})
    return found


PAYLOADS = _payloads()
KEYS = sorted(
    {
        "id", "name", "publisher", "registry", "summary", "html_url", "version", "capabilities",
        "limits", "max_input_tokens", "max_output_tokens", "rate_limit_tier", "tags",
        "supported_input_modalities", "supported_output_modalities", "data", "owned_by",
        "created", "choices", "delta", "message", "content", "role", "finish_reason",
        "tool_calls", "function", "arguments", "index", "usage", "prompt_tokens",
        "completion_tokens", "reasoning_content", "reasoning", "error", "code", "object",
    }
)  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "openai/gpt-4.1", "\ud800", "<think>", "</think>", "stop"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=16,
)


def parse_everything(value: Any) -> None:
    """Every remote parser on `value`; only RegistryError may escape, what parses must store."""
    try:
        for entry in parse_catalog(value):
            record_from_catalog(entry, "http://127.0.0.1:1/inference").model_dump_json()
    except RegistryError:
        pass
    for listing in (value, {"data": [value]}):  # the body itself, or one entry of a listing
        try:
            models, skipped = parse_model_list(listing)
        except RegistryError:
            continue
        assert skipped >= 0
        for info in models:
            record_from_endpoint_model(info, "lab", "http://127.0.0.1:1/v1").model_dump_json()
    for whole in (False, True):
        normaliser = StreamNormaliser(0.0)
        try:
            chunk = normaliser.feed(parse_chunk(value, whole=whole))
        except RegistryError:
            continue
        if chunk is not None:
            chunk.model_dump_json()
        normaliser.finish().model_dump_json()  # tool-call arguments, usage: all storable


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    """A real payload with up to four random changes somewhere inside it."""
    payload = copy.deepcopy(draw(st.sampled_from(PAYLOADS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        node, path = payload, []
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            key = draw(
                st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node)))
            )
            path.append((node, key))
            node = node[key]
        if not path:
            payload = draw(json_values) if draw(st.booleans()) else payload
            continue
        parent, key = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "wrap"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        else:
            parent[key] = draw(json_values)
    return payload


@MANY
@given(json_values)
def test_arbitrary_json_values_raise_only_registry_errors(value):
    parse_everything(value)


@MANY
@given(mutated_payloads())
def test_mutated_real_payloads_raise_only_registry_errors(value):
    parse_everything(value)


async def _pieces(data: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    at = 0
    for size in [*sizes, len(data)]:
        if at >= len(data):
            return
        yield data[at : at + max(1, size)]
        at += max(1, size)


async def _read_stream(data: bytes, sizes: list[int]) -> list[Any]:
    reader = SseReader(limit=1 << 16)
    normaliser = StreamNormaliser(0.0)
    seen = []
    try:
        async for payload in reader.payloads(_pieces(data, sizes)):
            chunk = normaliser.feed(parse_chunk(payload))
            if chunk is not None:
                seen.append(chunk.content)
    except RegistryError:
        return seen
    normaliser.finish().model_dump_json()
    return seen


@MANY
@given(
    st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=3)), max_size=4),
    st.lists(st.integers(min_value=1, max_value=40), max_size=6),
    st.integers(min_value=0),
)
def test_corrupted_stream_bytes_raise_only_registry_errors(payloads, patches, sizes, cut):
    data = bytearray(b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads))
    data += b"data: [DONE]\n\n"
    for position, replacement in patches:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    data = data[: len(data) - cut % 12]
    asyncio.run(_read_stream(bytes(data), sizes))
    with contextlib.suppress(RegistryError):  # the same bytes read as one whole reply
        parse_everything(decode_json(bytes(data)))


@MANY
@given(
    st.lists(st.text(max_size=8).filter(lambda t: "<" not in t), min_size=1, max_size=6),
    st.lists(st.integers(1, 9)),
    st.sampled_from([b"\n\n", b"\r\n\r\n", b"\n: keep-alive\n\n"]),
)
def test_a_clean_stream_reads_the_same_however_its_bytes_are_split(texts, sizes, end):
    events = [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    data = b"".join(b"data: " + json.dumps(e).encode() + end for e in events)
    seen = asyncio.run(_read_stream(data + b"data: [DONE]\n\n", sizes))
    assert "".join(seen) == "".join(texts)


def test_the_fixtures_are_there_to_mutate():
    assert len(PAYLOADS) > 10
    assert (FIXTURES / "catalog.json").is_file()
