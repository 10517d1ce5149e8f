"""The Compare panel's model list: every registry model with a check box; a model that cannot
run the chosen suite is greyed with the reason beside it, and at most MAX_MODELS are checked.

Shows and keeps the choice; never runs anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from desktop_registry.domain import ModelRecord
from desktop_registry.services.evaluation.suite import EvalSuite
from desktop_registry.ui.compare_choices import why_not

MIN_MODELS, MAX_MODELS = 2, 8
NAME_ROLE = Qt.ItemDataRole.UserRole
REASON_ROLE = Qt.ItemDataRole.UserRole + 1


class ModelPicker(QListWidget):
    """`changed` after a user checks or unchecks; `refused(message)` when a check is undone."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.itemChanged.connect(self._checked)

    def set_records(self, records: Sequence[ModelRecord], suite: EvalSuite | None) -> None:
        """Fill the list (runnable models first); keeps what was checked and still can run."""
        checked = set(self.checked())
        rows = [(r, why_not(r, suite)) for r in records]
        rows.sort(key=lambda pair: (bool(pair[1]), pair[0].name.lower()))
        self.blockSignals(True)
        self.clear()
        for record, reason in rows:
            item = QListWidgetItem(record.name if not reason else f"{record.name}  — {reason}")
            item.setData(NAME_ROLE, record.name)
            item.setData(REASON_ROLE, reason)
            if reason:
                item.setFlags(Qt.ItemFlag.ItemIsSelectable)  # greyed: neither enabled nor checkable
                item.setToolTip(f"{record.name} cannot take part: {reason}.")
                item.setCheckState(Qt.CheckState.Unchecked)
            else:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                on = record.name in checked
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.addItem(item)
        self.blockSignals(False)

    def names(self) -> list[str]:
        return [self.item(i).data(NAME_ROLE) for i in range(self.count())]

    def reason(self, name: str) -> str:
        for i in range(self.count()):
            if self.item(i).data(NAME_ROLE) == name:
                return str(self.item(i).data(REASON_ROLE) or "")
        return ""

    def checked(self) -> list[str]:
        return [
            self.item(i).data(NAME_ROLE)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def check(self, names: Sequence[str]) -> None:
        """Check exactly `names` (those that can take part, up to MAX_MODELS)."""
        wanted = list(names)
        self.blockSignals(True)
        count = 0
        for i in range(self.count()):
            item = self.item(i)
            ok = item.data(NAME_ROLE) in wanted and not item.data(REASON_ROLE)
            ok = ok and count < MAX_MODELS
            count += ok
            item.setCheckState(Qt.CheckState.Checked if ok else Qt.CheckState.Unchecked)
        self.blockSignals(False)

    def _checked(self, item: QListWidgetItem) -> None:
        if item.data(REASON_ROLE):
            self.blockSignals(True)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.blockSignals(False)
            self.refused.emit(f"{item.data(NAME_ROLE)}: {item.data(REASON_ROLE)}.")
            return
        if item.checkState() == Qt.CheckState.Checked and len(self.checked()) > MAX_MODELS:
            self.blockSignals(True)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.blockSignals(False)
            self.refused.emit(f"At most {MAX_MODELS} models side by side; uncheck one first.")
            return
        self.changed.emit()
