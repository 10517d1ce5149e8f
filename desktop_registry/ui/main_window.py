"""The main window: the registry's models in a table, with Sync.

The full window (category tree, inspector, chat) replaces this in the desktop-window issue.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTableView, QVBoxLayout, QWidget

from desktop_registry.app import AppContext
from desktop_registry.domain import ModelRecord
from desktop_registry.errors import RegistryError

COLUMNS = ("Name", "Source", "Category", "Capabilities", "Parameters", "Quantization", "Status")


class ModelTable(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[ModelRecord] = []

    def set_records(self, records: list[ModelRecord]) -> None:
        self.beginResetModel()
        self.records = records
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        r = self.records[index.row()]
        return (
            r.name,
            f"{r.source.value} ({r.serving.value})",
            r.category.value,
            ", ".join(r.capabilities),
            r.details.parameter_size or "",
            r.details.quantization_level or "",
            r.status.value,
        )[index.column()]


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.closed = asyncio.Event()
        self.setWindowTitle("Desktop Registry")
        self.resize(1100, 650)
        self.table_model = ModelTable()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty_label = QLabel()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table)
        self.setCentralWidget(central)
        sync = QAction("&Sync with Ollama", self)
        sync.setShortcut(QKeySequence("Ctrl+R"))
        sync.triggered.connect(lambda: asyncio.ensure_future(self.sync()))
        self.menuBar().addMenu("&Registry").addAction(sync)
        self.refresh()

    def refresh(self) -> None:
        records = self.ctx.models.list()
        self.table_model.set_records(records)
        self.table.resizeColumnsToContents()
        self.empty_label.setVisible(not records)
        self.empty_label.setText(
            "The registry is empty. Registry → Sync with Ollama (Ctrl+R) brings in your local models."
        )
        self.statusBar().showMessage(f"{len(records)} models")

    async def sync(self) -> None:
        self.statusBar().showMessage(f"Syncing with Ollama at {self.ctx.settings.ollama_url}…")
        try:
            report = await self.ctx.ollama_sync().run()
        except RegistryError as exc:
            self.statusBar().showMessage(str(exc))
            return
        finally:
            await self.ctx.aclose()
        self.refresh()
        self.statusBar().showMessage(
            f"Synced: {len(report.added)} added, {len(report.updated)} updated, "
            f"{report.unchanged} unchanged, {len(report.missing)} missing"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.set()
        super().closeEvent(event)
