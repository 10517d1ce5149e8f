"""The chat pane: talk to any registry model, streaming, with options, images, Stop and stats.

Every reply is awaited on the qasync loop; a stopped or broken reply is kept and saved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord
from desktop_registry.domain.conversations import Conversation, SavedMessage
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.ui.chat_widgets import ChatColumn, ChatOptions, ModelPicker, read_image

if TYPE_CHECKING:
    from desktop_registry.ui.window_api import ChatHost


class PromptBox(QWidget):
    """The input row: prompt, attach image, Send and Stop."""

    send = Signal()
    stop = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Message (Ctrl+Enter sends)")
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
        self.images: list[str] = []

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
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.picker, 1)
        top.addWidget(self.options_toggle)
        self.column = ChatColumn()
        self.options = ChatOptions()
        self.options.setVisible(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.column)
        split.addWidget(self.options)
        split.setStretchFactor(0, 3)
        self.input = PromptBox()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.input)
        self.options_toggle.toggled.connect(self.options.setVisible)
        self.input.send.connect(self.send)
        self.input.stop.connect(self.stop)
        self.input.attach.clicked.connect(self._attach)
        self.picker.currentTextChanged.connect(lambda _t: self._update_attach())
        self._update_attach()

    # ----- helpers ---------------------------------------------------------------------
    def record(self) -> ModelRecord:
        return self.window_.ctx.registry().resolve(self.picker.model_name())

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

    # ----- sending ---------------------------------------------------------------------
    def send(self) -> None:
        if self.task is not None and not self.task.done():
            return
        if not self.picker.model_name():
            self.window_.report("Pick a model to chat with.")
            return
        text, images = self.input.take()
        if not text:
            return
        self.column.add_user(text, images)
        self.input.busy(True)
        self.task = self.window_.tasks.spawn(self._reply(), "chatting")

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _reply(self) -> SavedMessage | None:
        try:
            record = self.record()
            think = self.options.think.isChecked() if "thinking" in record.capabilities else None
            messages = self.column.chat_messages(self.options.system.toPlainText())
            serving = self.window_.serving()
            reply = await self.column.stream_reply(
                serving, record.name, messages, self.options.values(), think
            )
            self._save(record.name)
            if reply.error:
                self.window_.report(reply.error)
            return reply
        finally:
            self.input.busy(False)

    def _save(self, model: str) -> None:
        self.conversation = self.conversation.model_copy(
            update={
                "models": [model],
                "options": self.options.values(),
                "system": self.options.system.toPlainText(),
                "messages": list(self.column.history),
            }
        )
        try:
            self.conversation = self.window_.ctx.conversations().save(self.conversation)
        except RegistryError as exc:
            self.window_.report(f"The chat could not be saved: {exc}")

    def load(self, conversation: Conversation) -> None:
        self.conversation = conversation
        if conversation.models:
            self.picker.select(conversation.models[0])
        self.options.set_values(conversation.options, conversation.system)
        self.column.clear()
        for message in conversation.messages:
            self.column.show_saved(message)
