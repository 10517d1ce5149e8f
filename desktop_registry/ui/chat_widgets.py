"""Pieces of the chat pane: a message bubble, a streaming transcript column, options, model picker.

Streams through ServingService only; never blocks the loop and never drops a partial reply.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.chat import ChatMessage, ChatUsage
from desktop_registry.domain.conversations import SavedMessage
from desktop_registry.domain.entries import ModelEntry
from desktop_registry.errors import RegistryError

if TYPE_CHECKING:
    from desktop_registry.services.serving.service import ServingService


def usage_text(usage: ChatUsage | None) -> str:
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
    return " · ".join(parts)


class MessageView(QFrame):
    """One message: who, collapsible thinking, the text, and figures or an error under it."""

    def __init__(self, role: str, title: str = "") -> None:
        super().__init__()
        self.role = role
        self.setObjectName("bubble_user" if role == "user" else "bubble_assistant")
        # Minimum, not Maximum: a wrapped label needs its height-for-width, or text is clipped.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.who = QLabel(title or ("You" if role == "user" else "Assistant"))
        self.who.setObjectName("muted")
        layout.addWidget(self.who)
        self.thinking_toggle = QToolButton()
        self.thinking_toggle.setText("Thinking")
        self.thinking_toggle.setCheckable(True)
        self.thinking_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.thinking_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.thinking_toggle.setStyleSheet("QToolButton { border: none; }")
        self.thinking_toggle.setVisible(False)
        self.thinking = QLabel()
        self.thinking.setObjectName("muted")
        self.thinking.setWordWrap(True)
        self.thinking.setVisible(False)
        self.thinking.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.thinking_toggle.toggled.connect(self._toggle_thinking)
        layout.addWidget(self.thinking_toggle)
        layout.addWidget(self.thinking)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.footer = QLabel()
        self.footer.setObjectName("stats")
        self.footer.setWordWrap(True)
        self.footer.setVisible(False)
        layout.addWidget(self.footer)
        self.content = ""
        self.thinking_text = ""

    def _toggle_thinking(self, opened: bool) -> None:
        self.thinking.setVisible(opened)
        self.thinking_toggle.setArrowType(
            Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow
        )

    def append(self, content: str = "", thinking: str = "") -> None:
        if thinking:
            self.thinking_text += thinking
            self.thinking.setText(self.thinking_text)
            self.thinking_toggle.setVisible(True)
        if content:
            self.content += content
            self.text.setText(self.content)

    def mark_earlier(self) -> None:
        """Context from before its column joined a comparison: greyed, with a dashed outline."""
        self.setObjectName("bubble_earlier")
        self.setStyleSheet(
            "QFrame#bubble_earlier { border: 1px dashed palette(mid); border-radius: 6px; }"
        )
        self.text.setObjectName("muted")

    def set_footer(self, text: str, *, error: bool = False) -> None:
        self.footer.setObjectName("error" if error else "stats")
        self.footer.style().unpolish(self.footer)
        self.footer.style().polish(self.footer)
        self.footer.setText(text)
        self.footer.setVisible(bool(text))


class ChatColumn(QWidget):
    """A transcript for one model that streams replies into itself."""

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.model_name = ""
        self.history: list[SavedMessage] = []
        self.inherited = 0  # leading history messages copied from another column (compare mode)
        self.current: MessageView | None = None
        self.streaming = False
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

    def add_view(self, role: str, title: str = "") -> MessageView:
        view = MessageView(role, title)
        self.messages.insertWidget(self.messages.count() - 1, view)
        self._scroll_later()
        return view

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
        view.append(message.content, message.thinking)
        if message.error:
            view.set_footer(message.error, error=True)
        else:
            view.set_footer(usage_text(message.usage))
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
            view.append(message.content)
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
        view.append(text)
        if images:
            view.set_footer(f"{len(images)} image(s) attached")
        self.history.append(message)
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
            view.set_footer(usage_text(usage))
        except asyncio.CancelledError:
            error = "Stopped. The partial reply is kept."
            view.set_footer(error, error=True)
        except RegistryError as exc:
            error = str(exc)
            view.set_footer(error, error=True)
        finally:
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
        self.inherited = 0
        while self.messages.count() > 1:
            item = self.messages.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()


class ChatOptions(QWidget):
    """Per-chat options: temperature, top_p, num_ctx, seed, system prompt, thinking."""

    def __init__(self) -> None:
        super().__init__()
        form = QFormLayout(self)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("model default")
        self.temperature.setValue(-0.1)
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(-0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setSpecialValueText("model default")
        self.top_p.setValue(-0.05)
        self.num_ctx = QSpinBox()
        self.num_ctx.setRange(0, 1_048_576)
        self.num_ctx.setSingleStep(1024)
        self.num_ctx.setSpecialValueText("model default")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2_147_483_647)
        self.seed.setSpecialValueText("random")
        self.seed.setValue(-1)
        self.think = QCheckBox("Show thinking (reasoning models)")
        self.think.setChecked(True)
        self.system = QPlainTextEdit()
        self.system.setPlaceholderText("System prompt (optional)")
        self.system.setMaximumHeight(90)
        form.addRow("Temperature", self.temperature)
        form.addRow("top_p", self.top_p)
        form.addRow("Context (num_ctx)", self.num_ctx)
        form.addRow("Seed", self.seed)
        form.addRow(self.think)
        form.addRow("System", self.system)

    def values(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.temperature.value() >= 0:
            out["temperature"] = round(self.temperature.value(), 2)
        if self.top_p.value() >= 0:
            out["top_p"] = round(self.top_p.value(), 2)
        if self.num_ctx.value() > 0:
            out["num_ctx"] = self.num_ctx.value()
        if self.seed.value() >= 0:
            out["seed"] = self.seed.value()
        return out

    def set_values(self, options: dict[str, Any], system: str) -> None:
        self.temperature.setValue(float(options.get("temperature", -0.1)))
        self.top_p.setValue(float(options.get("top_p", -0.05)))
        self.num_ctx.setValue(int(options.get("num_ctx", 0)))
        self.seed.setValue(int(options.get("seed", -1)))
        self.system.setPlainText(system)


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
