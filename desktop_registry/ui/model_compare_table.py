"""The compare table: 2–6 library models side by side, with a verdict per task.

Shows a Comparison from services/library/comparison.py; never computes an estimate itself.
"""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from desktop_registry.services.library.comparison import Comparison
from desktop_registry.services.library.compatibility import Fit

BADGE_COLORS = {"green": "#2e7d32", "amber": "#b26a00", "red": "#c62828"}


class ModelCompareTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        rows = comparison.rows()
        verdict_rows = [
            (f"Best for {v.task.replace('_', ' ')}", v.winner or "—") for v in comparison.verdicts
        ]
        self.clear()
        self.setColumnCount(len(comparison.models))
        self.setRowCount(len(rows) + len(verdict_rows))
        self.setHorizontalHeaderLabels([m.name for m in comparison.models])
        labels = [label for label, _ in rows] + [label for label, _ in verdict_rows]
        self.setVerticalHeaderLabels(labels)
        for r, (label, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if label == "Fit":
                    fit = comparison.models[c].fit
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(QColor(BADGE_COLORS[Fit(fit).badge])))
                self.setItem(r, c, item)
        for offset, (_label, winner) in enumerate(verdict_rows):
            r = len(rows) + offset
            if winner == "—":
                item = QTableWidgetItem(f"— {comparison.verdicts[offset].why}")
                item.setForeground(QBrush(QColor("#777777")))
                self.setItem(r, 0, item)
                continue
            for c, model in enumerate(comparison.models):
                won = model.name == winner
                item = QTableWidgetItem("✔ best" if won else "")
                if won:
                    item.setForeground(QBrush(QColor(BADGE_COLORS["green"])))
                    item.setToolTip(comparison.verdicts[offset].why)
                self.setItem(r, c, item)

    def cell_text(self, row_label: str, model: str) -> str:
        """What the table shows for one row and model (tests and the inspector read it)."""
        labels = [self.verticalHeaderItem(r).text() for r in range(self.rowCount())]
        names = [
            h.text() if (h := self.horizontalHeaderItem(c)) is not None else ""
            for c in range(self.columnCount())
        ]
        item = self.item(labels.index(row_label), names.index(model))
        return item.text() if item is not None else ""
