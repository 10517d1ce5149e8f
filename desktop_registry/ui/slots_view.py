"""The Slots panel: each slot's active version, its versions, a history timeline, Switch/Rollback,
and the forms that create a slot and add a registry model to it as a new version.

Shows state and sends intents to VersionService; switches and additions run off the UI thread
(MLflow I/O); a refused intent is shown in the panel's message line, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
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

from desktop_registry.domain import Capability, ModelRecord
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
        models: Callable[[], Sequence[ModelRecord]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.models = models or (lambda: [])  # the registry's models, offered as new versions
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
        self.no_history = QLabel("No switches yet: “Switch to selected” records the first one.")
        self.no_history.setObjectName("muted")
        self.no_history.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why? (kept in the history)")
        self.reindex = QCheckBox("Re-index stored embeddings")
        self.reindex.setToolTip(
            "Confirms that vectors stored with the old model will be re-indexed"
        )
        self.switch_button = QPushButton("Switch to selected")
        self.rollback_button = QPushButton("Rollback")
        self.switch_button.clicked.connect(lambda: self._start(self.switch_selected()))
        self.rollback_button.clicked.connect(lambda: self._start(self.rollback()))
        self.status = QLabel()
        self.tasks = (tasks or TaskRunner(self.status.setText)).reporting_to(self.status.setText)
        self.status.setWordWrap(True)
        self._build_forms()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.slot_list, 1)
        left_layout.addWidget(self.new_slot_box)
        right = QWidget()
        layout = QVBoxLayout(right)
        layout.addWidget(self.active_label)
        layout.addWidget(QLabel("Versions"))
        layout.addWidget(self.table, 2)
        layout.addWidget(self.reason)  # its own row: the reason and the checkbox stay readable
        actions = QHBoxLayout()
        actions.addWidget(self.reindex, 1)
        actions.addWidget(self.switch_button)
        actions.addWidget(self.rollback_button)
        layout.addLayout(actions)
        layout.addWidget(self.add_box)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("History (newest first)"))
        layout.addWidget(self.no_history)
        layout.addWidget(self.history, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
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
                "No slots yet. Create one: give it a name and the capability its versions share."
            )
            self.versions = []
            self.table.setRowCount(0)
            self.history.clear()
        self.show_slot()

    @property
    def slot_name(self) -> str:
        item = self.slot_list.currentItem()
        return item.text() if item else ""

    def show_slot(self) -> None:
        name = self.slot_name
        self.switch_button.setEnabled(bool(name))
        self.rollback_button.setEnabled(bool(name))
        self.add_box.setEnabled(bool(name))
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
        self.no_history.setVisible(not history)  # an empty box alone reads as broken
        for change in reversed(history):
            verb = "Rolled back" if change.action == "slot_rollback" else "Switched"
            why = f" — {change.reason}" if change.reason else ""
            self.history.addItem(
                f"{change.at:%Y-%m-%d %H:%M}  {verb} {change.from_version} → "
                f"{change.to_version} by {change.actor}{why}"
            )
        self._offer_models(slot.capability)
        self.reindex.setVisible(slot.capability == Capability.EMBEDDING.value)  # only they need it

    # ----- the create and add forms ---------------------------------------------------------
    def _build_forms(self) -> None:
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("e.g. text embedding")
        self.new_capability = QComboBox()
        self.new_capability.addItems([c.value for c in Capability])
        self.new_capability.setToolTip("What every version of the slot must be able to do")
        self.create_button = QPushButton("Create slot")
        self.create_button.clicked.connect(self.create_slot)
        self.new_name.returnPressed.connect(self.create_slot)
        self.new_slot_box = QGroupBox("New slot")
        form = QFormLayout(self.new_slot_box)
        form.addRow("Name", self.new_name)
        form.addRow("Capability", self.new_capability)
        form.addRow(self.create_button)

        self.add_model = QComboBox()
        self.add_model.setMinimumContentsLength(18)
        self.add_version_edit = QLineEdit()
        self.add_version_edit.setPlaceholderText("1.0.0")
        self.add_version_edit.setMinimumWidth(90)
        self.add_version_edit.setMaximumWidth(140)
        self.add_button = QPushButton("Add version")
        self.add_button.clicked.connect(lambda: self._start(self.add_selected()))
        self.add_box = QGroupBox("Add a model as a new version")
        grid = QGridLayout(self.add_box)  # two rows: a long model name is never cut
        grid.addWidget(QLabel("Model"), 0, 0)
        grid.addWidget(self.add_model, 0, 1, 1, 3)
        grid.addWidget(QLabel("Version"), 1, 0)
        grid.addWidget(self.add_version_edit, 1, 1)
        grid.addWidget(self.add_button, 1, 3)
        grid.setColumnStretch(2, 1)

    def _offer_models(self, capability: str) -> None:
        """Only models with the slot's capability can be added; say so when there is none."""
        try:
            names = sorted(r.name for r in self.models() if capability in r.capabilities)
        except RegistryError as exc:
            names = []
            self.status.setText(str(exc))
        current = self.add_model.currentText()
        self.add_model.clear()
        self.add_model.addItems(names)
        if current in names:
            self.add_model.setCurrentText(current)
        self.add_model.setEnabled(bool(names))
        self.add_button.setEnabled(bool(names))
        self.add_model.setPlaceholderText(f"no model has the {capability!r} capability")
        self.add_version_edit.setText(next_version([v.version for v in self.versions]))

    def create_slot(self) -> None:
        name = self.new_name.text().strip()
        try:
            slot = self.service.create_slot(name, self.new_capability.currentText())
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self.new_name.clear()
        self.refresh()
        match = self.slot_list.findItems(slot.name, Qt.MatchFlag.MatchExactly)
        if match:
            self.slot_list.setCurrentItem(match[0])
        self.status.setText(
            f"Created slot {slot.name!r} for {slot.capability} models. Add its first version."
        )

    async def add_selected(self) -> None:
        model = self.add_model.currentText()
        version = self.add_version_edit.text().strip()
        if not model:
            self.status.setText(f"model: no model to add to {self.slot_name!r}.")
            return
        self.add_button.setEnabled(False)
        self.status.setText("Working…")
        try:
            added = await asyncio.to_thread(
                self.service.add_version, self.slot_name, model, version
            )
        except RegistryError as exc:
            self.status.setText(str(exc))
            self.add_button.setEnabled(True)
            return
        self.show_slot()
        state = "active" if added.active else "not active; switch to it when ready"
        self.status.setText(
            f"Added {added.model_name} as {self.slot_name} {added.version} ({state})."
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


def next_version(versions: list[str]) -> str:
    """A suggestion for the next version: the highest release's minor bumped, else 1.0.0."""
    releases = []
    for text in versions:
        core = text.split("-", 1)[0].split("+", 1)[0].split(".")
        if len(core) == 3 and all(part.isdigit() for part in core):
            releases.append(tuple(int(part) for part in core))
    if not releases:
        return "1.0.0"
    major, minor, _ = max(releases)
    return f"{major}.{minor + 1}.0"


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return SlotsView(
        ctx.versions(),
        tasks=window.tasks if window is not None else None,
        models=lambda: ctx.registry().list(),
    )
