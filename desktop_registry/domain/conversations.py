"""A saved chat: its messages, the model(s) it was held with, and the options used.

Pure data; services/serving/conversations.py stores and reopens it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from desktop_registry.domain.chat import ChatMessage, ChatUsage


class SavedMessage(ChatMessage):
    """A chat message plus which model wrote it (compare mode) and the reply's figures."""

    model: str = ""
    usage: ChatUsage | None = None
    error: str = ""  # the reply stopped early: why (the partial text is kept in `content`)


class Conversation(BaseModel):
    id: int | None = None
    title: str = ""
    models: list[str] = Field(default_factory=list)  # one model, or 2–4 in compare mode
    options: dict[str, Any] = Field(default_factory=dict)  # temperature, top_p, num_ctx, seed…
    system: str = ""
    messages: list[SavedMessage] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ChatPreset(BaseModel):
    """A system prompt and options saved by name, to start a chat the same way again."""

    name: str
    system: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
