"""The Library panel: search the catalog and registry, see what fits (green/amber/red), pull, compare.

Shows services' answers; never estimates, pulls or probes hardware itself (the window owns pulling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.library import (
    LibraryCategory,
    LibraryEntry,
    LibraryQuery,
    LibraryResult,
    SizeClass,
)
from desktop_registry.errors import RegistryError
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.services.library.comparison import ComparisonService
from desktop_registry.services.library.compatibility import (
    CompatibilityReport,
    CompatibilityService,
    Fit,
)
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.library.recommend import RecommendationService
from desktop_registry.ui.model_compare_table import BADGE_COLORS, ModelCompareTable
from desktop_registry.ui.recommend_dialog import RecommendDialog

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.ui.window_api import PanelHost, PullOpener

COLUMNS = ("Name", "Params", "Download", "Categories", "Fit", "Memory", "State", "Relevance")
BADGE_TEXT = {"green": "● fits GPU", "amber": "● slow fit", "red": "● too big"}
GIB = 1024**3


class LibraryTable(QAbstractTableModel):
    """One row per result with its fit report; a row whose estimate failed carries the reason
    (`notes[row]`) instead of a report, and the other rows are shown as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[LibraryResult, CompatibilityReport | None]] = []
        self.notes: dict[int, str] = {}

    def set_rows(
        self,
        rows: list[tuple[LibraryResult, CompatibilityReport | None]],
        notes: dict[int, str] | None = None,
    ) -> None:
        self.beginResetModel()
        self.rows = rows
        self.notes = dict(notes or {})
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    @staticmethod
    def badge(report: CompatibilityReport | None) -> str:
        return "green" if report is None else report.fit.badge

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid():
            return None
        result, report = self.rows[index.row()]
        note = self.notes.get(index.row())
        entry = result.entry
        col = index.column()
        if note is not None and col in (4, 5):
            if role == Qt.ItemDataRole.DisplayRole:
                return "no estimate" if col == 4 else "-"
            if role == Qt.ItemDataRole.ToolTipRole:
                return note
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 4:
                return "● remote" if report is None else BADGE_TEXT[report.fit.badge]
            state = "installed" if entry.installed else ("remote" if entry.remote else "")
            return (
                entry.name,
                entry.parameter_size or "-",
                f"{entry.size_bytes / 1e9:.1f} GB" if entry.size_bytes else "-",
                ", ".join(c.value.replace("_", " ") for c in entry.categories),
                "",
                report.estimate.figure() if report else "-",
                state,
                f"{result.relevance:.2f}",
            )[col]
        if role == Qt.ItemDataRole.BackgroundRole and col == 4:
            return QBrush(QColor(BADGE_COLORS[self.badge(report)]))
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            return QBrush(QColor("white"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 3:
                return ", ".join(c.value.replace("_", " ") for c in entry.categories) or None
            if report is None:
                return "Served remotely: needs no local memory."
            lines = [report.fit.label + ": " + report.reason, *report.warnings]
            lines.append(f"{report.estimate.summary()}, {report.estimate.accounting_note()}")
            lines += [f"→ {s.text}" for s in report.suggestions]
            return "\n".join(lines)
        return None


class LibraryView(QWidget):
    pull_requested = Signal(str)

    def __init__(
        self,
        library: LibraryService,
        compatibility: CompatibilityService,
        recommendations: RecommendationService,
        comparison: ComparisonService,
        *,
        window: PullOpener | None = None,
        hardware: HardwareProfile | None = None,
    ) -> None:
        super().__init__()
        self.library = library
        self.compatibility = compatibility
        self.recommendations = recommendations
        self.comparison = comparison
        self.window_ref = window
        self.hardware = hardware
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models: name, family, description, tags…")
        self.category = self._combo("any category", [(c.value.replace("_", " "), c) for c in LibraryCategory])  # fmt: skip
        self.capability = self._combo("any capability", [(c, c) for c in ("completion", "tools", "vision", "embedding", "thinking", "insert")])  # fmt: skip
        self.size_filter = self._combo("any size", [(s.value, s) for s in SizeClass])
        self.installed = self._combo("installed or not", [("installed", True), ("not installed", False)])  # fmt: skip
        self.where = self._combo("local and remote", [("local", False), ("remote", True)])
        self.ctx = QSpinBox()
        self.ctx.setRange(512, 1_048_576)
        self.ctx.setSingleStep(2048)
        self.ctx.setValue(8192)
        self.ctx.setPrefix("ctx ")
        self.table_model = LibraryTable()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Categories get a fixed readable width on one line (full text in the tooltip), so a
        # narrow work area scrolls sideways instead of squeezing them to "ego".
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(3, 150)
        self.table.horizontalHeader().moveSection(3, 6)  # shown after State: fit comes first
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.pull_button = QPushButton("Pull")
        self.pull_button.clicked.connect(self.pull_selected)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.clicked.connect(self.compare_selected)
        self.recommend_button = QPushButton("Recommend…")
        self.recommend_button.clicked.connect(self.open_recommend)
        self.status = QLabel()
        self.status.setWordWrap(True)  # a long summary wraps instead of widening the panel
        self.compare_table = ModelCompareTable()
        self.compare_table.setVisible(False)
        # Two rows of filters: the panel fits a narrow work area without cutting any off.
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 2)
        filters = QHBoxLayout()
        for row, combo in ((search_row, self.category), (search_row, self.capability), (filters, self.size_filter), (filters, self.installed), (filters, self.where)):  # fmt: skip
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)  # fmt: skip
            combo.setMinimumContentsLength(4)
            row.addWidget(combo, 1)
        filters.addWidget(self.ctx)
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        for button in (self.recommend_button, self.compare_button, self.pull_button):
            actions.addWidget(button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.compare_table)
        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        for combo in (self.category, self.capability, self.size_filter, self.installed, self.where):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.ctx.valueChanged.connect(lambda _v: self._debounce.start())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    @staticmethod
    def _combo(label: str, items: list[tuple[str, object]]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(label, None)
        for text, value in items:
            combo.addItem(text, value)
        return combo

    def query(self) -> LibraryQuery:
        return LibraryQuery(
            text=self.search.text(),
            category=self.category.currentData(),
            capability=self.capability.currentData(),
            size_class=self.size_filter.currentData(),
            installed=self.installed.currentData(),
            remote=self.where.currentData(),
            limit=200,
        )

    def refresh(self) -> None:
        try:
            results = self.library.search(self.query())
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        rows: list[tuple[LibraryResult, CompatibilityReport | None]] = []
        notes: dict[int, str] = {}
        for result in results:
            report = None
            if not result.entry.remote:
                try:
                    report = self.compatibility.check_entry(
                        result.entry, self.ctx.value(), hardware=self.hardware
                    )
                except RegistryError as exc:  # that row's note; the others still show
                    notes[len(rows)] = str(exc)
            rows.append((result, report))
        self.table_model.set_rows(rows, notes)
        fits = sum(1 for _, r in rows if r is not None and r.fit is not Fit.DOES_NOT_FIT)
        profile = self.compatibility.profile(self.hardware)
        summary = f"{len(rows)} models, {fits} fit this machine ({profile.summary()})"
        if notes:
            summary += f"; {len(notes)} without an estimate (hover its Fit cell for why)"
        stale = getattr(self.library, "stale_reason", None)
        self.status.setText(f"{summary}\n{stale}" if stale else summary)
        self._update_buttons()

    def selected_entries(self) -> list[LibraryEntry]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.table_model.rows[r][0].entry for r in rows]

    def _update_buttons(self) -> None:
        selected = self.selected_entries()
        self.pull_button.setEnabled(len(selected) == 1 and selected[0].pullable)
        self.compare_button.setEnabled(2 <= len(selected) <= 6)

    def pull_selected(self) -> None:
        selected = self.selected_entries()
        if len(selected) != 1:
            self.status.setText("Select one model to pull.")
            return
        self.request_pull(selected[0].name)

    def request_pull(self, name: str) -> None:
        self.pull_requested.emit(name)
        if self.window_ref is not None:
            self.window_ref.open_pull_dialog(name)
        else:
            self.status.setText(
                f"Pull {name}: run `ollama pull {name}` (no pull dialog in this window)"
            )

    def compare_selected(self) -> None:
        names = [e.name for e in self.selected_entries()]
        try:
            result = self.comparison.compare(
                names, context_length=self.ctx.value(), hardware=self.hardware
            )
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self.compare_table.show_comparison(result)
        self.compare_table.setVisible(True)

    def open_recommend(self) -> RecommendDialog:
        dialog = RecommendDialog(self.recommendations, hardware=self.hardware, parent=self)
        dialog.pull_requested.connect(self.request_pull)
        dialog.show()
        dialog.run()
        return dialog


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    library = ctx.library()
    compatibility = CompatibilityService(ctx.hardware(), library)
    recommendations = RecommendationService(library, compatibility)
    comparison = ComparisonService(library, compatibility, recommendations)
    return LibraryView(library, compatibility, recommendations, comparison, window=window)
