"""Reads OpenAI chat replies (a whole completion or an SSE stream of chunks) from bounded bytes.

Pure and total: whatever a server sends, it yields typed pieces or raises a SourceProtocolError
saying what was wrong. Never trusts a field's type, and never holds more than a bounded body.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from desktop_registry.domain.text import kind_of
from desktop_registry.sources.openai_json import ListingShapeError, decode_json, is_text

# A chat reply is text a person reads: 16 MB is far past any real one, and stops a server that
# sends without end (or one 50 MB line) from filling the memory. The part before stays kept.
MAX_REPLY_BYTES = 16 << 20


class ReplyShapeError(ListingShapeError):
    """A chat reply (or one stream event) not shaped as OpenAI shapes it; the message names the part."""


class ReplyReportedError(ReplyShapeError):
    """The server put an error object where a reply belongs (OpenAI does so inside a stream)."""


@dataclass(frozen=True)
class FunctionDelta:
    name: str | None = None
    arguments: str | None = None


@dataclass(frozen=True)
class ToolCallDelta:
    index: int
    id: str | None = None
    function: FunctionDelta | None = None


@dataclass(frozen=True)
class Delta:
    content: str | None = None
    model_extra: dict[str, str] = field(default_factory=dict)  # reasoning text, if sent
    tool_calls: tuple[ToolCallDelta, ...] = ()


@dataclass(frozen=True)
class Choice:
    finish_reason: str | None = None
    delta: Delta | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class ReplyChunk:
    """One stream chunk (or a whole completion seen as one), read the way StreamNormaliser reads."""

    choices: tuple[Choice, ...] = ()
    usage: Usage | None = None


def _text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not is_text(value):
        raise ReplyShapeError(f"`{where}` is {kind_of(value)}, where text belongs")
    return str(value)


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None  # a usage figure the server got wrong is "not reported", not a failed reply


def _object(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReplyShapeError(f"`{where}` is {kind_of(value)}, where an object belongs")
    return value


def _function(raw: Any, where: str) -> FunctionDelta | None:
    body = _object(raw, where)
    if body is None:
        return None
    arguments = body.get("arguments")
    if isinstance(arguments, dict | list):  # some servers send the arguments already parsed
        arguments = json.dumps(arguments)
    return FunctionDelta(
        name=_text(body.get("name"), f"{where}.name"),
        arguments=_text(arguments, f"{where}.arguments"),
    )


def _tool_calls(raw: Any, where: str) -> tuple[ToolCallDelta, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ReplyShapeError(f"`{where}` is {kind_of(raw)}, where a list belongs")
    calls = []
    for n, item in enumerate(raw):
        call = _object(item, f"{where}[{n}]")
        if call is None:
            continue
        index = call.get("index")
        calls.append(
            ToolCallDelta(
                index=index if isinstance(index, int) and not isinstance(index, bool) else n,
                id=_text(call.get("id"), f"{where}[{n}].id"),
                function=_function(call.get("function"), f"{where}[{n}].function"),
            )
        )
    return tuple(calls)


def _delta(raw: Any, where: str) -> Delta | None:
    body = _object(raw, where)
    if body is None:
        return None
    extra: dict[str, str] = {
        key: str(body[key])
        for key in ("reasoning_content", "reasoning")
        if key in body and is_text(body[key])
    }
    return Delta(
        content=_text(body.get("content"), f"{where}.content"),
        model_extra=extra,
        tool_calls=_tool_calls(body.get("tool_calls"), f"{where}.tool_calls"),
    )


def _reported_error(body: dict[str, Any]) -> ReplyReportedError | None:
    error = body.get("error")
    if error is None or "choices" in body:
        return None
    if isinstance(error, dict):
        message = error.get("message") or error.get("code") or "no message"
    else:
        message = error
    text = message if is_text(message) else kind_of(message)
    return ReplyReportedError(f"it reported an error: {str(text)[:500]}")


def parse_chunk(body: Any, *, whole: bool = False) -> ReplyChunk:
    """One stream event's JSON (or, with `whole`, a non-streamed completion) as a ReplyChunk."""
    kind = "reply" if whole else "stream event"
    if not isinstance(body, dict):
        raise ReplyShapeError(f"a {kind} is {kind_of(body)}, not an object")
    reported = _reported_error(body)
    if reported is not None:
        raise reported
    raw_choices = body.get("choices")
    if raw_choices is None:
        raw_choices = []
    if not isinstance(raw_choices, list):
        raise ReplyShapeError(f"`choices` is {kind_of(raw_choices)}, where a list belongs")
    part = "message" if whole else "delta"
    choices = []
    for n, raw in enumerate(raw_choices):
        choice = _object(raw, f"choices[{n}]")
        if choice is None:
            continue
        choices.append(
            Choice(
                finish_reason=_text(choice.get("finish_reason"), f"choices[{n}].finish_reason"),
                delta=_delta(choice.get(part), f"choices[{n}].{part}"),
            )
        )
    if whole and not choices:
        raise ReplyShapeError("the reply has no `choices`, so it holds no answer")
    usage = body.get("usage")
    return ReplyChunk(
        choices=tuple(choices),
        usage=Usage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))
        if isinstance(usage, dict)
        else None,
    )


