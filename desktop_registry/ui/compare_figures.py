"""The Compare panel's table: one row per model, one column per metric worth listing, each
value with its unit; exports the stored figures (names and unrounded values) as CSV.

Shows figures it is given; never reads the registry.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from desktop_registry.ui.compare_choices import listed_metrics
from desktop_registry.ui.metric_format import format_metric, metric_title

Latest = dict[str, dict[str, float]]


class FiguresTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, 0)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.names: list[str] = []
        self.metrics: list[str] = []
        self.latest: Latest = {}

    def show_figures(self, names: list[str], latest: Latest) -> None:
        self.names, self.latest = names, latest
        self.metrics = metrics = listed_metrics(names, latest)
        self.setRowCount(len(names))
        self.setColumnCount(len(metrics) + 1)
        self.setHorizontalHeaderLabels(["Model", *(metric_title(m) for m in metrics)])
        for col, metric in enumerate(metrics, 1):
            header = self.horizontalHeaderItem(col)
            if header is not None:
                header.setToolTip(metric)  # the stored name, as the CLI and the CSV show it
        for row, name in enumerate(names):
            self.setItem(row, 0, QTableWidgetItem(name))
            for col, metric in enumerate(metrics, 1):
                value = latest.get(name, {}).get(metric)
                text = "" if value is None else format_metric(metric, value)
                self.setItem(row, col, QTableWidgetItem(text))

    def export_csv(self, path: Path) -> Path:
        """The figures as stored: metric names a script can use, unrounded values."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Model", *self.metrics])
            for name in self.names:
                values = [self.latest.get(name, {}).get(m) for m in self.metrics]
                writer.writerow([name, *("" if v is None else repr(v) for v in values)])
        return path
