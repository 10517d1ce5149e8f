"""The inspector's Performance section: a model's newest metrics as a small table, grouped by
suite ("General QA", "Benchmark"), each value with its unit ("412 ms", "92 %", "38.1 tok/s").

Shows what the registry holds; never measures. Wording and units are metric_format.py's.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from desktop_registry.ui.metric_format import (
    BENCHMARK_GROUP,
    format_metric,
    metric_parts,
    metric_title,
)


def grouped(performance: Mapping[str, float]) -> dict[str, list[tuple[str, float]]]:
    """group → [(metric, value)], suites first by name, the benchmark last."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for name, value in sorted(performance.items()):
        group, metric = metric_parts(name)
        groups.setdefault(group, []).append((metric, value))
    order = sorted(groups, key=lambda g: (g == BENCHMARK_GROUP, g.lower()))
    return {g: groups[g] for g in order}


class PerformanceTable(QTreeWidget):
    """Suite rows with their metrics below, two columns (metric, value); as tall as its rows."""

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(2)
        self.setHeaderLabels(["Metric", "Value"])
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(10)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setVisible(False)

    def show_performance(self, performance: Mapping[str, float]) -> None:
        self.clear()
        for group, metrics in grouped(performance).items():
            top = QTreeWidgetItem([group, ""])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setFirstColumnSpanned(False)
            self.addTopLevelItem(top)
            for metric, value in metrics:
                item = QTreeWidgetItem(
                    [metric_title(metric, with_group=False), format_metric(metric, value)]
                )
                item.setTextAlignment(
                    1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
                item.setToolTip(0, metric if group == BENCHMARK_GROUP else f"eval/{group}/{metric}")
                top.addChild(item)
        self.expandAll()
        rows = sum(1 + top.childCount() for top in self._groups())
        height = self.sizeHintForRow(0) if rows else 0
        self.setFixedHeight(rows * max(height, 1) + 2 * self.frameWidth() + 2)
        self.setVisible(rows > 0)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, metric title, shown value) for every metric row, top to bottom."""
        out = []
        for top in self._groups():
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None:
                    out.append((top.text(0), child.text(0), child.text(1)))
        return out

    def _groups(self) -> list[QTreeWidgetItem]:
        items = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [item for item in items if item is not None]
