"""The Chats tab: saved conversations, newest first, with search, open, rename, delete and
export as Markdown or JSON.

Reads and writes only through ConversationService; a failure is a status-bar message, never a
traceback, and a delete is asked about first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.errors import RegistryError
from desktop_registry.services.serving.conversations import export_json, export_markdown

if TYPE_CHECKING:
    from desktop_registry.domain.conversations import Conversation
    from desktop_registry.ui.window_api import WindowServices

ID_ROLE = Qt.ItemDataRole.UserRole
EMPTY = "No saved chats yet. A chat is saved as soon as its first reply arrives."
NO_MATCH = "No saved chat holds that text."


class ConversationList(QWidget):
    """Saved chats; `open_requested(id)` when one is opened (double-click, Enter or Open)."""

    open_requested = Signal(int)

    def __init__(self, window: WindowServices) -> None:
        super().__init__()
        self.window_ = window
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles and messages…")
        self.search.setClearButtonEnabled(True)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Chat", "Model", "Saved"])
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel(EMPTY)
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        self.open_button = QPushButton("Open")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.markdown_button = QPushButton("Export Markdown…")
        self.json_button = QPushButton("Export JSON…")
        buttons = QHBoxLayout()
        for button in (self.open_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.markdown_button)
        buttons.addWidget(self.json_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.table.itemActivated.connect(lambda _i, _c: self.open_selected())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.open_button.clicked.connect(self.open_selected)
        self.rename_button.clicked.connect(self._ask_rename)
        self.delete_button.clicked.connect(self._ask_delete)
        self.markdown_button.clicked.connect(lambda: self._ask_export("md"))
        self.json_button.clicked.connect(lambda: self._ask_export("json"))
        self.refresh()

    def stop(self) -> None:
        """Nothing runs here; having stop() lets the tab close as a chat's does."""

    # ----- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_id()
        try:
            chats = self.window_.ctx.conversations().search(self.search.text())
        except RegistryError as exc:
            self.window_.report(f"Saved chats could not be read: {exc}")
            return
        self.table.clear()
        for chat in chats:
            saved = chat.updated_at.strftime("%Y-%m-%d %H:%M") if chat.updated_at else ""
            item = QTreeWidgetItem([chat.title, ", ".join(chat.models), saved])
            item.setData(0, ID_ROLE, chat.id)
            item.setToolTip(0, chat.title)
            self.table.addTopLevelItem(item)
            if chat.id == selected:
                item.setSelected(True)
        if self.table.selectedItems() == [] and self.table.topLevelItemCount():
            first = self.table.topLevelItem(0)
            if first is not None:
                self.table.setCurrentItem(first)
        searching = bool(self.search.text().strip())
        self.empty.setText(NO_MATCH if searching else EMPTY)
        self.empty.setVisible(self.table.topLevelItemCount() == 0)
        self._update_buttons()

    def titles(self) -> list[str]:
        count = self.table.topLevelItemCount()
        return [item.text(0) for i in range(count) if (item := self.table.topLevelItem(i))]

    def selected_id(self) -> int | None:
        items = self.table.selectedItems()
        return int(items[0].data(0, ID_ROLE)) if items else None

    def select(self, conversation_id: int) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and item.data(0, ID_ROLE) == conversation_id:
                self.table.setCurrentItem(item)

    def _update_buttons(self) -> None:
        chosen = self.selected_id() is not None
        for button in (
            self.open_button,
            self.rename_button,
            self.delete_button,
            self.markdown_button,
            self.json_button,
        ):
            button.setEnabled(chosen)

    # ----- actions -------------------------------------------------------------------------
    def open_selected(self) -> None:
        if (chosen := self.selected_id()) is not None:
            self.open_requested.emit(chosen)

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self.window_.ctx.conversations().rename(conversation_id, title)
        except RegistryError as exc:
            self.window_.report(f"The chat was not renamed: {exc}")
        self.refresh()

    def delete(self, conversation_id: int) -> None:
        try:
            self.window_.ctx.conversations().delete(conversation_id)
        except RegistryError as exc:
            self.window_.report(f"The chat was not deleted: {exc}")
        self.refresh()

    def export(self, conversation_id: int, path: Path) -> None:
        """Write the chat to `path`: JSON for a .json name, Markdown otherwise."""
        try:
            chat: Conversation = self.window_.ctx.conversations().get(conversation_id)
            text = export_json(chat) if path.suffix.lower() == ".json" else export_markdown(chat)
            path.write_text(text, encoding="utf-8")
        except RegistryError as exc:
            self.window_.report(f"The chat was not exported: {exc}")
            return
        except OSError as exc:
            self.window_.report(f"Could not write {path}: {exc.strerror or exc}.")
            return
        self.window_.report(f"Exported to {path}.")

    def _ask_rename(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        title, ok = QInputDialog.getText(self, "Rename chat", "Name", text=items[0].text(0))
        if ok:
            self.rename(int(items[0].data(0, ID_ROLE)), title)

    def _ask_delete(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        answer = QMessageBox.question(
            self, "Delete chat", f"Delete “{items[0].text(0)}”? This cannot be undone."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(int(items[0].data(0, ID_ROLE)))

    def _ask_export(self, kind: str) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        stem = "".join(c if c.isalnum() or c in " -_" else "_" for c in items[0].text(0))[:60]
        suffix, label = (".json", "JSON (*.json)") if kind == "json" else (".md", "Markdown (*.md)")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat", str(Path.home() / f"{stem.strip() or 'chat'}{suffix}"), label
        )
        if path:
            target = Path(path)
            if not target.suffix:
                target = target.with_suffix(suffix)
            self.export(int(items[0].data(0, ID_ROLE)), target)
