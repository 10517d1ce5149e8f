"""Pieces of the chat pane: a streaming transcript column and the model picker.

Streams through ServingService only; never blocks the loop and never drops a partial reply.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.chat import ChatMessage, ChatUsage
from desktop_registry.domain.conversations import SavedMessage
from desktop_registry.domain.entries import ModelEntry
from desktop_registry.errors import RegistryError
from desktop_registry.ui.chat_markdown import warm_highlighter, warm_up
from desktop_registry.ui.chat_message import MessageView
from desktop_registry.ui.chat_options_drawer import ChatOptions

__all__ = ["ChatColumn", "ChatOptions", "MessageView", "ModelPicker", "read_image", "usage_text"]

if TYPE_CHECKING:
    from desktop_registry.services.serving.service import ServingService


_SERVING_MODULES = (
    "desktop_registry.services.serving.service",
    "desktop_registry.services.serving.ensemble",
)
_warm_started = False


def warm_up_chat() -> None:
    """Import what the first reply needs (the serving service, Pygments) off the loop while
    the user types: on the loop they stalled the first Send by ~60 ms."""
    global _warm_started
    if _warm_started:
        return
    _warm_started = True
    for name in _SERVING_MODULES:
        warm_up(importlib.import_module, name)
    warm_highlighter("python")


def context_used(usage: ChatUsage | None) -> int | None:
    """Tokens the model holds after a reply: the prompt it read plus what it wrote."""
    if usage is None or usage.prompt_tokens is None:
        return None
    return usage.prompt_tokens + (usage.completion_tokens or 0)


def usage_text(usage: ChatUsage | None, context_limit: int | None = None) -> str:
    """A reply's figures, as LM Studio shows them: tokens, TTFT, tokens/s, context used."""
    if usage is None:
        return ""
    parts = []
    if usage.completion_tokens is not None:
        parts.append(f"{usage.completion_tokens} tokens")
    if usage.prompt_tokens is not None:
        parts.append(f"{usage.prompt_tokens} in")
    if usage.ttft_s is not None:
        parts.append(f"TTFT {usage.ttft_s * 1000:.0f} ms")
    if usage.tokens_per_s is not None:
        parts.append(f"{usage.tokens_per_s:.1f} tok/s")
    if usage.wall_s is not None:
        parts.append(f"{usage.wall_s:.2f} s")
    used = context_used(usage)
    if used is not None and context_limit:
        parts.append(f"context {used:,} of {context_limit:,} ({used / context_limit:.0%})")
    return " · ".join(parts)


