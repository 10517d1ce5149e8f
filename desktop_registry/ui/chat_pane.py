"""The chat pane: talk to any registry model, streaming, with options and presets, images, Stop,
per-message actions (regenerate, edit and resend, branch, delete) and context figures.

Every reply is awaited on the qasync loop; a stopped or broken reply is kept and saved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord, Source
from desktop_registry.domain.conversations import Conversation, SavedMessage
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.ui.chat_options_drawer import OptionsDrawer
from desktop_registry.ui.chat_widgets import ChatColumn, ModelPicker, context_used, read_image

if TYPE_CHECKING:
    from desktop_registry.ui.window_api import ChatHost

OLLAMA_DEFAULT_CTX = 4096  # what Ollama gives a model when neither it nor the request sets num_ctx
WARN_AT = 0.8  # warn once a conversation fills this share of the context


class PromptBox(QWidget):
    """The input row: prompt, attach image, Send and Stop. Enter sends and Shift+Enter starts
    a new line (enter_sends=False: Enter is a new line and Ctrl+Enter sends)."""

    send = Signal()
    stop = Signal()

    def __init__(self, *, enter_sends: bool = True) -> None:
        super().__init__()
        self.prompt = QPlainTextEdit()
        self.prompt.setMaximumHeight(80)
        self.attach = QPushButton("Attach image…")
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.attached = QLabel("")
        self.attached.setObjectName("muted")
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.attach)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.addWidget(self.prompt)
        left.addWidget(self.attached)
        row.addLayout(left, 1)
        row.addLayout(buttons)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        # PySide6 takes a signal's slot as a keyword argument; its stubs do not know that.
        QShortcut(QKeySequence("Ctrl+Return"), self.prompt, activated=self.send.emit)  # type: ignore[call-overload]
        self.prompt.installEventFilter(self)
        self.images: list[str] = []
        self.enter_sends = enter_sends
        self.set_enter_sends(enter_sends)

    def set_enter_sends(self, on: bool) -> None:
        self.enter_sends = on
        hint = "Enter sends, Shift+Enter new line" if on else "Ctrl+Enter sends"
        self.prompt.setPlaceholderText(f"Message ({hint})")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.prompt and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                mods = event.modifiers()
                if mods & Qt.KeyboardModifier.ControlModifier:
                    self.send.emit()
                    return True
                if self.enter_sends and not mods & Qt.KeyboardModifier.ShiftModifier:
                    self.send.emit()
                    return True
                self.prompt.insertPlainText("\n")  # a real newline, not Qt's line separator
                return True
        return super().eventFilter(watched, event)

    def busy(self, running: bool) -> None:
        self.send_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def take(self) -> tuple[str, list[str]]:
        text, images = self.prompt.toPlainText().strip(), self.images
        self.prompt.clear()
        self.images = []
        self.attached.setText("")
        return text, images

    def add_image(self, path: Path) -> None:
        try:
            self.images.append(read_image(path))
        except OSError as exc:
            raise UserInputError(f"Could not read {path.name}: {exc.strerror}.") from None
        self.attached.setText(f"{len(self.images)} image(s) attached")


class ChatPane(QWidget):
    """One conversation with one model."""

    model_changed = Signal(str)  # the picked model's name: the tab title follows it
    branched = Signal(int)  # a new saved conversation branched from a message: open it

    def __init__(self, window: ChatHost, model_name: str = "") -> None:
        super().__init__()
        self.window_ = window
        self.conversation = Conversation()
        self.task: asyncio.Task[SavedMessage | None] | None = None
        self.picker = ModelPicker(window.entries)
        if model_name:
            self.picker.select(model_name)
        self.options_toggle = QToolButton()
        self.options_toggle.setText("Options")
        self.options_toggle.setCheckable(True)
        self.options_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.options_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.picker, 1)
        top.addWidget(self.options_toggle)
        self.drawer = OptionsDrawer(window.ctx.chat_presets())
        self.options = self.drawer.options
        enter_sends = bool(window.ctx.settings.chat_enter_sends)
        self.enter_sends = QCheckBox("Enter sends (Shift+Enter: new line)")
        self.enter_sends.setChecked(enter_sends)
        self.drawer.body.addWidget(self.enter_sends)
        self.column = ChatColumn(actions=True)
        self.context_note = QLabel()
        self.context_note.setObjectName("error")
        self.context_note.setWordWrap(True)
        self.context_note.setVisible(False)
        self.input = PromptBox(enter_sends=enter_sends)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.drawer)
        layout.addWidget(self.column, 1)
        layout.addWidget(self.context_note)
        layout.addWidget(self.input)
        self.options_toggle.toggled.connect(self._toggle_drawer)
        self.drawer.failed.connect(window.report)
        self.enter_sends.toggled.connect(self._set_enter_sends)
        self.input.send.connect(self.send)
        self.input.stop.connect(self.stop)
        self.input.attach.clicked.connect(self._attach)
        self.picker.currentTextChanged.connect(self._model_picked)
        self.column.message_action.connect(self._on_action)
        self.column.message_edited.connect(self.resend_edited)
        self._update_attach()

    # ----- helpers ---------------------------------------------------------------------
    def record(self) -> ModelRecord:
        return self.window_.ctx.registry().resolve(self.picker.model_name())

    def _toggle_drawer(self, opened: bool) -> None:
        self.drawer.setVisible(opened)
        self.options_toggle.setArrowType(Qt.ArrowType.UpArrow if opened else Qt.ArrowType.DownArrow)

    def _set_enter_sends(self, on: bool) -> None:
        self.input.set_enter_sends(on)
        try:
            self.window_.ctx.settings_store().set("chat_enter_sends", on)
        except RegistryError as exc:
            self.window_.report(f"The Enter key setting was not saved: {exc}")

    def _model_picked(self, name: str) -> None:
        self._update_attach()
        if name.strip():
            self.model_changed.emit(name.strip())

    def _update_attach(self) -> None:
        try:
            vision = "vision" in self.record().capabilities
        except RegistryError:
            vision = False
        self.input.attach.setEnabled(vision)
        self.input.attach.setToolTip("" if vision else "This model does not take images.")

    def _attach(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Attach an image", "", "Images (*.png *.jpg *.jpeg *.webp *.gif)"
        )
        if path:
            try:
                self.input.add_image(Path(path))
            except UserInputError as exc:
                self.window_.report(str(exc))

    def context_limit(self, record: ModelRecord) -> int | None:
        """num_ctx in effect: this chat's option, the model's own parameter, Ollama's default,
        else the context length the source reports."""
        chosen = self.options.values().get("num_ctx") or record.parameters.get("num_ctx")
        if chosen:
            return int(chosen)
        if record.source is Source.OLLAMA:
            return OLLAMA_DEFAULT_CTX
        return record.details.context_length

    def _check_context(self, record: ModelRecord, pending: str = "") -> None:
        """Warn once the chat nears its context, before the model starts forgetting its start."""
        limit = self.context_limit(record)
        replies = [m for m in self.column.history if m.role == "assistant" and m.usage]
        used = context_used(replies[-1].usage) if replies else None
        if not limit or used is None:
            self.context_note.setVisible(False)
            return
        upcoming = used + len(pending) // 4  # ~4 characters a token: a warning, not a count
        if upcoming >= limit * WARN_AT:
            self.context_note.setText(
                f"This chat holds about {upcoming:,} of {limit:,} context tokens "
                f"({upcoming / limit:.0%}). Past the limit the model forgets the start of the "
                "chat: raise Context (num_ctx) in Options, or start a new chat."
            )
            self.context_note.setVisible(True)
        else:
            self.context_note.setVisible(False)

    # ----- sending ---------------------------------------------------------------------
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def send(self) -> None:
        if self.busy():
            return
        if not self.picker.model_name():
            self.window_.report("Pick a model to chat with.")
            return
        text, images = self.input.take()
        if not text:
            return
        self.column.add_user(text, images)
        self._start_reply()

    def _start_reply(self) -> None:
        self.input.busy(True)
        self.task = self.window_.tasks.spawn(self._reply(), "chatting")

    def stop(self) -> None:
        if self.busy() and self.task is not None:
            self.task.cancel()

    async def _reply(self) -> SavedMessage | None:
        try:
            record = self.record()
            think = self.options.think.isChecked() if "thinking" in record.capabilities else None
            messages = self.column.chat_messages(self.options.system.toPlainText())
            serving = self.window_.serving()
            self.column.context_limit = self.context_limit(record)
            reply = await self.column.stream_reply(
                serving, record.name, messages, self.options.values(), think
            )
            self._save(record.name)
            self._check_context(record)
            if reply.error:
                self.window_.report(reply.error)
            return reply
        finally:
            self.input.busy(False)

    # ----- per-message actions ---------------------------------------------------------
    def _on_action(self, name: str, index: int) -> None:
        if self.busy():
            self.window_.report("Wait for the reply to finish, or press Stop.")
            return
        if name == "regenerate":
            self.regenerate(index)
        elif name == "delete":
            self.delete_message(index)
        elif name == "branch":
            self.branch_from(index)

    def regenerate(self, index: int) -> None:
        """Ask again for the reply at `index`; it and what followed it are replaced."""
        self.column.truncate(index)
        self._start_reply()

    def resend_edited(self, index: int, text: str) -> None:
        """Send an edited user message again: the chat continues from it, what followed goes."""
        if self.busy():
            self.window_.report("Wait for the reply to finish, or press Stop.")
            return
        images = self.column.history[index].images
        self.column.truncate(index)
        self.column.add_user(text, images)
        self._start_reply()

    def delete_message(self, index: int) -> None:
        self.column.remove(index)
        if self.conversation.id is not None or self.column.history:
            self._save(self.picker.model_name())

    def branch_from(self, index: int) -> None:
        try:
            branch = self.window_.ctx.conversations().branch(self._snapshot(), index)
        except RegistryError as exc:
            self.window_.report(f"The branch was not made: {exc}")
            return
        if branch.id is not None:
            self.branched.emit(branch.id)

    # ----- saving ----------------------------------------------------------------------
    def _snapshot(self, model: str = "") -> Conversation:
        return self.conversation.model_copy(
            update={
                "models": [model or self.picker.model_name()],
                "options": self.options.values(),
                "system": self.options.system.toPlainText(),
                "messages": list(self.column.history),
            }
        )

    def _save(self, model: str) -> None:
        try:
            self.conversation = self.window_.ctx.conversations().save(self._snapshot(model))
        except RegistryError as exc:
            self.window_.report(f"The chat could not be saved: {exc}")

    def load(self, conversation: Conversation) -> None:
        self.conversation = conversation
        if conversation.models:
            self.picker.select(conversation.models[0])
        self.options.set_values(conversation.options, conversation.system)
        self.column.clear()
        try:
            record: ModelRecord | None = self.record()
        except RegistryError:
            record = None  # the model is gone from the registry; the chat still shows
        self.column.context_limit = self.context_limit(record) if record else None
        for message in conversation.messages:
            self.column.show_saved(message)
        if record is not None:
            self._check_context(record)
