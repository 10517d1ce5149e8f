"""Turns OpenAI chat-completion requests and stream chunks into the app's chat types and back.

Pure translation (no I/O): never indexes `choices[0]` blindly, never drops a tool call or a usage figure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from desktop_registry.domain.chat import ChatChunk, ChatMessage, ChatUsage, ToolCall

# Ollama option names → OpenAI request fields; other Ollama options have no OpenAI equivalent.
_OPTION_NAMES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "num_predict": "max_tokens",
    "max_tokens": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def request_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (options or {}).items():
        name = _OPTION_NAMES.get(key)
        if name is not None and value is not None:
            out[name] = value
    if isinstance(out.get("max_tokens"), int) and out["max_tokens"] < 0:
        del out["max_tokens"]  # Ollama's -1 means "no limit"
    return out


def _image_url(data: str) -> str:
    if data.startswith("data:"):
        return data
    mime = "image/jpeg" if data.startswith("/9j/") else "image/png"
    return f"data:{mime};base64,{data}"


def message_dict(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role}
    if message.images:
        parts: list[dict[str, Any]] = []
        if message.content:
            parts.append({"type": "text", "text": message.content})
        parts.extend(
            {"type": "image_url", "image_url": {"url": _image_url(i)}} for i in message.images
        )
        data["content"] = parts
    else:
        data["content"] = message.content
    if message.tool_calls:
        data["tool_calls"] = [
            {
                "id": call.id or f"call_{n}",
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for n, call in enumerate(message.tool_calls)
        ]
    return data


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """A rough input-token count (4 characters a token) for the per-request limit check."""
    chars = sum(len(m.content) + len(m.thinking) + 16 for m in messages)
    return chars // 4


class ThinkSplitter:
    """Separates `<think>…</think>` in streamed content into thinking, even across chunk edges."""

    def __init__(self) -> None:
        self.inside = False
        self._pending = ""

    def feed(self, text: str) -> tuple[str, str]:
        """(content, thinking) of this piece; a possibly-partial tag waits for the next piece."""
        text = self._pending + text
        self._pending = ""
        content: list[str] = []
        thinking: list[str] = []
        while text:
            tag = THINK_CLOSE if self.inside else THINK_OPEN
            at = text.find(tag)
            if at >= 0:
                (thinking if self.inside else content).append(text[:at])
                text = text[at + len(tag) :]
                self.inside = not self.inside
                continue
            keep = _partial_suffix(text, tag)
            (thinking if self.inside else content).append(text[: len(text) - keep])
            self._pending = text[len(text) - keep :]
            break
        return "".join(content), "".join(thinking)

    def flush(self) -> tuple[str, str]:
        rest, self._pending = self._pending, ""
        return ("", rest) if self.inside else (rest, "")


def _partial_suffix(text: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class StreamNormaliser:
    """Feeds on ChatCompletionChunk objects, yields ChatChunks; `finish()` gives the last one."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_token_at: float | None = None
        self.last_token_at: float | None = None
        self.finish_reason = ""
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.pieces = 0
        self._think = ThinkSplitter()
        self._calls: dict[int, dict[str, str]] = {}

    def feed(self, chunk: Any) -> ChatChunk | None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.prompt_tokens = getattr(usage, "prompt_tokens", None)
            self.completion_tokens = getattr(usage, "completion_tokens", None)
        content = ""
        thinking = ""
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            if getattr(choice, "finish_reason", None):
                self.finish_reason = str(choice.finish_reason)
            if delta is None:
                continue
            extra = getattr(delta, "model_extra", None) or {}
            reasoning = extra.get("reasoning_content") or extra.get("reasoning")
            if isinstance(reasoning, str):
                thinking += reasoning
            if delta.content:
                text, thought = self._think.feed(delta.content)
                content += text
                thinking += thought
            for call in delta.tool_calls or []:
                self._add_call_delta(call)
        if not (content or thinking):
            return None
        now = time.perf_counter()
        if self.first_token_at is None:
            self.first_token_at = now
        self.last_token_at = now
        self.pieces += 1
        return ChatChunk(content=content, thinking=thinking)

    def _add_call_delta(self, call: Any) -> None:
        slot = self._calls.setdefault(int(call.index or 0), {"id": "", "name": "", "arguments": ""})
        if call.id:
            slot["id"] = call.id
        function = call.function
        if function is not None:
            if function.name:
                slot["name"] += function.name
            if function.arguments:
                slot["arguments"] += function.arguments
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def tool_calls(self) -> list[ToolCall]:
        calls = []
        for _, slot in sorted(self._calls.items()):
            try:
                arguments = json.loads(slot["arguments"]) if slot["arguments"] else {}
            except json.JSONDecodeError:
                arguments = {"_raw": slot["arguments"]}
            if not isinstance(arguments, dict):
                arguments = {"value": arguments}
            calls.append(ToolCall(name=slot["name"], arguments=arguments, id=slot["id"]))
        return calls

    @property
    def finished(self) -> bool:
        return bool(self.finish_reason)

    def finish(self) -> ChatChunk:
        content, thinking = self._think.flush()
        now = time.perf_counter()
        tokens_per_s = None
        span_start = self.first_token_at
        if self.completion_tokens and span_start is not None:
            span = (self.last_token_at or now) - span_start
            # One token arrives before the span starts; rate is over the rest.
            if span > 0 and self.completion_tokens > 1:
                tokens_per_s = (self.completion_tokens - 1) / span
        usage = ChatUsage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            ttft_s=(span_start - self.started) if span_start is not None else None,
            wall_s=now - self.started,
            tokens_per_s=tokens_per_s,
            done_reason=self.finish_reason,
        )
        return ChatChunk(
            content=content,
            thinking=thinking,
            tool_calls=self.tool_calls(),
            done=True,
            usage=usage,
        )
