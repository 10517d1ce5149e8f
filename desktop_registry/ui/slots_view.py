"""The Slots panel: each slot's active version, its versions, a history timeline, Switch/Rollback.

Shows state and sends intents to VersionService; switches run off the UI thread (MLflow I/O).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.versions import SlotVersion
from desktop_registry.errors import RegistryError
from desktop_registry.services.versions.service import VersionService
from desktop_registry.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.ui.window_api import PanelHost

P = ParamSpec("P")

VERSION_COLUMNS = ("Version", "Model", "Checkpoint digest", "MLflow version", "")


class SlotsView(QWidget):
    def __init__(
        self,
        service: VersionService,
        parent: QWidget | None = None,
        tasks: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.pending: asyncio.Future[None] | None = None
        self.versions: list[SlotVersion] = []

        self.slot_list = QListWidget()
        self.slot_list.currentTextChanged.connect(lambda _: self.show_slot())
        self.active_label = QLabel()
        self.active_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(VERSION_COLUMNS))
        self.table.setHorizontalHeaderLabels(VERSION_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history = QListWidget()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why? (kept in the history)")
        self.reindex = QCheckBox("Stored embeddings will be re-indexed")
        self.switch_button = QPushButton("Switch to selected")
        self.rollback_button = QPushButton("Rollback")
        self.switch_button.clicked.connect(lambda: self._start(self.switch_selected()))
        self.rollback_button.clicked.connect(lambda: self._start(self.rollback()))
        self.status = QLabel()
        self.tasks = (tasks or TaskRunner(self.status.setText)).reporting_to(self.status.setText)
        self.status.setWordWrap(True)

        right = QWidget()
        layout = QVBoxLayout(right)
        layout.addWidget(self.active_label)
        layout.addWidget(QLabel("Versions"))
        layout.addWidget(self.table, 2)
        actions = QHBoxLayout()
        actions.addWidget(self.reason, 1)
        actions.addWidget(self.reindex)
        actions.addWidget(self.switch_button)
        actions.addWidget(self.rollback_button)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("History (newest first)"))
        layout.addWidget(self.history, 1)
        splitter = QSplitter()
        splitter.addWidget(self.slot_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        outer = QVBoxLayout(self)
        outer.addWidget(splitter)
        self.refresh()

    # ----- showing ------------------------------------------------------------------------
    def refresh(self) -> None:
        current = self.slot_list.currentItem().text() if self.slot_list.currentItem() else ""
        try:
            names = self.service.slot_names()
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self.slot_list.blockSignals(True)
        self.slot_list.clear()
        self.slot_list.addItems(names)
        self.slot_list.blockSignals(False)
        if names:
            self.slot_list.setCurrentRow(names.index(current) if current in names else 0)
        else:
            self.active_label.setText(
                "No slots yet. Create one with `desktop-registry-cli slot create`."
            )
        self.show_slot()

    @property
    def slot_name(self) -> str:
        item = self.slot_list.currentItem()
        return item.text() if item else ""

    def show_slot(self) -> None:
        name = self.slot_name
        self.switch_button.setEnabled(bool(name))
        self.rollback_button.setEnabled(bool(name))
        if not name:
            return
        try:
            slot = self.service.slot(name)
            self.versions = self.service.versions(name)
            history = self.service.history(name)
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        active = next((v for v in self.versions if v.active), None)
        self.active_label.setText(
            f"<b>{slot.name}</b> ({slot.capability}): active "
            + (f"<b>{active.version}</b> — {active.model_name}" if active else "none")
        )
        self.table.setRowCount(len(self.versions))
        for row, version in enumerate(self.versions):
            cells = (
                version.version,
                version.model_name,
                version.checkpoint_digest[:19],
                version.mlflow_version or "-",
                "active" if version.active else "",
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.history.clear()
        for change in reversed(history):
            verb = "Rolled back" if change.action == "slot_rollback" else "Switched"
            why = f" — {change.reason}" if change.reason else ""
            self.history.addItem(
                f"{change.at:%Y-%m-%d %H:%M}  {verb} {change.from_version} → "
                f"{change.to_version} by {change.actor}{why}"
            )

    # ----- intents ------------------------------------------------------------------------
    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        self.pending = self.tasks.spawn(coro, "changing the active version")

    def select_version(self, version: str) -> None:
        for row, item in enumerate(self.versions):
            if item.version == version:
                self.table.selectRow(row)

    async def switch_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.setText("Select the version to switch to.")
            return
        target = self.versions[rows[0].row()].version
        await self._run(
            f"Switched {self.slot_name} to {target}.",
            self.service.switch,
            self.slot_name,
            target,
            reason=self.reason.text().strip(),
            acknowledge_reindex=self.reindex.isChecked(),
        )

    async def rollback(self) -> None:
        await self._run(
            f"Rolled {self.slot_name} back.",
            self.service.rollback,
            self.slot_name,
            reason=self.reason.text().strip(),
            acknowledge_reindex=self.reindex.isChecked(),
        )

    async def _run(
        self, done: str, func: Callable[P, object], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        self.switch_button.setEnabled(False)
        self.rollback_button.setEnabled(False)
        self.status.setText("Working…")
        try:
            await asyncio.to_thread(func, *args, **kwargs)
        except RegistryError as exc:
            self.status.setText(str(exc))
        else:
            self.status.setText(done)
            self.reason.clear()
            self.reindex.setChecked(False)
        finally:
            self.show_slot()


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return SlotsView(ctx.versions(), tasks=window.tasks if window is not None else None)
