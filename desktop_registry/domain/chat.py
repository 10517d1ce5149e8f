"""Chat messages and the normalised stream chunks every source is turned into.

Pure data: the serving layer fills these whatever the model's source is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str = ""


class ChatMessage(BaseModel):
    role: str  # system | user | assistant | tool
    content: str = ""
    thinking: str = ""
    images: list[str] = Field(default_factory=list)  # base64 without data: prefix
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ChatUsage(BaseModel):
    """Final figures of one reply. Durations in seconds; None where the source does not say."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None  # wall time from request to first token
    wall_s: float | None = None  # wall time from request to the last chunk
    tokens_per_s: float | None = None  # server-side when known (Ollama eval_*), else wall-based
    total_duration_s: float | None = None
    load_duration_s: float | None = None
    prompt_eval_duration_s: float | None = None
    eval_duration_s: float | None = None
    done_reason: str = ""


class ChatChunk(BaseModel):
    """One piece of a streamed reply; the last one has done=True and usage."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    done: bool = False
    usage: ChatUsage | None = None
