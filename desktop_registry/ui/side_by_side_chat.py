"""Compare mode: the same prompt to 2–4 models side by side, streaming at once.

Each column keeps its own history and its partial reply when stopped; never waits on one model
before starting the next. A column added mid-conversation starts from the conversation so far
(the user's turns and the first column's replies), so its next reply answers the same question.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.conversations import Conversation, SavedMessage
from desktop_registry.errors import RegistryError
from desktop_registry.ui.chat_pane import PromptBox
from desktop_registry.ui.chat_widgets import ChatColumn, ChatOptions, ModelPicker

if TYPE_CHECKING:
    from desktop_registry.domain.entries import ModelEntry
    from desktop_registry.ui.window_api import ChatHost

MIN_MODELS, MAX_MODELS = 2, 4


class CompareSlot(QWidget):
    def __init__(self, entries: list[ModelEntry], model_name: str) -> None:
        super().__init__()
        self.picker = ModelPicker(entries)
        if model_name:
            self.picker.select(model_name)
        self.column = ChatColumn()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.addWidget(self.picker)
        layout.addWidget(self.column, 1)


class SideBySideChat(QWidget):
    def __init__(self, window: ChatHost, model_names: list[str] | None = None) -> None:
        super().__init__()
        self.window_ = window
        self.conversation = Conversation()
        self.task: asyncio.Task[list[SavedMessage]] | None = None
        self.busy = False  # replies streaming: columns can be neither added nor removed
        self.slots: list[CompareSlot] = []
        self.columns = QSplitter(Qt.Orientation.Horizontal)
        self.add_button = QPushButton("Add model")
        self.remove_button = QPushButton("Remove last")
        self.options_toggle = QToolButton()
        self.options_toggle.setText("Options")
        self.options_toggle.setCheckable(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Same prompt to every model:"))
        top.addStretch(1)
        top.addWidget(self.add_button)
        top.addWidget(self.remove_button)
        top.addWidget(self.options_toggle)
        self.options = ChatOptions()
        self.options.setVisible(False)
        middle = QHBoxLayout()
        middle.addWidget(self.columns, 1)
        middle.addWidget(self.options)
        self.input = PromptBox()
        self.input.attach.setEnabled(False)
        self.input.attach.setToolTip("Attach images in a single-model chat.")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(self.input)
        names = list(model_names or [])
        for i in range(max(MIN_MODELS, min(len(names), MAX_MODELS))):
            self.add_slot(names[i] if i < len(names) else "")
        self.add_button.clicked.connect(lambda: self.add_slot(""))
        self.remove_button.clicked.connect(self.remove_slot)
        self.options_toggle.toggled.connect(self.options.setVisible)
        self.input.send.connect(self.send)
        self.input.stop.connect(self.stop)

    def add_slot(self, name: str) -> None:
        if len(self.slots) >= MAX_MODELS:
            return
        slot = CompareSlot(self.window_.entries, name)
        if self.slots:
            # Joining mid-conversation: the first column's history (the user's turns and, for
            # context, its replies), so this model's next reply is comparable with the others'.
            slot.column.show_earlier(list(self.slots[0].column.history))
        self.slots.append(slot)
        self.columns.addWidget(slot)
        self._even_columns()
        self._update_buttons()

    def remove_slot(self) -> None:
        if len(self.slots) <= MIN_MODELS:
            return
        slot = self.slots.pop()
        slot.setParent(None)
        slot.deleteLater()
        self._even_columns()
        self._update_buttons()

    def _even_columns(self) -> None:
        # A column added later would otherwise get whatever width the splitter had left.
        self.columns.setSizes([10_000] * len(self.slots))

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(not self.busy and len(self.slots) < MAX_MODELS)
        self.remove_button.setEnabled(not self.busy and len(self.slots) > MIN_MODELS)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.input.busy(busy)
        self._update_buttons()

    def send(self) -> None:
        if self.task is not None and not self.task.done():
            return
        names = [s.picker.model_name() for s in self.slots]
        if not all(names):
            self.window_.report("Pick a model in every column (or remove the empty one).")
            return
        text, _images = self.input.take()
        if not text:
            return
        for slot in self.slots:
            slot.column.add_user(text, [])
        self._set_busy(True)
        self.task = self.window_.tasks.spawn(self._replies(names), "comparing models")

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _replies(self, names: list[str]) -> list[SavedMessage]:
        serving = self.window_.serving()
        options = self.options.values()
        system = self.options.system.toPlainText()
        try:
            streams = []
            for slot, name in zip(self.slots, names, strict=True):
                record = self.window_.ctx.registry().resolve(name)
                think = (
                    self.options.think.isChecked() if "thinking" in record.capabilities else None
                )
                streams.append(
                    slot.column.stream_reply(
                        serving, record.name, slot.column.chat_messages(system), options, think
                    )
                )
            # Each stream keeps its partial reply itself when Stop cancels them all.
            replies = list(await asyncio.gather(*streams))
            self._save(names)
            return replies
        finally:
            self._set_busy(False)

    def _save(self, names: list[str]) -> None:
        # Columns move in step (one user turn, one reply each), so turn i is index i everywhere.
        # A column that joined late holds copies of the first column's earlier replies: not saved
        # twice (load() gives them back to it).
        merged: list[SavedMessage] = []
        for i, message in enumerate(self.slots[0].column.history):
            if message.role == "user":
                merged.append(message)
            else:
                merged.extend(
                    s.column.history[i]
                    for s in self.slots
                    if s.column.inherited <= i < len(s.column.history)
                )
        self.conversation = self.conversation.model_copy(
            update={
                "models": names,
                "options": self.options.values(),
                "system": self.options.system.toPlainText(),
                "messages": merged,
            }
        )
        try:
            self.conversation = self.window_.ctx.conversations().save(self.conversation)
        except RegistryError as exc:
            self.window_.report(f"The comparison could not be saved: {exc}")

    def load(self, conversation: Conversation) -> None:
        """Reopen a saved comparison: user turns go to every column, replies to their model's."""
        self.conversation = conversation
        while len(self.slots) < len(conversation.models):
            self.add_slot("")
        for slot, name in zip(self.slots, conversation.models, strict=False):
            slot.picker.select(name)
            slot.column.clear()
        self.options.set_values(conversation.options, conversation.system)
        turns = conversation_turns(conversation.messages)
        for slot, name in zip(self.slots, conversation.models, strict=False):
            earlier: list[SavedMessage] = []  # turns before this model joined
            joined = False
            for user, replies in turns:
                own = [r for r in replies if r.model == name]
                if not joined and not own:
                    earlier += [user, *replies[:1]]  # the first column's reply, as it was shown
                    continue
                if not joined:
                    slot.column.show_earlier(earlier)
                    joined = True
                slot.column.show_saved(user)
                for reply in own:
                    slot.column.show_saved(reply)
            if not joined:
                slot.column.show_earlier(earlier)


def conversation_turns(
    messages: list[SavedMessage],
) -> list[tuple[SavedMessage, list[SavedMessage]]]:
    """A saved comparison as (user message, the replies to it) pairs, in order."""
    turns: list[tuple[SavedMessage, list[SavedMessage]]] = []
    for message in messages:
        if message.role == "user":
            turns.append((message, []))
        elif turns:
            turns[-1][1].append(message)
    return turns