class ChatColumn(QWidget):
    """A transcript for one model that streams replies into itself.

    `history[i]` is shown by `views[i]`; notes between them are not messages. With
    actions=True each bubble offers regenerate, edit, branch and delete (`message_action`)."""

    message_action = Signal(str, int)  # action name, index in history
    message_edited = Signal(int, str)  # index of an edited user message, its new text

    def __init__(self, title: str = "", *, actions: bool = False) -> None:
        super().__init__()
        self.model_name = ""
        self.with_actions = actions  # not `actions`: QWidget.actions()
        self.history: list[SavedMessage] = []
        self.views: list[MessageView] = []
        self.inherited = 0  # leading history messages copied from another column (compare mode)
        self.current: MessageView | None = None
        self.streaming = False
        self.context_limit: int | None = None  # num_ctx in effect, for the footer's "context"
        self.header = QLabel(title)
        self.header.setObjectName("sectionTitle")
        self.header.setVisible(bool(title))
        self.scroll_area = QScrollArea()  # not `scroll`: QWidget.scroll()
        self.scroll_area.setWidgetResizable(True)
        body = QWidget()
        self.messages = QVBoxLayout(body)
        self.messages.addStretch(1)
        self.scroll_area.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll_area)
        self._scroll_pending = False
        warm_up_chat()

    def add_view(self, role: str, title: str = "") -> MessageView:
        view = MessageView(role, title, actions=self.with_actions)
        view.action.connect(lambda name, v=view: self._on_action(name, v))
        view.edited.connect(lambda text, v=view: self._on_edited(text, v))
        self.messages.insertWidget(self.messages.count() - 1, view)
        self.views.append(view)
        self._scroll_later()
        return view

    def _on_action(self, name: str, view: MessageView) -> None:
        if view in self.views and not self.streaming:
            self.message_action.emit(name, self.views.index(view))

    def _on_edited(self, text: str, view: MessageView) -> None:
        if view in self.views and not self.streaming:
            self.message_edited.emit(self.views.index(view), text)

    def _scroll_later(self) -> None:
        # Coalesce: one scroll per event-loop turn, however many chunks arrived.
        if not self._scroll_pending:
            self._scroll_pending = True
            QTimer.singleShot(0, self._scroll_to_end)

    def _scroll_to_end(self) -> None:
        self._scroll_pending = False
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())

    def show_saved(self, message: SavedMessage) -> None:
        view = self.add_view(message.role, message.model if message.role == "assistant" else "")
        view.set_text(message.content, message.thinking)
        if message.error:
            view.set_footer(message.error, error=True)
        else:
            view.set_footer(usage_text(message.usage, self.context_limit))
        if message.images:
            view.set_footer(f"{len(message.images)} image(s) attached")
        self.history.append(message)

    def show_earlier(self, messages: list[SavedMessage]) -> None:
        """Start this column with a conversation held before it joined (user turns and another
        model's replies): shown greyed, and sent to this column's model as context."""
        if not messages:
            return
        self._add_note("Earlier in this conversation — sent to this column's model as context:")
        for message in messages:
            title = "You · earlier" if message.role == "user" else f"{message.model} · earlier"
            view = self.add_view(message.role, title)
            view.mark_earlier()
            view.set_text(message.content)
            if message.error:
                view.set_footer(message.error)
            self.history.append(message)
        self.inherited = len(self.history)
        self._add_note("This column joins here.")

    def _add_note(self, text: str) -> None:
        note = QLabel(text)
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.messages.insertWidget(self.messages.count() - 1, note)

    def add_user(self, text: str, images: list[str]) -> SavedMessage:
        message = SavedMessage(role="user", content=text, images=images)
        view = self.add_view("user")
        view.set_text(text)
        if images:
            view.set_footer(f"{len(images)} image(s) attached")
        self.history.append(message)
        return message

    def truncate(self, index: int) -> list[SavedMessage]:
        """Drop messages `index` and after (regenerate, resend); returns what was dropped."""
        dropped = self.history[index:]
        del self.history[index:]
        for view in self.views[index:]:
            self.messages.removeWidget(view)
            view.deleteLater()
        del self.views[index:]
        return dropped

    def remove(self, index: int) -> SavedMessage:
        message = self.history.pop(index)
        view = self.views.pop(index)
        self.messages.removeWidget(view)
        view.deleteLater()
        return message

    def chat_messages(self, system: str) -> list[ChatMessage]:
        out = [ChatMessage(role="system", content=system)] if system.strip() else []
        for m in self.history:
            if m.role == "assistant" and not m.content and m.error:
                continue  # a reply that never produced text adds nothing for the model
            out.append(ChatMessage(role=m.role, content=m.content, images=m.images))
        return out

    async def stream_reply(
        self,
        serving: ServingService,
        model: str,
        messages: list[ChatMessage],
        options: dict[str, float],
        think: bool | None,
    ) -> SavedMessage:
        """Stream one reply into a new bubble; returns it (partial when stopped or cut off)."""
        view = self.add_view("assistant", model)
        view.set_streaming(True)
        self.current = view
        self.streaming = True
        usage: ChatUsage | None = None
        error = ""
        try:
            async for chunk in serving.chat(model, messages, options=options or None, think=think):
                view.append(chunk.content, chunk.thinking)
                if chunk.content or chunk.thinking:
                    self._scroll_later()
                if chunk.done:
                    usage = chunk.usage
            view.set_footer(usage_text(usage, self.context_limit))
        except asyncio.CancelledError:
            error = "Stopped. The partial reply is kept."
            view.set_footer(error, error=True)
        except RegistryError as exc:
            error = str(exc)
            view.set_footer(error, error=True)
        finally:
            view.finish()
            view.set_streaming(False)
            self._scroll_later()
            self.streaming = False
            self.current = None
        saved = SavedMessage(
            role="assistant",
            content=view.content,
            thinking=view.thinking_text,
            model=model,
            usage=usage,
            error=error,
        )
        self.history.append(saved)
        return saved

    def clear(self) -> None:
        self.history.clear()
        self.views.clear()
        self.inherited = 0
        while self.messages.count() > 1:
            item = self.messages.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()


class ModelPicker(QComboBox):
    """Any registry model (local or remote), typed or picked; embedding-only models are left out."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        super().__init__()
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(12)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.set_entries(entries)

    def set_entries(self, entries: list[ModelEntry]) -> None:
        current = self.currentText()
        self.blockSignals(True)
        self.clear()
        for e in entries:
            if e.categories == ("embedding",) or e.status == "missing":
                continue
            self.addItem(e.name, e.id)
        completer = QCompleter([self.itemText(i) for i in range(self.count())], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        if current:
            self.setCurrentText(current)
        self.blockSignals(False)

    def model_name(self) -> str:
        return self.currentText().strip()

    def select(self, name: str) -> None:
        index = self.findText(name)
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setCurrentText(name)


def read_image(path: Path) -> str:
    """Base64 of an image file, as Ollama's `images` wants it (no data: prefix)."""
    return base64.b64encode(path.read_bytes()).decode("ascii")
