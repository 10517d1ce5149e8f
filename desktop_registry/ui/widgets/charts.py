"""pyqtgraph charts for comparing models: bars per metric, latency boxes, score-vs-latency scatter
with the Pareto front, and metric history across versions. Hover shows values; export to PNG.

Draws what it is given; never reads the registry or runs anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QWidget

from desktop_registry.services.evaluation.metric_comparison import HistoryPoint, pareto_front
from desktop_registry.services.evaluation.summary import percentile
from desktop_registry.ui.metric_format import format_metric, metric_label, metric_unit, scaled

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


class Chart(pg.PlotWidget):  # type: ignore[misc]
    """A plot in the theme's colours (redrawn when the theme changes), a hover label, PNG export.

    Axes show plain numbers with the unit in their label: pyqtgraph's automatic SI scaling would
    write a score of 0.2 as 200 with "(x0.001)" beside the axis.
    """

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.hover_text = ""
        self._last: tuple[object, ...] | None = None  # the last show_* call, replayed on restyle
        self._hover = pg.TextItem(anchor=(0, 1))
        self._hover.setZValue(100)
        self.empty_label = pg.TextItem("", anchor=(0.5, 0.5))
        self.showGrid(x=False, y=True, alpha=0.25)
        self.setMenuEnabled(False)
        for axis in ("left", "bottom"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self._style()
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    def _style(self) -> None:
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        self.text_color = palette.color(QPalette.ColorRole.Text)
        self.setTitle(self.title, color=self.text_color.name(), size="11pt")
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(self.text_color)
            self.getAxis(axis).setPen(self.text_color)
            label = self.getAxis(axis).labelText
            if label:
                self.setLabel(axis, label, color=self.text_color.name())
        self._hover.setColor(self.text_color)
        self._hover.fill = pg.mkBrush(palette.color(QPalette.ColorRole.ToolTipBase))
        self.empty_label.setColor(self.text_color)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        ready = "text_color" in self.__dict__  # (Qt sends events while pyqtgraph builds it)
        if ready and event.type() == QEvent.Type.PaletteChange:  # light ↔ dark: new colours
            self._style()
            self.replay()

    def replay(self) -> None:
        """Draw the last data again (after a theme change)."""

    def set_title(self, title: str) -> None:
        self.title = title
        self.setTitle(title, color=self.text_color.name(), size="11pt")

    # ----- hover ----------------------------------------------------------------------------
    def describe(self, x: float, y: float) -> str:
        """What the point (x, y) in data coordinates shows; '' for nothing."""
        return ""

    def hover_at(self, x: float, y: float) -> str:
        text = self.describe(x, y)
        self.hover_text = text
        if text:
            self._hover.setText(text)
            self._hover.setPos(x, y)
            if self._hover.scene() is None:
                self.addItem(self._hover, ignoreBounds=True)
        elif self._hover.scene() is not None:
            self.removeItem(self._hover)
        return text

    def _mouse_moved(self, pos: QPointF) -> None:
        if not self.plotItem.sceneBoundingRect().contains(pos):
            return
        point = self.plotItem.vb.mapSceneToView(pos)
        self.hover_at(point.x(), point.y())

    def reset(self, message: str = "") -> None:
        self.clear()
        self.hover_text = ""
        self.enableAutoRange()  # an earlier empty state fixed the ranges; data sets its own
        if message:
            self.empty_label.setText(message)
            self.addItem(self.empty_label)
            self.empty_label.setPos(0.5, 0.5)
            self.setXRange(0, 1)
            self.setYRange(0, 1)

    def set_ticks(self, labels: Sequence[str]) -> None:
        self.getAxis("bottom").setTicks([[(i, label) for i, label in enumerate(labels)]])

    def export_png(self, path: Path) -> Path:
        # Rendered from the scene (not a window grab): works offscreen and at any size.
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.plotItem)
        exporter.parameters()["width"] = max(800, self.width())
        exporter.export(str(path))
        return path


class BarChart(Chart):
    """One bar per model for a metric, the value printed on each bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Metric by model", parent)
        self.models: list[str] = []
        self.values: list[float | None] = []
        self.metric = ""

    def show_metric(
        self, metric: str, models: Sequence[str], values: Sequence[float | None]
    ) -> None:
        self.reset()
        self._last = (metric, list(models), list(values))
        self.metric, self.models, self.values = metric, list(models), list(values)
        self.set_title(f"{metric_label(metric)} by model")
        unit = metric_unit(metric)
        self.setLabel("left", unit, color=self.text_color.name())
        if not any(v is not None for v in values):
            self.reset(f"No {metric_label(metric)} figures yet: run a benchmark or a suite.")
            return
        heights = [scaled(metric, v or 0.0) for v in values]
        brushes = [pg.mkBrush(COLORS[i % len(COLORS)]) for i in range(len(values))]
        self.addItem(
            pg.BarGraphItem(x=list(range(len(values))), height=heights, width=0.6, brushes=brushes)
        )
        top = max(heights) or 1.0
        for i, value in enumerate(values):
            text = "–" if value is None else format_metric(metric, value)
            label = pg.TextItem(text, color=self.text_color, anchor=(0.5, 1))
            label.setPos(i, heights[i] + top * 0.02)
            self.addItem(label)
        self.set_ticks(models)
        self.setXRange(-0.6, len(values) - 0.4, padding=0)
        self.setYRange(0, top * 1.15, padding=0)

    def describe(self, x: float, y: float) -> str:
        i = round(x)
        if 0 <= i < len(self.models) and abs(x - i) <= 0.3 and self.values[i] is not None:
            value = format_metric(self.metric, self.values[i] or 0.0)
            return f"{self.models[i]}\n{metric_label(self.metric)} = {value}"
        return ""

    def replay(self) -> None:
        if self._last is not None:
            metric, models, values = self._last
            self.show_metric(metric, models, values)  # type: ignore[arg-type]


