"""pyqtgraph charts of an optimization study: best value by trial, one parameter against the
objective, and the Pareto front of a two-objective study. Hover shows a trial's values.

Draws the trials it is given; never runs anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from desktop_registry.domain.optimization import TrialResult
from desktop_registry.ui.widgets.charts import COLORS, Chart

BEST = "#e15759"


TrialLike = TrialResult


def state_name(trial: TrialLike) -> str:
    state = trial.state
    return str(getattr(state, "value", state)).lower()


def finished(trials: Sequence[TrialLike], objectives: int = 1) -> list[TrialLike]:
    """Trials that completed with a value for every objective, in trial order."""
    done = [
        t
        for t in trials
        if state_name(t) == "complete" and t.values is not None and len(t.values) >= objectives
    ]
    return sorted(done, key=lambda t: t.number)


def best_so_far(values: Sequence[float], maximize: bool) -> list[float]:
    out: list[float] = []
    for value in values:
        if not out:
            out.append(value)
        else:
            out.append(max(out[-1], value) if maximize else min(out[-1], value))
    return out


def pareto_indices(points: Sequence[tuple[float, float]], maximize: tuple[bool, bool]) -> list[int]:
    """Indices of points no other point beats on both objectives, ordered by the first."""
    sign = [1.0 if m else -1.0 for m in maximize]
    scored = [(x * sign[0], y * sign[1]) for x, y in points]  # higher is better on both now
    front = [
        i
        for i, (x, y) in enumerate(scored)
        if not any(
            ox >= x and oy >= y and (ox > x or oy > y)
            for j, (ox, oy) in enumerate(scored)
            if j != i
        )
    ]
    return sorted(front, key=lambda i: points[i][0])


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


class StudyChart(Chart):
    """A Chart that re-reads the palette when the theme changes and finds the nearest point."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.title_text = title
        self.points: list[tuple[float, float, str]] = []  # x, y, hover text
        for axis in ("left", "bottom"):  # scores of 0..1 must not read "x0.001" and 0..700
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.ready = True

    def changeEvent(self, event: QEvent) -> None:
        # Qt sends palette changes while the base class is still being built: skip those.
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "ready", False):
            self.restyle()
        super().changeEvent(event)

    def restyle(self) -> None:
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        self.text_color = palette.color(QPalette.ColorRole.Text)
        self.setTitle(self.title_text, color=self.text_color.name(), size="11pt")
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(self.text_color)
            self.getAxis(axis).setPen(self.text_color)
            label = self.getAxis(axis).labelText
            if label:
                self.setLabel(axis, label, color=self.text_color.name())
        self.empty_label.setColor(self.text_color)
        self.redraw()

    def redraw(self) -> None:
        """Draw the last data again (after a theme change)."""

    def set_title(self, title: str) -> None:
        self.title_text = title
        self.setTitle(title, color=self.text_color.name(), size="11pt")

    def describe(self, x: float, y: float) -> str:
        if not self.points:
            return ""
        xr, yr = self.plotItem.vb.viewRange()
        sx, sy = (xr[1] - xr[0]) or 1.0, (yr[1] - yr[0]) or 1.0
        px, py, text = min(
            self.points, key=lambda p: ((p[0] - x) / sx) ** 2 + ((p[1] - y) / sy) ** 2
        )
        if ((px - x) / sx) ** 2 + ((py - y) / sy) ** 2 > 0.004:
            return ""
        return text

    def _frame(
        self, xs: Sequence[float], ys: Sequence[float], *, x_from: float | None = None
    ) -> None:
        lo_x = min(xs) if x_from is None else x_from
        span_x = (max(xs) - lo_x) or abs(max(xs)) or 1.0
        span_y = (max(ys) - min(ys)) or abs(max(ys)) * 0.2 or 1.0
        self.setXRange(lo_x - span_x * 0.05, max(xs) + span_x * 0.05, padding=0)
        self.setYRange(min(ys) - span_y * 0.12, max(ys) + span_y * 0.12, padding=0)


