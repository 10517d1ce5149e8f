"""The inspector's Performance section: a model's newest metrics as a small table, grouped by
suite ("General QA", "Benchmark"), each value with its unit ("412 ms", "92 %", "38.1 tok/s").

Shows what the registry holds; never measures. `metric_parts` and `format_metric` are shared
with the Compare panel so a metric reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

BENCHMARK_GROUP = "Benchmark"
LABELS = {
    "latency_ms": "Latency (median)",
    "latency_p95_ms": "Latency (p95)",
    "ttft_ms": "Time to first token",
    "ttft_s": "Time to first token",
    "tokens_per_s": "Generation speed",
    "tokens_per_s_wall": "Speed incl. prompt",
    "embed_texts_per_s": "Embedding speed",
    "pass_rate": "Passed",
    "caption_pass_rate": "Captions passed",
    "error_rate": "Errors",
    "mean_score": "Mean score",
    "caption_score": "Caption score",
    "performance_score": "Performance score",
    "mrr": "MRR",
    "wall_s": "Wall time",
}


def metric_parts(name: str) -> tuple[str, str]:
    """(group, metric) of a stored metric name: "eval/General QA/latency_ms" → ("General QA",
    "latency_ms"); a bare benchmark metric is in the Benchmark group."""
    if name.startswith("eval/") and name.count("/") >= 2:
        suite, metric = name[len("eval/") :].rsplit("/", 1)
        return suite, metric
    return BENCHMARK_GROUP, name


def metric_unit(metric: str) -> str:
    """The unit a metric is shown in: "ms", "s", "%", "tok/s", "texts/s" or "" (a 0–1 score)."""
    metric = metric_parts(metric)[1]
    if metric.endswith("_ms"):
        return "ms"
    if metric.startswith("tokens_per_s"):
        return "tok/s"
    if metric.endswith("texts_per_s"):
        return "texts/s"
    if metric.endswith("_s"):
        return "s"
    if metric.endswith("_rate"):
        return "%"
    return ""


def metric_title(metric: str) -> str:
    """A metric's name in words, with its unit: "Latency (median), ms", "Passed, %"."""
    group, bare = metric_parts(metric)
    label = LABELS.get(bare) or (bare.replace("recall@", "Recall@") if "@" in bare else bare)
    unit = metric_unit(bare)
    title = f"{label}, {unit}" if unit else label
    return title if group == BENCHMARK_GROUP else f"{group}: {title}"


def scaled(metric: str, value: float) -> float:
    """The value in its shown unit (a rate 0.92 is 92 %)."""
    return value * 100 if metric_unit(metric) == "%" else value


def format_metric(metric: str, value: float) -> str:
    unit = metric_unit(metric)
    shown = scaled(metric, value)
    if unit in ("ms", "%"):
        text = f"{shown:,.0f}" if abs(shown) >= 10 else f"{shown:.1f}"
    elif unit:
        text = f"{shown:,.1f}" if abs(shown) >= 10 else f"{shown:.2f}"
    else:
        text = f"{shown:.3f}"
    return f"{text} {unit}" if unit else text


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
                item = QTreeWidgetItem([metric_title(metric), format_metric(metric, value)])
                item.setTextAlignment(
                    1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
                item.setToolTip(0, metric if group == BENCHMARK_GROUP else f"eval/{group}/{metric}")
                top.addChild(item)
        self.expandAll()
        rows = sum(1 + self.topLevelItem(i).childCount() for i in range(self.topLevelItemCount()))
        height = self.sizeHintForRow(0) if rows else 0
        self.setFixedHeight(rows * max(height, 1) + 2 * self.frameWidth() + 2)
        self.setVisible(rows > 0)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, metric title, shown value) for every metric row, top to bottom."""
        out = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                out.append((top.text(0), child.text(0), child.text(1)))
        return out