class DistributionChart(Chart):
    """Latency per model as a box: quartiles, median line, whiskers at 5th/95th percentiles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Latency distribution (ms)", parent)
        self.stats: list[tuple[str, dict[str, float]]] = []

    def show_samples(self, samples: dict[str, list[float]]) -> None:
        self.reset()
        self._last = (samples,)
        self.stats = []
        models = list(samples)
        self.setLabel("left", "ms", color=self.text_color.name())
        if not any(samples.values()):
            self.reset("No latency samples yet: run a benchmark or a suite.")
            return
        for i, (model, values) in enumerate(samples.items()):
            if not values:
                continue
            q = {
                k: percentile(values, p) or 0.0
                for k, p in (("p5", 5), ("q1", 25), ("p50", 50), ("q3", 75), ("p95", 95))
            }
            q["n"] = float(len(values))
            self.stats.append((model, q))
            color = COLORS[i % len(COLORS)]
            pen = pg.mkPen(self.text_color, width=1)
            self.addItem(
                pg.BarGraphItem(
                    x=[i],
                    y0=[q["q1"]],
                    height=[max(q["q3"] - q["q1"], 1e-9)],
                    width=0.5,
                    brush=pg.mkBrush(color),
                    pen=pen,
                )
            )
            self.plot([i - 0.25, i + 0.25], [q["p50"]] * 2, pen=pg.mkPen(self.text_color, width=2))
            for a, b in ((q["p5"], q["q1"]), (q["q3"], q["p95"])):
                self.plot([i, i], [a, b], pen=pen)
            for cap in (q["p5"], q["p95"]):
                self.plot([i - 0.12, i + 0.12], [cap, cap], pen=pen)
        self.set_ticks(models)
        self.setXRange(-0.6, len(models) - 0.4, padding=0)

    def replay(self) -> None:
        if self._last is not None:
            self.show_samples(self._last[0])  # type: ignore[arg-type]

    def describe(self, x: float, y: float) -> str:
        i = round(x)
        for index, (model, q) in enumerate(self.stats):
            if index == i and abs(x - i) <= 0.3:
                return (
                    f"{model}: p50 {_fmt(q['p50'])} ms, p95 {_fmt(q['p95'])} ms (n={int(q['n'])})"
                )
        return ""


class ScatterChart(Chart):
    """Score (up is better) against latency (left is faster); the Pareto front is joined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Score vs latency", parent)
        self.points: list[tuple[str, float, float]] = []
        self.front: list[str] = []
        self.score_name = "score"
        self.setLabel("bottom", "Latency (median), ms", color=self.text_color.name())

    def show_points(
        self, points: Sequence[tuple[str, float, float]], score_name: str = "score"
    ) -> None:
        self.reset()
        self._last = (list(points), score_name)
        self.points, self.score_name = list(points), score_name
        unit = metric_unit(score_name)
        left = metric_label(score_name) + (f", {unit}" if unit else "")
        self.setLabel("left", left, color=self.text_color.name())
        if not points:
            self.reset("Needs a score and a latency per model: run a suite.")
            self.front = []
            return
        points = [(n, x, scaled(score_name, y)) for n, x, y in points]  # drawn in its unit
        front = pareto_front([(x, y) for _, x, y in points])
        self.front = [points[i][0] for i in front]
        if len(front) > 1:
            self.plot(
                [points[i][1] for i in front],
                [points[i][2] for i in front],
                pen=pg.mkPen("#e15759", width=2, style=Qt.PenStyle.DashLine),
            )
        spots = [
            {
                "pos": (x, y),
                "size": 16 if i in front else 11,
                "brush": pg.mkBrush(COLORS[i % len(COLORS)]),
                "pen": pg.mkPen("#e15759", width=2) if i in front else pg.mkPen(self.text_color),
                "symbol": "star" if i in front else "o",
            }
            for i, (_, x, y) in enumerate(points)
        ]
        self.addItem(pg.ScatterPlotItem(spots=spots))
        for name, x, y in points:
            label = pg.TextItem(name, color=self.text_color, anchor=(0, 1))
            label.setPos(x, y)
            self.addItem(label)
        xs, ys = [p[1] for p in points], [p[2] for p in points]
        pad_x = (max(xs) - min(xs)) * 0.25 or max(xs) * 0.25 or 1.0
        pad_y = (max(ys) - min(ys)) * 0.25 or 0.1
        self.setXRange(min(xs) - pad_x * 0.3, max(xs) + pad_x, padding=0)
        self.setYRange(min(ys) - pad_y, max(ys) + pad_y, padding=0)

    def describe(self, x: float, y: float) -> str:
        if not self.points:
            return ""
        view = self.plotItem.vb.viewRange()
        sx = (view[0][1] - view[0][0]) or 1.0
        sy = (view[1][1] - view[1][0]) or 1.0
        drawn = [(n, px, scaled(self.score_name, py)) for n, px, py in self.points]
        name, px, py = min(drawn, key=lambda p: ((p[1] - x) / sx) ** 2 + ((p[2] - y) / sy) ** 2)
        if ((px - x) / sx) ** 2 + ((py - y) / sy) ** 2 > 0.004:
            return ""
        tag = " (Pareto front)" if name in self.front else ""
        raw = next(p[2] for p in self.points if p[0] == name)
        score = format_metric(self.score_name, raw)
        return f"{name}{tag}\nlatency {_fmt(px)} ms, {metric_label(self.score_name)} {score}"

    def replay(self) -> None:
        if self._last is not None:
            points, score_name = self._last
            self.show_points(points, score_name)  # type: ignore[arg-type]