class BestValueChart(StudyChart):
    """Each finished trial's value as a dot; the best so far as a stepped line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Best value by trial", parent)
        self.setLabel("bottom", "trial", color=self.text_color.name())
        self.best: list[float] = []
        self._last: tuple[list[TrialLike], str, bool] = ([], "", True)

    def show_trials(self, trials: Sequence[TrialLike], objective: str, maximize: bool) -> None:
        self._last = (list(trials), objective, maximize)
        self.reset()
        self.set_title(f"Best {objective} by trial" if objective else "Best value by trial")
        self.setLabel("left", axis_title(objective), color=self.text_color.name())
        done = finished(trials)
        if not done:
            self.best, self.points = [], []
            self.reset("No finished trial yet: best values appear as trials finish.")
            return
        xs = [float(t.number) for t in done]
        ys = [float((t.values or [0.0])[0]) for t in done]
        self.best = best_so_far(ys, maximize)
        self.points = [
            (x, y, f"trial {int(x)}: {objective} {_fmt(y)}\n{_params(t.params)}")
            for x, y, t in zip(xs, ys, done, strict=True)
        ]
        self.plot(xs, self.best, pen=pg.mkPen(BEST, width=2), stepMode=None, name="best so far")
        self.addItem(
            pg.ScatterPlotItem(
                xs, ys, size=9, brush=pg.mkBrush(COLORS[0]), pen=pg.mkPen(self.text_color)
            )
        )
        self._frame(xs, ys + self.best, x_from=0.0)

    def redraw(self) -> None:
        trials, objective, maximize = self._last
        if objective:
            self.show_trials(trials, objective, maximize)


class ParameterChart(StudyChart):
    """One parameter (x) against the objective (y); the best trial is drawn as a star."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameter against objective", parent)
        self.parameter = ""
        self._last: tuple[list[TrialLike], str, str, bool] = ([], "", "", True)

    def show_trials(
        self, trials: Sequence[TrialLike], parameter: str, objective: str, maximize: bool
    ) -> None:
        self._last = (list(trials), parameter, objective, maximize)
        self.parameter = parameter
        self.reset()
        self.set_title(f"{objective} against {parameter}" if parameter else "Parameter")
        self.setLabel("bottom", parameter or "parameter", color=self.text_color.name())
        self.setLabel("left", axis_title(objective), color=self.text_color.name())
        done = [t for t in finished(trials) if parameter in t.params]
        choices: list[str] = []
        xs: list[float] = []
        for t in done:
            value = t.params[parameter]
            number = _numeric(value)
            if number is None:  # a categorical: one column per choice
                label = str(value)
                if label not in choices:
                    choices.append(label)
                number = float(choices.index(label))
            xs.append(number)
        if not done:
            self.points = []
            self.reset("No finished trial with this parameter yet.")
            return
        ys = [float((t.values or [0.0])[0]) for t in done]
        best = (max if maximize else min)(range(len(ys)), key=lambda i: ys[i])
        self.points = [
            (
                x,
                y,
                f"trial {t.number}: {parameter}={_fmt(x) if not choices else t.params[parameter]}"
                f"\n{objective} {_fmt(y)}",
            )
            for x, y, t in zip(xs, ys, done, strict=True)
        ]
        spots = [
            {
                "pos": (x, y),
                "size": 15 if i == best else 9,
                "symbol": "star" if i == best else "o",
                "brush": pg.mkBrush(BEST if i == best else COLORS[1]),
                "pen": pg.mkPen(self.text_color),
            }
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))
        ]
        self.addItem(pg.ScatterPlotItem(spots=spots))
        if choices:
            self.set_ticks(choices)
        else:
            self.getAxis("bottom").setTicks(None)
        self._frame(xs, ys)

    def redraw(self) -> None:
        trials, parameter, objective, maximize = self._last
        if objective:
            self.show_trials(trials, parameter, objective, maximize)


class ParetoChart(StudyChart):
    """Two objectives against each other; the trials no other trial beats on both are joined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pareto front", parent)
        self.front: list[int] = []  # trial numbers on the front
        self._last: tuple[list[TrialLike], tuple[str, str], tuple[bool, bool]] = (
            [],
            ("", ""),
            (True, True),
        )

    def show_trials(
        self,
        trials: Sequence[TrialLike],
        objectives: tuple[str, str],
        maximize: tuple[bool, bool],
    ) -> None:
        self._last = (list(trials), objectives, maximize)
        self.reset()
        self.set_title(f"Pareto front: {objectives[0]} and {objectives[1]}")
        self.setLabel("bottom", axis_title(objectives[0]), color=self.text_color.name())
        self.setLabel("left", axis_title(objectives[1]), color=self.text_color.name())
        done = finished(trials, objectives=2)
        if not done:
            self.front, self.points = [], []
            self.reset("No finished trial yet: the front appears as trials finish.")
            return
        pts = [(float((t.values or [])[0]), float((t.values or [])[1])) for t in done]
        front = pareto_indices(pts, maximize)
        self.front = [done[i].number for i in front]
        if len(front) > 1:
            self.plot(
                [pts[i][0] for i in front],
                [pts[i][1] for i in front],
                pen=pg.mkPen(BEST, width=2, style=Qt.PenStyle.DashLine),
            )
        spots = [
            {
                "pos": p,
                "size": 14 if i in front else 9,
                "symbol": "star" if i in front else "o",
                "brush": pg.mkBrush(BEST if i in front else COLORS[0]),
                "pen": pg.mkPen(self.text_color),
            }
            for i, p in enumerate(pts)
        ]
        self.addItem(pg.ScatterPlotItem(spots=spots))
        self.points = [
            (
                x,
                y,
                f"trial {t.number}{' (Pareto front)' if i in front else ''}\n"
                f"{objectives[0]} {_fmt(x)}, {objectives[1]} {_fmt(y)}",
            )
            for i, ((x, y), t) in enumerate(zip(pts, done, strict=True))
        ]
        self._frame([p[0] for p in pts], [p[1] for p in pts])

    def redraw(self) -> None:
        trials, objectives, maximize = self._last
        if objectives[0]:
            self.show_trials(trials, objectives, maximize)


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={_fmt(v) if isinstance(v, float) else v}" for k, v in sorted(params.items())
    )


__all__ = ["BestValueChart", "ParameterChart", "ParetoChart", "best_so_far", "pareto_indices"]


AXIS_UNITS = {
    "quality": "mean score",
    "latency": "ms, p50",
    "memory": "bytes",
    "throughput": "tokens/s",
}


def axis_title(objective: str | None) -> str:
    """'latency' → 'latency (ms, p50)': an axis says what its numbers are."""
    if not objective:
        return "value"
    unit = AXIS_UNITS.get(objective)
    return f"{objective} ({unit})" if unit else objective
