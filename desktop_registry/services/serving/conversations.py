"""Saved chats: keep a conversation in the registry database and reopen it later.

Never drops a message: a partial reply (stopped or cut off) is saved with why it ended.
"""

from __future__ import annotations

from desktop_registry.domain.conversations import Conversation
from desktop_registry.errors import UserInputError
from desktop_registry.storage.job_repository import ConversationRepository

TITLE_LENGTH = 60
Conversations = list[Conversation]  # `ConversationService.list` shadows the builtin


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

    def delete(self, conversation_id: int) -> None:
        self.repository.delete(conversation_id)
