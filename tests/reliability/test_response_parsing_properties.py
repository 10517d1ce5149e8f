"""Property: whatever JSON (or bytes) a server sends, the Ollama parsers raise only our errors.

Arbitrary JSON-ish values, and real payloads from ../shared/protocols/ollama-fixtures with
random parts replaced, deleted or corrupted, go through every function that turns /api/tags,
/api/show, /api/chat (and the other streams) into domain types. In-process, no socket.
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_registry.domain.local import LocalModelSummary
from desktop_registry.errors import RegistryError
from desktop_registry.sources.ollama_json import decode_json, ndjson_lines
from desktop_registry.sources.ollama_records import (
    details_from_show,
    listing_from_tags,
    record_from_show,
    summary_from_tag,
)
from desktop_registry.sources.ollama_replies import (
    chat_part,
    create_status,
    embeddings,
    error_text,
    generate_part,
    pull_progress,
    usage,
)
from tests.conftest import SHARED

FIXTURES = SHARED / "protocols" / "ollama-fixtures"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="../shared/protocols is not beside this checkout"
)
SUMMARY = LocalModelSummary(name="phi:2.7b", digest="ab" * 32)


def _payloads() -> list[Any]:
    if not FIXTURES.is_dir():
        return [{}]
    found: list[Any] = []
    for path in sorted(FIXTURES.iterdir()):
        if path.name == "index.json" or path.suffix not in (".json", ".ndjson"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ndjson":
            found.extend(json.loads(line) for line in text.splitlines() if line.strip())
        else:
            found.append(json.loads(text))
    return found


PAYLOADS = _payloads()
KEYS = sorted(
    {
        "models", "name", "model", "digest", "size", "details", "family", "families",
        "parameter_size", "quantization_level", "format", "context_length", "capabilities",
        "remote_host", "modified_at", "model_info", "projector_info", "template", "system",
        "parameters", "license", "general.architecture", "general.parameter_count",
        "llama.context_length", "llama.attention.head_count", "message", "content",
        "thinking", "tool_calls", "function", "arguments", "done", "done_reason",
        "eval_count", "eval_duration", "total_duration", "response", "status", "total",
        "completed", "embeddings", "error",
    }
)  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "\ud800"])
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
    """Every parser on `value`; only RegistryError may escape, and what parses must store."""
    parsers = [
        listing_from_tags,
        summary_from_tag,
        details_from_show,
        lambda v: record_from_show(SUMMARY, v, "http://127.0.0.1:11434"),
        chat_part,
        generate_part,
        pull_progress,
        create_status,
        embeddings,
        error_text,
    ]
    for parse in parsers:
        try:
            result = parse(value)
        except RegistryError:
            continue
        if hasattr(result, "model_dump_json"):
            result.model_dump_json()  # storable: no lone surrogates, no NaN in ints
        if parse is chat_part and result.done:
            usage(result, 0.0, None)
    # A tags entry and a show body together, the way the sync uses them.
    try:
        listing = listing_from_tags({"models": [value]})
    except RegistryError:
        return
    for summary in listing.models:
        with contextlib.suppress(RegistryError):
            record_from_show(summary, value, "u").model_dump_json()


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


@settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(json_values)
def test_arbitrary_json_values_raise_only_registry_errors(value):
    parse_everything(value)


@settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mutated_payloads())
def test_mutated_real_payloads_raise_only_registry_errors(value):
    parse_everything(value)


@settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.sampled_from(PAYLOADS),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=3)), max_size=4),
    st.integers(min_value=0),
)
def test_corrupted_reply_bytes_raise_only_registry_errors(payload, patches, cut):
    data = bytearray(json.dumps(payload).encode())
    for position, replacement in patches:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    data = data[: len(data) - cut % 8]
    lines, rest = ndjson_lines(bytes(data) + b"\n")
    assert rest == b""
    for line in lines:
        try:
            value = decode_json(line)
        except RegistryError:
            continue
        parse_everything(value)


def test_the_fixtures_are_there_to_mutate():
    assert len(PAYLOADS) > 50
    assert Path(FIXTURES / "tags.json").is_file()
