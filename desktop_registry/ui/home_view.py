"""The Home tab: an empty state that offers Sync and Pull, or a summary of the registry.

Reads counts from the window's model entries; never touches a service itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_registry.ui.model_tree import SOURCE_LABELS

if TYPE_CHECKING:
    from desktop_registry.ui.main_window import MainWindow


class HomeView(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sync_button = QPushButton("Sync now (Ctrl+R)")
        self.pull_button = QPushButton("Pull a model…")
        self.chat_button = QPushButton("New chat (Ctrl+N)")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.sync_button, self.pull_button, self.chat_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addLayout(buttons)
        layout.addStretch(2)
        self.sync_button.clicked.connect(window.sync)
        self.pull_button.clicked.connect(lambda: window.open_pull())
        self.chat_button.clicked.connect(lambda: window.chat_with(None))

    @property
    def empty(self) -> bool:
        return not self.window_.entries

    def refresh(self) -> None:
        entries = self.window_.entries
        self.chat_button.setVisible(bool(entries))
        if not entries:
            self.title.setText("Your registry is empty")
            self.body.setText(
                "Sync brings in the models Ollama already has (and GitHub Models when a token "
                "is set in Settings). Pull downloads a new model into Ollama."
            )
            return
        by_source: dict[str, int] = {}
        local = 0
        for e in entries:
            by_source[e.source] = by_source.get(e.source, 0) + 1
            local += e.serving == "local"
        parts = [f"{SOURCE_LABELS.get(s, s)}: {n}" for s, n in sorted(by_source.items())]
        self.title.setText(f"{len(entries)} models in your registry")
        self.body.setText(
            f"{local} local, {len(entries) - local} remote  ·  "
            + "  ·  ".join(parts)
            + "\n\nPick a model on the left to inspect it, or start a chat."
        )
