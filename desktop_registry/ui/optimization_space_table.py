"""The search space as an editable table: one option a row (name, low, high, step, or choices);
a row that cannot be searched turns red and says why, in the row's tooltip and the reason column.

Only reads what the user typed and asks the service's check; never starts a study.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from desktop_registry.domain.optimization import ParameterRange
from desktop_registry.errors import RegistryError
from desktop_registry.services.optimization.space import INTEGER_OPTIONS

COLUMNS = ["Option", "Low", "High", "Step", "Choices", "Log", "Problem"]
NAME, LOW, HIGH, STEP, CHOICES, LOG, PROBLEM = range(len(COLUMNS))
FIELD = re.compile(r"space ([^\s:]+):")  # the service names the field: "space top_p: …"

SpaceCheck = Callable[[Sequence[ParameterRange]], None]  # raises a RegistryError naming the field


def _number(text: str, what: str, name: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}: {what} {text!r} is not a number") from None


def _choice(text: str) -> object:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def parse_row(cells: Sequence[str]) -> ParameterRange:
    """What one row asks for; ValueError naming the field when it cannot be searched."""
    name, low, high, step, choices, log = (c.strip() for c in cells[:6])
    if not name:
        raise ValueError("option: give the option's name (temperature, top_p, …)")
    if choices:
        values = [_choice(c) for c in choices.split(",") if c.strip()]
        if low or high or step:
            raise ValueError(f"{name}: give either low/high or choices, not both")
        return ParameterRange(name=name, choices=values)
    lo, hi = _number(low, "low", name), _number(high, "high", name)
    st = _number(step, "step", name)
    if lo is None or hi is None:
        raise ValueError(
            f"{name}: {'low' if lo is None else 'high'}: give a number, or list choices"
        )
    return ParameterRange(
        name=name,
        low=lo,
        high=hi,
        step=st,
        log=log.lower() in ("yes", "true", "1", "log"),
        integer=name in INTEGER_OPTIONS,
    )


class SpaceTable(QTableWidget):
    """Rows of ParameterRange; `problems()` is empty when the whole space can be searched."""

    changed = Signal()

    def __init__(self, check: SpaceCheck | None = None) -> None:
        super().__init__(0, len(COLUMNS))
        self.check = check
        self.setHorizontalHeaderLabels(COLUMNS)
        header = self.horizontalHeader()
        for col in range(PROBLEM):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PROBLEM, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._problems: dict[int, str] = {}
        self._space_problem = ""
        self._filling = False
        self.itemChanged.connect(self._edited)

    # ----- content ------------------------------------------------------------------------
    def set_space(self, space: Sequence[ParameterRange]) -> None:
        self._filling = True
        self.setRowCount(0)
        for parameter in space:
            self._append(parameter)
        self._filling = False
        self.validate()

    def add_row(self, name: str = "") -> int:
        self._filling = True
        row = self._append(ParameterRange(name=name))
        self._filling = False
        self.validate()
        return row

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.selectedIndexes()}, reverse=True)
        for row in rows:
            self.removeRow(row)
        self.validate()

    def set_cell(self, row: int, column: int, text: str) -> None:
        item = self.item(row, column)
        if item is None:
            self.setItem(row, column, QTableWidgetItem(text))
        else:
            item.setText(text)  # itemChanged re-validates

    def _append(self, p: ParameterRange) -> int:
        row = self.rowCount()
        self.insertRow(row)

        def num(v: float | None) -> str:
            if v is None:
                return ""
            return str(int(v)) if float(v).is_integer() else f"{v:g}"

        cells = [
            p.name,
            num(p.low),
            num(p.high),
            num(p.step),
            ",".join(str(c) for c in p.choices) if p.choices is not None else "",
            "yes" if p.log else "",
            "",
        ]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == PROBLEM:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.setItem(row, col, item)
        return row

    def _cells(self, row: int) -> list[str]:
        return [(it.text() if (it := self.item(row, c)) else "") for c in range(len(COLUMNS))]

    # ----- checking -----------------------------------------------------------------------
    def _edited(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() != PROBLEM:
            self.validate()

    def validate(self) -> dict[int, str]:
        """Parse every row, mark the bad ones red with the reason; row → reason."""
        self._problems = {}
        parsed: list[ParameterRange] = []
        for row in range(self.rowCount()):
            try:
                parsed.append(parse_row(self._cells(row)))
            except ValueError as exc:
                self._problems[row] = str(exc)
        names = [p.name for p in parsed]
        for row in range(self.rowCount()):
            name = self._cells(row)[NAME].strip()
            if row not in self._problems and name and names.count(name) > 1:
                self._problems[row] = f"{name}: listed twice; keep one row per option"
        self._space_problem = ""
        if not self._problems and self.check is not None and parsed:
            try:
                self.check(parsed)
            except RegistryError as exc:
                self._blame(str(exc), names)
        self._paint()
        self.changed.emit()
        return dict(self._problems)

    def _blame(self, message: str, names: list[str]) -> None:
        """The service names the field; mark that row, or the whole space when none fits."""
        named = FIELD.match(message)
        field = named.group(1).split(".")[0] if named else ""
        for row, name in enumerate(names):
            if name and name == field:
                self._problems[row] = message
                return
        self._space_problem = message

    def _paint(self) -> None:
        self._filling = True
        red = QBrush(QColor("#cf222e"))
        pale = QBrush(QColor(207, 34, 46, 40))
        for row in range(self.rowCount()):
            reason = self._problems.get(row, "")
            for col in range(len(COLUMNS)):
                item = self.item(row, col)
                if item is None:
                    continue
                item.setBackground(pale if reason else QBrush())
                item.setForeground(red if reason else QBrush())
                item.setToolTip(reason)
                if col == PROBLEM:
                    item.setText(reason)
        # The Problem column shows only while a row has one (an empty, squeezed column reads "oble").
        self.setColumnHidden(PROBLEM, not self._problems)
        self._filling = False

    def problems(self) -> list[str]:
        out = [self._problems[r] for r in sorted(self._problems)]
        return out + ([self._space_problem] if self._space_problem else [])

    def space(self) -> list[ParameterRange]:
        """The space as typed; call only when problems() is empty."""
        return [parse_row(self._cells(row)) for row in range(self.rowCount())]
