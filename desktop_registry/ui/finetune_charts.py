"""pyqtgraph charts of the Fine-tune panel: the live loss chart (train and validation loss by
step) and the token-length histogram of a validated data file, both in the theme's colours.

Draws the points it is given; never reads a run folder or a data file.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from desktop_registry.domain.finetune import HistogramBin
from desktop_registry.ui.widgets.charts import COLORS, Chart

TRAIN_COLOR = COLORS[0]
VALIDATION_COLOR = COLORS[1]


class LossChart(Chart):
    """Training loss as a line, validation loss as dots joined by a dashed line, by step.

    A step that arrives at or before the last one drawn (a resumed run trains again from its
    checkpoint) replaces the points from that step on, so each step shows once.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Loss by step", parent)
        self.train: list[tuple[int, float]] = []
        self.validation: list[tuple[int, float]] = []
        self.total_steps = 0
        self.setLabel("bottom", "step", color=self.text_color.name())
        self.setLabel("left", "loss", color=self.text_color.name())
        self._build()

    def _build(self) -> None:
        self.reset()
        self.legend = self.addLegend(offset=(-10, 10), labelTextColor=self.text_color)
        self.train_curve = self.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2), name="train loss")
        self.val_curve = self.plot(
            [],
            [],
            pen=pg.mkPen(VALIDATION_COLOR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=7,
            symbolBrush=VALIDATION_COLOR,
            symbolPen=None,
            name="validation loss",
        )
        self._redraw()

    def replay(self) -> None:
        """The theme changed: the legend's text in its new colour (the curves keep theirs)."""
        self.legend.setLabelTextColor(self.text_color)
        for _sample, label in self.legend.items:
            label.setText(label.text, color=self.text_color)
        self._redraw()

    def clear_points(self, total_steps: int = 0) -> None:
        self.train, self.validation, self.total_steps = [], [], total_steps
        self._redraw()

    def set_history(
        self,
        train: Sequence[tuple[int, float]],
        validation: Sequence[tuple[int, float]],
        total_steps: int = 0,
    ) -> None:
        self.train, self.validation = list(train), list(validation)
        self.total_steps = total_steps
        self._redraw()

    def add_train(self, step: int, loss: float, total_steps: int = 0) -> None:
        if total_steps:
            self.total_steps = total_steps
        if self.train and step <= self.train[-1][0]:
            self.train = [p for p in self.train if p[0] < step]
            self.validation = [p for p in self.validation if p[0] < step]
        self.train.append((step, loss))
        self._redraw()

    def add_validation(self, step: int, loss: float) -> None:
        self.validation = [p for p in self.validation if p[0] != step]
        self.validation.append((step, loss))
        self.validation.sort()
        self._redraw()

    def _redraw(self) -> None:
        self.train_curve.setData([p[0] for p in self.train], [p[1] for p in self.train])
        self.val_curve.setData([p[0] for p in self.validation], [p[1] for p in self.validation])
        if self.empty_label.scene() is not None:
            self.removeItem(self.empty_label)
        if not self.train:
            self.empty_label.setText("The loss appears here step by step once training starts.")
            self.addItem(self.empty_label, ignoreBounds=True)
            self.empty_label.setPos(0.5, 0.5)
            self.setXRange(0, 1, padding=0)
            self.setYRange(0, 1, padding=0)
            return
        ys = [p[1] for p in self.train] + [p[1] for p in self.validation]
        last = max(self.total_steps, self.train[-1][0], 2)
        low, high = min(ys), max(ys)
        span = (high - low) or abs(high) * 0.1 or 1.0
        self.setXRange(0, last, padding=0.02)
        self.setYRange(low - span * 0.1, high + span * 0.1, padding=0)

    def describe(self, x: float, y: float) -> str:
        points = [("train", s, v) for s, v in self.train]
        points += [("validation", s, v) for s, v in self.validation]
        if not points:
            return ""
        xr, yr = self.plotItem.vb.viewRange()
        sx, sy = (xr[1] - xr[0]) or 1.0, (yr[1] - yr[0]) or 1.0
        kind, step, value = min(
            points, key=lambda p: ((p[1] - x) / sx) ** 2 + ((p[2] - y) / sy) ** 2
        )
        if ((step - x) / sx) ** 2 + ((value - y) / sy) ** 2 > 0.004:
            return ""
        return f"step {step}\n{kind} loss {value:.4f}"


def bin_label(up_to: int | None, previous: int | None) -> str:
    if up_to is None:
        return f">{previous}" if previous is not None else "all"
    return f"≤{up_to}"


class TokenHistogram(Chart):
    """How many rows have how many tokens: one bar per histogram bin from the first that holds
    rows to the last (and an empty neighbour each side), the context limit in the title."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Tokens per row", parent)
        self.labels: list[str] = []
        self.counts: list[int] = []
        self.setLabel("left", "rows", color=self.text_color.name())
        self.reset("Validate a file to see its token lengths.")

    def show_bins(self, bins: Sequence[HistogramBin], context: int = 0) -> None:
        self.reset()
        self._last = (list(bins), context)
        used = [i for i, b in enumerate(bins) if b.count]
        if not used:
            self.labels, self.counts = [], []
            self.reset("No rows with text to count.")
            return
        shown = list(range(max(0, used[0] - 1), min(len(bins), used[-1] + 2)))  # and a neighbour
        edges = [b.up_to for b in bins]
        self.labels = [bin_label(edges[i], edges[i - 1] if i else None) for i in shown]
        self.counts = [bins[i].count for i in shown]
        self.set_title(f"Tokens per row (context {context})" if context else "Tokens per row")
        self.addItem(
            pg.BarGraphItem(
                x=list(range(len(shown))), height=self.counts, width=0.7, brush=TRAIN_COLOR
            )
        )
        self.set_ticks(self.labels)
        top = max(self.counts)
        self.setXRange(-0.6, len(shown) - 0.4, padding=0)
        self.setYRange(0, top * 1.15 + 0.5, padding=0)

    def replay(self) -> None:
        if self._last is not None:
            bins, context = self._last
            self.show_bins(bins, context)  # type: ignore[arg-type]
        else:
            self.reset("Validate a file to see its token lengths.")

    def describe(self, x: float, y: float) -> str:
        i = round(x)
        if 0 <= i < len(self.counts) and abs(x - i) <= 0.35:
            return f"{self.labels[i]} tokens: {self.counts[i]} rows"
        return ""
