"""The Jobs panel: every job with a progress bar, its status line and log, and Cancel / Resume.

Observes jobs (live updates plus a light periodic re-read for other processes); never runs one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    QTimer,
)
from PySide6.QtGui import QCloseEvent, QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.jobs import JobRecord, JobState
from desktop_registry.errors import RegistryError
from desktop_registry.services.jobs.service import JobUpdate
from desktop_registry.ui.theme import BADGE

if TYPE_CHECKING:
    from desktop_registry.ui.window_api import WindowServices

# The table stays narrow enough for the work area: a one-word status per row; the full message
# (an error can be a long sentence with a URL) is the row's tooltip and the line under the table.
COLUMNS = ("Job", "Kind", "Status", "Progress", "Started")
JOB_COLUMN, KIND_COLUMN, STATUS_COLUMN, PROGRESS_COLUMN, STARTED_COLUMN = range(len(COLUMNS))
STATE_COLOURS = {JobState.FAILED: "error", JobState.INTERRUPTED: "missing"}
Index = QModelIndex | QPersistentModelIndex


def status_word(job: JobRecord) -> str:
    """The cell's short status: "Running", "Failed", "Interrupted" …"""
    return job.state.value.capitalize()


def status_message(job: JobRecord) -> str:
    """The full status for the tooltip and the detail line ("Failed: Ollama at … answered 500")."""
    return job.message or (f"Failed: {job.error}" if job.error else status_word(job))


def started_text(started: datetime | None, today: datetime | None = None) -> str:
    """Today's jobs show the time only; older ones the date too (the tooltip has the seconds)."""
    if started is None:
        return ""
    local = started.astimezone()
    now = today or datetime.now().astimezone()
    return local.strftime("%H:%M" if local.date() == now.date() else "%Y-%m-%d %H:%M")


class JobsTable(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[JobRecord] = []

    def set_jobs(self, jobs: list[JobRecord]) -> None:
        self.beginResetModel()
        self.jobs = jobs
        self.endResetModel()

    def apply(self, update: JobUpdate) -> bool:
        for row, job in enumerate(self.jobs):
            if job.id == update.job_id:
                self.jobs[row] = job.model_copy(
                    update={
                        "state": update.state,
                        "progress": update.progress,
                        "message": update.message or job.message,
                        "log": [*job.log, update.line] if update.line else job.log,
                    }
                )
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return True
        return False

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = 0) -> object:
        if not index.isValid():
            return None
        job = self.jobs[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return job.progress
        started = job.started_at or job.created_at
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"#{job.id} {job.title}\n{status_message(job)}"
            if started is not None:
                tip += f"\nstarted {started.astimezone():%Y-%m-%d %H:%M:%S}"
            return tip
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS_COLUMN:
            colour = STATE_COLOURS.get(job.state)
            return QColor(BADGE[colour]) if colour else None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            f"#{job.id} {job.title}",
            job.kind,
            status_word(job),
            "" if job.progress is None else f"{job.progress * 100:.0f}%",
            started_text(started),
        )[index.column()]


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        fraction = index.data(Qt.ItemDataRole.UserRole)
        if fraction is None:  # nothing measured (failed before it started, or indeterminate)
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(2, 3, -2, -3))
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int((fraction or 0) * 100)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        style = QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class JobsPanel(QWidget):
    def __init__(self, window: WindowServices) -> None:
        super().__init__()
        self.window_ = window
        self.jobs = window.ctx.jobs()
        self.table_model = JobsTable()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setWordWrap(False)  # one line a row; long titles elide, the tooltip has them
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(JOB_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column in (KIND_COLUMN, STATUS_COLUMN, STARTED_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PROGRESS_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(PROGRESS_COLUMN, 120)
        self.detail = QLabel("")  # the selected job's full status, wrapped
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setPlaceholderText("Select a job to see its log.")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.refresh_button = QPushButton("Refresh")
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for b in (self.refresh_button, self.resume_button, self.cancel_button):
            buttons.addWidget(b)
        below = QWidget()
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 4, 0, 0)
        below_layout.addWidget(self.detail)
        below_layout.addWidget(self.log, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(below)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.refresh_button.clicked.connect(self.reload)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection())
        self._unsubscribe = self.jobs.subscribe(self._on_update)
        self.timer = QTimer(self)
        self.timer.setInterval(2000)  # jobs of other processes (a CLI pull) show up too
        self.timer.timeout.connect(self.reload)
        self.timer.start()
        self.reload()

    def selected(self) -> JobRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table_model.jobs[rows[0].row()]

    def reload(self) -> None:
        selected = self.selected()
        try:
            jobs = self.jobs.list(limit=200)
        except RegistryError as exc:
            self.window_.report(str(exc))
            return
        self.table_model.set_jobs(jobs)
        if selected is not None:
            for row, job in enumerate(jobs):
                if job.id == selected.id:
                    self.table.selectRow(row)
        running = sum(1 for j in jobs if j.state is JobState.RUNNING)
        interrupted = sum(1 for j in jobs if j.state is JobState.INTERRUPTED)
        text = f"{len(jobs)} jobs · {running} running"
        if interrupted:
            text += f" · {interrupted} interrupted (select one and Resume)"
        self.summary.setText(text)
        self._selection()

    def _on_update(self, update: JobUpdate) -> None:
        if not self.table_model.apply(update):
            self.reload()
            return
        job = self.selected()
        if job is not None and job.id == update.job_id:
            if update.line:
                self.log.appendPlainText(update.line)
            self._detail(job)
            self._buttons(job)

    def _selection(self) -> None:
        job = self.selected()
        self._detail(job)
        if job is None:
            self.log.clear()
            self._buttons(None)
            return
        lines = list(job.log)
        if job.error and (not lines or job.error not in lines[-1]):
            lines.append(f"error: {job.error}")
        text = "\n".join(lines)
        if self.log.toPlainText() != text:
            self.log.setPlainText(text)
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
        self._buttons(job)

    def _detail(self, job: JobRecord | None) -> None:
        text = "" if job is None else f"#{job.id} {job.title} — {status_message(job)}"
        name = "error" if job is not None and job.state is JobState.FAILED else ""
        if self.detail.objectName() != name:
            self.detail.setObjectName(name)
            self.detail.style().unpolish(self.detail)  # the style sheet colours by object name
            self.detail.style().polish(self.detail)
        self.detail.setText(text)
        self.detail.setVisible(bool(text))

    def _buttons(self, job: JobRecord | None) -> None:
        self.cancel_button.setEnabled(job is not None and not job.state.finished)
        self.resume_button.setEnabled(job is not None and self.jobs.can_resume(job))

    def cancel_selected(self) -> None:
        job = self.selected()
        if job is not None:
            try:
                self.jobs.cancel(job.id)
            except RegistryError as exc:
                self.window_.report(str(exc))

    def resume_selected(self) -> None:
        job = self.selected()
        if job is not None:
            try:
                self.jobs.resume(job.id)
            except RegistryError as exc:
                self.window_.report(str(exc))
            self.reload()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._unsubscribe()
        super().closeEvent(event)
