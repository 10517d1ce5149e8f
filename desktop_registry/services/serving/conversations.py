"""Saved chats and chat presets: keep, find, rename, delete, export and branch conversations;
keep named presets (a system prompt plus options).

Never drops a message: a partial reply (stopped or cut off) is saved with why it ended. Never
writes a secret or an image into a Markdown export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from desktop_registry.domain.conversations import ChatPreset, Conversation
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.storage.job_repository import ConversationRepository

TITLE_LENGTH = 60
MAX_PRESET_NAME = 60
Conversations = list[Conversation]  # `ConversationService.list` shadows the builtin
Presets = list[ChatPreset]


def title_for(conversation: Conversation) -> str:
    """The first user message, shortened; the model name when there is none yet."""
    for message in conversation.messages:
        if message.role == "user" and message.content.strip():
            text = " ".join(message.content.split())
            return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"
    return ", ".join(conversation.models) or "New chat"


class ConversationService:
    def __init__(self, repository: ConversationRepository) -> None:
        self.repository = repository

    def save(self, conversation: Conversation) -> Conversation:
        if not conversation.models:
            raise UserInputError("Pick a model before saving the chat.")
        if len(conversation.models) > 4:
            raise UserInputError("A comparison holds at most 4 models.")
        if not conversation.title:
            conversation = conversation.model_copy(update={"title": title_for(conversation)})
        return self.repository.save(conversation)

    def get(self, conversation_id: int) -> Conversation:
        return self.repository.get(conversation_id)

    def list(self, limit: int = 200) -> Conversations:
        return self.repository.list(limit)

    def search(self, text: str, limit: int = 200) -> Conversations:
        """Chats whose title or any message contains `text`; all of them for blank text."""
        text = text.strip()
        return self.repository.search(text, limit) if text else self.repository.list(limit)

    def rename(self, conversation_id: int, title: str) -> Conversation:
        title = " ".join(title.split())
        if not title:
            raise UserInputError("A chat needs a name; type at least one letter.")
        self.repository.rename(conversation_id, title[:400])
        return self.repository.get(conversation_id)

    def delete(self, conversation_id: int) -> None:
        self.repository.delete(conversation_id)

    def branch(self, conversation: Conversation, upto: int) -> Conversation:
        """A new saved chat holding messages 0..upto of `conversation`, same model and options."""
        if not 0 <= upto < len(conversation.messages):
            raise UserInputError("Branch from a message that is in the chat.")
        base = conversation.title or title_for(conversation)
        branch = conversation.model_copy(
            update={
                "id": None,
                "title": f"{base} (branch)",
                "messages": list(conversation.messages[: upto + 1]),
                "created_at": None,
                "updated_at": None,
            },
            deep=True,
        )
        return self.save(branch)


def export_markdown(conversation: Conversation) -> str:
    """The chat as a Markdown document: title, model and options, then each message."""
    lines = [f"# {conversation.title or title_for(conversation)}", ""]
    if conversation.models:
        lines.append(f"- Model: {', '.join(conversation.models)}")
    if conversation.options:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(conversation.options.items()))
        lines.append(f"- Options: {shown}")
    if conversation.updated_at is not None:
        lines.append(f"- Saved: {conversation.updated_at:%Y-%m-%d %H:%M} UTC")
    lines.append("")
    if conversation.system.strip():
        lines += ["## System", "", conversation.system.strip(), ""]
    for message in conversation.messages:
        who = "You" if message.role == "user" else (message.model or message.role.title())
        lines += [f"## {who}", ""]
        if message.images:
            lines += [f"*{len(message.images)} image(s) attached*", ""]
        lines += [message.content.rstrip(), ""]
        if message.error:
            lines += [f"> {message.error}", ""]
    return "\n".join(lines).rstrip() + "\n"


def export_json(conversation: Conversation) -> str:
    """The chat as JSON, as the app saves it (images included as base64)."""
    return json.dumps(conversation.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


class PresetSettings(Protocol):
    """Where presets live: the settings store (settings.json), under `chat_presets`."""

    def stored(self) -> dict[str, Any]: ...

    def set(self, key: str, value: Any) -> object: ...


class ChatPresets:
    """Named presets: a system prompt plus options, saved in the settings file by name."""

    KEY = "chat_presets"

    def __init__(self, store: PresetSettings) -> None:
        self.store = store

    def _all(self) -> dict[str, dict[str, Any]]:
        raw = self.store.stored().get(self.KEY) or {}
        return {str(k): dict(v) for k, v in raw.items() if isinstance(v, Mapping)}

    def list(self) -> Presets:
        return [
            ChatPreset(
                name=name,
                system=str(value.get("system") or ""),
                options=dict(value.get("options") or {}),
            )
            for name, value in sorted(self._all().items(), key=lambda kv: kv[0].lower())
        ]

    def get(self, name: str) -> ChatPreset:
        for preset in self.list():
            if preset.name == name:
                return preset
        raise NotFoundError(f"No chat preset named {name!r}.")

    def save(self, name: str, system: str, options: Mapping[str, Any]) -> ChatPreset:
        name = " ".join(name.split())
        if not name:
            raise UserInputError("Give the preset a name.")
        if len(name) > MAX_PRESET_NAME:
            raise UserInputError(f"A preset name has at most {MAX_PRESET_NAME} characters.")
        presets = self._all()
        presets[name] = {"system": system, "options": dict(options)}
        self.store.set(self.KEY, presets)
        return self.get(name)

    def delete(self, name: str) -> None:
        presets = self._all()
        if presets.pop(name, None) is None:
            raise NotFoundError(f"No chat preset named {name!r}.")
        self.store.set(self.KEY, presets)