class HistoryChart(Chart):
    """A metric across versions: one line per series, versions on the x axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("History across versions", parent)
        self.series: dict[str, list[HistoryPoint]] = {}
        self.labels: list[str] = []
        self.metric = ""
        self.addLegend(labelTextColor=self.text_color)

    def show_history(self, metric: str, series: dict[str, list[HistoryPoint]]) -> None:
        self.reset()
        self._last = (metric, series)
        self.metric = metric
        self.series = {k: v for k, v in series.items() if v}
        self.set_title(f"{metric_label(metric)} across versions")
        unit = metric_unit(metric)
        self.setLabel("left", unit, color=self.text_color.name())
        labels: list[str] = []
        for points in self.series.values():
            for p in points:
                if p.label not in labels:
                    labels.append(p.label)
        self.labels = labels
        if not self.series:
            self.reset(f"No {metric_label(metric)} history yet: benchmark a slot's versions.")
            return
        many = len(self.series) > 1
        width = 0.5 / len(self.series)
        for i, (name, points) in enumerate(self.series.items()):
            color = COLORS[i % len(COLORS)]
            # Series that share a version ("latest") sit side by side, not on one spot.
            shift = (i - (len(self.series) - 1) / 2) * width if many else 0.0
            xs = [labels.index(p.label) + shift for p in points]
            ys = [scaled(metric, p.value) for p in points]
            self.plot(
                xs, ys, pen=pg.mkPen(color, width=2), symbol="o", symbolBrush=color,
                symbolSize=9, name=name,
            )  # fmt: skip
            if many:
                continue  # values for several series are in the hover and the legend
            for x, y, p in zip(xs, ys, points, strict=True):
                text = f"{format_metric(metric, p.value)}\n{p.model}"
                label = pg.TextItem(text, color=self.text_color, anchor=(0.5, 1.1))
                label.setFont(QFont(label.textItem.font().family(), 8))
                label.setPos(x, y)
                self.addItem(label)
        self.set_ticks(labels)
        values = [scaled(metric, p.value) for pts in self.series.values() for p in pts]
        span = (max(values) - min(values)) or abs(max(values)) or 1.0
        self.setXRange(-0.5, len(labels) - 0.5, padding=0)
        self.setYRange(min(min(values) - span * 0.2, 0), max(values) + span * 0.35, padding=0)

    def replay(self) -> None:
        if self._last is not None:
            metric, series = self._last
            self.show_history(metric, series)  # type: ignore[arg-type]

    def describe(self, x: float, y: float) -> str:
        i = round(x)
        if not 0 <= i < len(self.labels) or abs(x - i) > 0.3:
            return ""
        lines = [
            f"{name} {p.label}: {format_metric(self.metric, p.value)} ({p.model})"
            for name, points in self.series.items()
            for p in points
            if p.label == self.labels[i]
        ]
        return "\n".join(lines)


def colour(index: int) -> QColor:
    return QColor(COLORS[index % len(COLORS)])


__all__: list[str] = ["BarChart", "DistributionChart", "HistoryChart", "ScatterChart", "colour"]