def _base64_floats(text: str, where: str) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise ReplyShapeError(f"`{where}` is text that is not base64") from None
    if len(raw) % 4:
        raise ReplyShapeError(f"`{where}` is not a whole number of float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def parse_embeddings(body: Any, expected: int) -> list[list[float]]:
    """The vectors of an embeddings reply, in input order; anything else is a ReplyShapeError."""
    if not isinstance(body, dict):
        raise ReplyShapeError(f"an embeddings reply is {kind_of(body)}, not an object")
    reported = _reported_error(body)
    if reported is not None:
        raise reported
    data = body.get("data")
    if not isinstance(data, list):
        raise ReplyShapeError(f"`data` is {kind_of(data)}, where a list of embeddings belongs")
    if len(data) != expected:
        raise ReplyShapeError(f"{len(data)} embeddings came for {expected} inputs")
    vectors: list[tuple[int, list[float]]] = []
    for n, item in enumerate(data):
        entry = _object(item, f"data[{n}]") or {}
        vector = entry.get("embedding")
        if isinstance(vector, str):  # base64 float32, what the SDK asks for unless told "float"
            vector = _base64_floats(vector, f"data[{n}].embedding")
        if not isinstance(vector, list) or not vector:
            raise ReplyShapeError(f"`data[{n}].embedding` is {kind_of(vector)}, not numbers")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector):
            raise ReplyShapeError(f"`data[{n}].embedding` holds something that is not a number")
        index = entry.get("index")
        position = index if isinstance(index, int) and not isinstance(index, bool) else n
        vectors.append((position, [float(x) for x in vector]))
    if sorted(p for p, _ in vectors) != list(range(expected)):
        raise ReplyShapeError("the embeddings' `index` values do not number the inputs")
    return [v for _, v in sorted(vectors, key=lambda pv: pv[0])]


class SseReader:
    """Splits a byte stream into SSE `data:` payloads, at most `limit` bytes in all.

    `received` says how much arrived (a stalled or cut stream's message names it); `done` is
    set by the `[DONE]` event."""

    def __init__(self, limit: int = MAX_REPLY_BYTES) -> None:
        self.limit = limit
        self.received = 0
        self.events = 0
        self.done = False
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already known to hold no line break
        self._data: list[bytes] = []

    async def payloads(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[Any]:
        """Each event's decoded JSON, in order; stops at `[DONE]`."""
        async for chunk in chunks:
            self.received += len(chunk)
            if self.received > self.limit:
                raise ReplyShapeError(
                    f"the reply passed {self.limit >> 20} MB, far more than a chat answer; "
                    "reading stopped there"
                )
            self._buffer.extend(chunk)
            while (end := self._buffer.find(b"\n", self._scanned)) >= 0:
                line = bytes(self._buffer[:end]).rstrip(b"\r")
                del self._buffer[: end + 1]
                self._scanned = 0
                complete, payload = self._line(line)
                if complete:
                    yield payload
                if self.done:
                    return
            self._scanned = len(self._buffer)
        if self._buffer.strip() or self._data:
            # The stream ended inside an event: what was cut off is not a reply.
            raise ReplyShapeError("the stream ended in the middle of an event")

    def _line(self, line: bytes) -> tuple[bool, Any]:
        """(True, payload) when the line ends an event; (False, None) otherwise."""
        if line:
            if line.startswith(b"data:"):
                self._data.append(line[5:].removeprefix(b" "))
            return False, None  # comments (":"), `event:`, `id:`, `retry:` carry no reply
        if not self._data:
            return False, None
        data, self._data = b"\n".join(self._data), []
        if data.strip() == b"[DONE]":
            self.done = True
            return False, None
        self.events += 1
        try:
            return True, decode_json(data, "a chat reply")
        except ListingShapeError as exc:
            raise ReplyShapeError(f"stream event {self.events}: {exc}") from None
