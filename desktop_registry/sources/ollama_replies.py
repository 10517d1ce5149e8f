"""Turns the objects Ollama streams (/api/chat, /api/generate, /api/pull, /api/create) and the
/api/embed reply into domain types.

Pure functions; never does I/O, never lets a wrong JSON type through as anything but a
ReplyShapeError (an `{"error": …}` object is the adapter's to translate, not these functions').
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_registry.domain.chat import ChatUsage, ToolCall
from desktop_registry.domain.local import PullProgress
from desktop_registry.domain.text import kind_of
from desktop_registry.sources.ollama_json import (
    ReplyShapeError,
    as_int,
    bool_field,
    entries,
    int_field,
    obj,
    obj_field,
    text_field,
)

_NS = 1e-9
_FINAL_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


@dataclass(frozen=True)
class ReplyPart:
    """One streamed chat/generate object, read: text, thinking, tool calls, and at the end the
    server's figures."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    done: bool = False
    done_reason: str = ""
    figures: dict[str, int | None] = field(default_factory=dict)

    @property
    def has_output(self) -> bool:
        return bool(self.content or self.thinking or self.tool_calls)


def stream_object(value: Any) -> Mapping[str, Any]:
    """Every NDJSON line of an Ollama stream is an object."""
    if not isinstance(value, dict):
        raise ReplyShapeError(f"a streamed line is {kind_of(value)}, not an object")
    return value


def error_text(value: Any) -> str:
    """The text of an `{"error": …}` object ("" when there is none); any other shape says so."""
    if not isinstance(value, dict) or value.get("error") in (None, ""):
        return ""
    error = value["error"]
    return error if isinstance(error, str) else f"an error of {kind_of(error)}"


def _figures(part: Mapping[str, Any]) -> dict[str, int | None]:
    return {key: int_field(part, key) for key in _FINAL_FIELDS}


def tool_calls(value: Any, where: str = "message.tool_calls") -> list[ToolCall]:
    if value is None:
        return []
    calls = []
    for position, call in entries(value, where):
        call = obj(call, f"{where}[{position}]")
        function = obj_field(call, "function", f"{where}[{position}].")
        arguments = obj_field(function, "arguments", f"{where}[{position}].function.")
        name = text_field(function, "name", f"{where}[{position}].function.")
        calls.append(ToolCall(name=name, arguments=dict(arguments)))
    return calls


def chat_part(value: Any) -> ReplyPart:
    """One /api/chat stream object (or the whole reply of a non-streamed chat)."""
    part = stream_object(value)
    message = obj_field(part, "message")
    done = bool_field(part, "done")
    return ReplyPart(
        content=text_field(message, "content", "message."),
        thinking=text_field(message, "thinking", "message."),
        tool_calls=tool_calls(message.get("tool_calls")),
        done=done,
        done_reason=text_field(part, "done_reason"),
        figures=_figures(part) if done else {},
    )


def generate_part(value: Any) -> ReplyPart:
    """One /api/generate stream object."""
    part = stream_object(value)
    done = bool_field(part, "done")
    return ReplyPart(
        content=text_field(part, "response"),
        thinking=text_field(part, "thinking"),
        done=done,
        done_reason=text_field(part, "done_reason"),
        figures=_figures(part) if done else {},
    )


def pull_progress(value: Any) -> PullProgress:
    """One /api/pull (or /api/push) stream object."""
    part = stream_object(value)
    return PullProgress(
        status=text_field(part, "status"),
        digest=text_field(part, "digest"),
        total=int_field(part, "total"),
        completed=int_field(part, "completed"),
    )


def create_status(value: Any) -> str:
    """One /api/create stream object's status line."""
    return text_field(stream_object(value), "status")


def embeddings(value: Any) -> list[list[float]]:
    """The `embeddings` of an /api/embed reply: a list of lists of numbers."""
    body = obj(value, "the reply")
    vectors = []
    for position, vector in entries(body.get("embeddings"), "embeddings"):
        numbers = []
        for number in entries(vector, f"embeddings[{position}]"):
            if isinstance(number[1], bool) or not isinstance(number[1], int | float):
                raise ReplyShapeError(
                    f"`embeddings[{position}]` holds {kind_of(number[1])}, not a number"
                )
            numbers.append(float(number[1]))
        vectors.append(numbers)
    return vectors


def usage(final: ReplyPart, started: float, first_token_at: float | None) -> ChatUsage:
    """The reply's figures: the server's timings where it sent them, wall-clock otherwise."""
    now = time.perf_counter()
    figures = final.figures
    eval_count = as_int(figures.get("eval_count"))
    eval_ns = as_int(figures.get("eval_duration"))
    tps = None
    if eval_count and eval_ns:
        tps = eval_count / (eval_ns * _NS)
    elif eval_count and first_token_at is not None and now > first_token_at:
        tps = eval_count / (now - first_token_at)

    def seconds(key: str) -> float | None:
        value = figures.get(key)
        return value * _NS if value is not None else None

    return ChatUsage(
        prompt_tokens=figures.get("prompt_eval_count"),
        completion_tokens=eval_count,
        ttft_s=(first_token_at - started) if first_token_at is not None else None,
        wall_s=now - started,
        tokens_per_s=tps,
        total_duration_s=seconds("total_duration"),
        load_duration_s=seconds("load_duration"),
        prompt_eval_duration_s=seconds("prompt_eval_duration"),
        eval_duration_s=seconds("eval_duration"),
        done_reason=final.done_reason,
    )
