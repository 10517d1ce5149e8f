"""The trials of a study as a table (number, state, one column per parameter and per objective,
duration; newest first) and the one-paragraph summary of its best trial.

Shows the trials it is given; never reads a study or runs anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from desktop_registry.domain.optimization import StudySummary, TrialResult, TrialState
from desktop_registry.ui.optimization_charts import pareto_indices

UNIT_SUFFIX = {"ms": "ms", "bytes": "bytes", "tok/s": "tok/s"}
NUMBER, STATE = 0, 1


def short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def best_trials(trials: Sequence[TrialResult], maximize: Sequence[bool]) -> list[TrialResult]:
    """The best finished trial (one objective) or the Pareto front (two), by trial number."""
    done = [
        t
        for t in trials
        if t.state is TrialState.COMPLETE and t.values and len(t.values) == len(maximize)
    ]
    if not done:
        return []
    if len(maximize) == 1:
        sign = 1.0 if maximize[0] else -1.0
        return [max(done, key=lambda t: (sign * (t.values or [0.0])[0], -t.number))]
    points = [((t.values or [])[0], (t.values or [])[1]) for t in done]
    front = pareto_indices(points, (maximize[0], maximize[1]))
    return sorted((done[i] for i in front), key=lambda t: t.number)


class TrialsTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, 0)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.columns: list[str] = []

    def show_trials(
        self,
        trials: Sequence[TrialResult],
        objectives: Sequence[str],
        best: Sequence[int] = (),
    ) -> None:
        """Newest first (the one that just finished is on top); best trials in bold."""
        params = sorted({k for t in trials for k in t.params})
        self.columns = ["#", "State", *params, *objectives, "Duration"]
        self.setColumnCount(len(self.columns))
        self.setHorizontalHeaderLabels(self.columns)
        self.setRowCount(len(trials))
        muted = QBrush(QColor("#8c959f"))
        for row, t in enumerate(sorted(trials, key=lambda t: -t.number)):
            values = list(t.values or [])
            cells = [
                str(t.number),
                t.state.value.lower(),
                *(short(t.params[p]) if p in t.params else "" for p in params),
                *(short(values[i]) if i < len(values) else "" for i in range(len(objectives))),
                "" if t.duration_s is None else f"{t.duration_s:.2f} s",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col != STATE:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if t.number in best:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                elif t.state is not TrialState.COMPLETE:
                    item.setForeground(muted)
                if t.user_attrs.get("error"):
                    item.setToolTip(str(t.user_attrs["error"]))
                self.setItem(row, col, item)

    def numbers(self) -> list[int]:
        items = (self.item(r, NUMBER) for r in range(self.rowCount()))
        return [int(item.text()) for item in items if item is not None]


def best_text(
    best: Sequence[TrialResult],
    objectives: Sequence[str],
    summary: StudySummary | None,
) -> str:
    """'Best (trial 7): quality 0.83 with temperature=0.3, top_p=0.9' plus importances."""
    if not best:
        return "No finished trial yet."
    units = list(summary.units) if summary is not None else []
    if len(best) == 1:
        t = best[0]
        shown = ", ".join(
            f"{name} {short(v)}"
            + (f" {UNIT_SUFFIX[units[i]]}" if i < len(units) and units[i] in UNIT_SUFFIX else "")
            for i, (name, v) in enumerate(zip(objectives, t.values or [], strict=False))
        )
        params = ", ".join(f"{k}={short(v)}" for k, v in sorted(t.params.items()))
        text = f"Best (trial {t.number}): {shown}\nwith {params}"
    else:
        text = f"Pareto front: {len(best)} trials ({', '.join(str(t.number) for t in best)})"
    if summary is not None and summary.importances:
        ranked = sorted(summary.importances.items(), key=lambda kv: -kv[1])
        text += "\nImportance: " + ", ".join(f"{k} {v:.0%}" for k, v in ranked)
    return text
