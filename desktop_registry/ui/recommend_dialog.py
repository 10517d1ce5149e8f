"""The Recommend dialog: pick a task (and a size), see ranked models that fit this machine.

Shows RecommendationService results; never pulls a model (it offers the library's Pull instead).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.library import SizeClass
from desktop_registry.errors import RegistryError
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.library.recommend import (
    TASKS,
    RecommendationService,
    RecommendationSet,
)

COLUMNS = ("#", "Model", "Confidence", "Fit", "Why", "Trade-off")


class RecommendDialog(QDialog):
    pull_requested = Signal(str)

    def __init__(
        self,
        service: RecommendationService,
        *,
        hardware: HardwareProfile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.hardware = hardware
        self.recommended: RecommendationSet | None = None  # not `result`: QDialog.result()
        self.setWindowTitle("Recommend a model")
        self.resize(1180, 460)
        self.task = QComboBox()
        for key, profile in TASKS.items():
            self.task.addItem(profile.label, key)
        self.size_filter = QComboBox()  # not `size`: QWidget.size()
        self.size_filter.addItem("any size", None)
        for cls in SizeClass:
            self.size_filter.addItem(cls.value, cls)
        self.run_button = QPushButton("Recommend")
        self.run_button.clicked.connect(self.run)
        self.pull_button = QPushButton("Pull selected")
        self.pull_button.clicked.connect(self._pull)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        self.excluded = QLabel()
        self.excluded.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (
            QLabel("Task"),
            self.task,
            QLabel("Size"),
            self.size_filter,
            self.run_button,
        ):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.pull_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(self.excluded)

    def run(self) -> None:
        try:
            self.recommended = self.service.recommend(
                str(self.task.currentData()),
                hardware=self.hardware,
                preferred_size=self.size_filter.currentData(),
            )
        except RegistryError as exc:
            self.summary.setText(str(exc))
            return
        result = self.recommended
        self.summary.setText(f"{result.hardware} · context {result.context_length} tokens")
        self.table.setRowCount(len(result.recommendations))
        for row, rec in enumerate(result.recommendations):
            values = (
                str(rec.rank),
                rec.model + (" (installed)" if rec.installed else ""),
                f"{rec.confidence:.2f}",
                rec.fit.label,
                rec.reason,
                rec.trade_off,
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        if not result.recommendations:
            self.summary.setText(
                self.summary.text() + " — nothing fits this machine for this task."
            )
        left_out = ", ".join(e.model for e in result.excluded[:6])
        self.excluded.setText(
            f"Left out {len(result.excluded)} models that do not fit here: {left_out}…"
            if result.excluded
            else ""
        )

    def _pull(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.recommended is None or not rows:
            self.summary.setText("Select a recommended model to pull.")
            return
        self.pull_requested.emit(self.recommended.recommendations[rows[0].row()].model)
