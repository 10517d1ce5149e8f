"""The Compare panel: pick 2–8 models and a suite, run or benchmark them, see them side by side
(bars, latency boxes, score-vs-latency with the Pareto front, history across slot versions).

Shows what services stored and sends intents (suite runs as jobs, benchmarks as tasks); never
blocks the UI thread.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import RegistryError
from desktop_registry.services.evaluation.metric_comparison import HistoryPoint
from desktop_registry.ui.tasks import TaskRunner
from desktop_registry.ui.widgets.charts import (
    BarChart,
    DistributionChart,
    HistoryChart,
    ScatterChart,
)

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.ui.window_api import PanelHost

MIN_MODELS, MAX_MODELS = 2, 8
NO_SLOT = "(models' own versions)"


class ComparePanel(QWidget):
    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, tasks: TaskRunner | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._runner = tasks
        self.data = ctx.metric_comparison()
        self.records: dict[str, ModelRecord] = {}
        self.pending: asyncio.Future[None] | None = None
        self.cancel_event: asyncio.Event | None = None
        self.job_id: int | None = None

        self.model_list = QListWidget()
        self.model_list.itemChanged.connect(self._checked)
        self.suite_box = QComboBox()
        self.slot_box = QComboBox()
        self.run_button = QPushButton("Run suite")
        self.bench_button = QPushButton("Benchmark models")
        self.slot_button = QPushButton("Benchmark slot versions")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_suite)
        self.bench_button.clicked.connect(
            lambda: self._start(self.benchmark(self.checked_models()))
        )
        self.slot_button.clicked.connect(lambda: self._start(self.benchmark_slot()))
        self.cancel_button.clicked.connect(self.cancel)
        self.slot_box.currentTextChanged.connect(lambda _: self.refresh())
        self.status = QLabel("Pick 2–8 models.")
        self.status.setWordWrap(True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("Models (pick 2–8)"))
        lv.addWidget(self.model_list, 1)
        lv.addWidget(QLabel("Suite"))
        lv.addWidget(self.suite_box)
        lv.addWidget(self.run_button)
        lv.addWidget(self.bench_button)
        lv.addWidget(QLabel("Slot (history across its versions)"))
        lv.addWidget(self.slot_box)
        lv.addWidget(self.slot_button)
        lv.addWidget(self.cancel_button)
        lv.addWidget(self.status)

        self.metric_box = QComboBox()
        self.metric_box.currentTextChanged.connect(lambda _: self.redraw())
        self.score_box = QComboBox()
        self.score_box.currentTextChanged.connect(lambda _: self.redraw())
        self.bars, self.boxes = BarChart(), DistributionChart()
        self.scatter, self.history = ScatterChart(), HistoryChart()
        self.charts = QTabWidget()
        for chart, title in (
            (self.bars, "Bars"),
            (self.boxes, "Latency distribution"),
            (self.scatter, "Score vs latency"),
            (self.history, "History"),
        ):
            self.charts.addTab(chart, title)
        self.png_button = QPushButton("Export chart PNG…")
        self.csv_button = QPushButton("Export table CSV…")
        self.png_button.clicked.connect(lambda: self._save("png"))
        self.csv_button.clicked.connect(lambda: self._save("csv"))
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        right = QWidget()
        rv = QVBoxLayout(right)
        top = QHBoxLayout()
        top.addWidget(QLabel("Metric"))
        top.addWidget(self.metric_box, 1)
        top.addWidget(QLabel("Score"))
        top.addWidget(self.score_box, 1)
        top.addWidget(self.png_button)
        top.addWidget(self.csv_button)
        rv.addLayout(top)
        rv.addWidget(self.charts, 3)
        rv.addWidget(self.table, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()

    # ----- choices --------------------------------------------------------------------------
    def reload(self) -> None:
        """Models, suites and slots from the registry; keeps what was checked."""
        checked = set(self.checked_models())
        self.model_list.blockSignals(True)
        self.model_list.clear()
        self.records = {}
        for record in self.ctx.registry().list():
            self.records[record.name] = record
            item = QListWidgetItem(record.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if record.name in checked else Qt.CheckState.Unchecked
            )
            self.model_list.addItem(item)
        self.model_list.blockSignals(False)
        suites = [s.name for s in self.ctx.eval_suites().list()]
        self._fill(self.suite_box, suites)
        try:
            slots = self.ctx.versions(tracked=False).slot_names()
        except RegistryError as exc:
            slots = []
            self.status.setText(f"Slots are not available: {exc}")
        self._fill(self.slot_box, [NO_SLOT, *slots])
        self.refresh()

    @staticmethod
    def _fill(box: QComboBox, items: list[str]) -> None:
        current = box.currentText()
        box.blockSignals(True)
        box.clear()
        box.addItems(items)
        if current in items:
            box.setCurrentText(current)
        box.blockSignals(False)

    def checked_models(self) -> list[str]:
        return [
            self.model_list.item(i).text()
            for i in range(self.model_list.count())
            if self.model_list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def select(self, names: list[str]) -> None:
        self.model_list.blockSignals(True)
        for i in range(self.model_list.count()):
            item = self.model_list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
            )
        self.model_list.blockSignals(False)
        self.refresh()

    def _checked(self, item: QListWidgetItem) -> None:
        if item.checkState() == Qt.CheckState.Checked and len(self.checked_models()) > MAX_MODELS:
            self.model_list.blockSignals(True)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.model_list.blockSignals(False)
            self.status.setText(f"At most {MAX_MODELS} models side by side; uncheck one first.")
            return
        self.refresh(announce=True)

    # ----- drawing --------------------------------------------------------------------------
    def chosen(self) -> list[ModelRecord]:
        return [self.records[n] for n in self.checked_models() if n in self.records]

    def refresh(self, *, announce: bool = False) -> None:
        records = self.chosen()
        ok = MIN_MODELS <= len(records) <= MAX_MODELS
        busy = self.pending is not None and not self.pending.done()
        self.run_button.setEnabled(ok and not busy and bool(self.suite_box.currentText()))
        self.bench_button.setEnabled(ok and not busy)
        self.slot_button.setEnabled(not busy and self.slot_box.currentText() not in ("", NO_SLOT))
        if not busy and announce:
            self.status.setText(f"{len(records)} models picked." if ok else "Pick 2–8 models.")
        names = self.data.metric_names(records) if records else []
        slot_names = self._slot_metric_names()
        self._fill(self.metric_box, names + [n for n in slot_names if n not in names])
        scores = [
            n
            for n in names
            if n.endswith(("pass_rate", "mean_score"))
            or n.startswith(("recall@", "mrr", "caption_score"))
        ]
        self._fill(self.score_box, scores)
        self.redraw()

    def _slot_versions(self) -> list[tuple[int, str]]:
        slot = self.slot_box.currentText()
        if not slot or slot == NO_SLOT:
            return []
        try:
            return [
                (v.model_id, v.version) for v in self.ctx.versions(tracked=False).versions(slot)
            ]
        except RegistryError:
            return []

    def _slot_metric_names(self) -> list[str]:
        ids = {model_id for model_id, _ in self._slot_versions()}
        records = [self.ctx.registry().get(i) for i in ids]
        return self.data.metric_names(records) if records else []

    def redraw(self) -> None:
        records = self.chosen()
        metric = self.metric_box.currentText()
        latest = self.data.latest(records)
        names = [r.name for r in records]
        self.bars.show_metric(metric or "metric", names, [latest[n].get(metric) for n in names])
        self.boxes.show_samples({r.name: self.data.latency_samples(r) for r in records})
        score = self.score_box.currentText()
        latency = _latency_metric(score)
        points = [
            (n, latest[n][latency], latest[n][score])
            for n in names
            if score and latency in latest[n] and score in latest[n]
        ]
        self.scatter.show_points(points, score or "score")
        self.history.show_history(metric or "metric", self._history(records, metric))
        self._fill_table(names, latest)

    def _history(self, records: list[ModelRecord], metric: str) -> dict[str, list[HistoryPoint]]:
        versions = self._slot_versions()
        if versions:
            return {self.slot_box.currentText(): self.data.slot_history(versions, metric)}
        return {r.name: self.data.history(r, metric) for r in records}

    def _fill_table(self, names: list[str], latest: dict[str, dict[str, float]]) -> None:
        metrics = sorted(
            {m for n in names for m in latest[n]}, key=lambda m: (m.startswith("eval/"), m)
        )
        self.table.setRowCount(len(names))
        self.table.setColumnCount(len(metrics) + 1)
        self.table.setHorizontalHeaderLabels(["Model", *metrics])
        for row, name in enumerate(names):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, metric in enumerate(metrics, 1):
                value = latest[name].get(metric)
                self.table.setItem(
                    row, col, QTableWidgetItem("" if value is None else f"{value:.4g}")
                )

    # ----- export ---------------------------------------------------------------------------
    def export_png(self, path: Path) -> Path:
        chart = self.charts.currentWidget()
        assert hasattr(chart, "export_png")
        return Path(chart.export_png(path))

    def export_csv(self, path: Path) -> Path:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            headers = [
                header.text() if (header := self.table.horizontalHeaderItem(c)) is not None else ""
                for c in range(self.table.columnCount())
            ]
            writer.writerow(headers)
            for r in range(self.table.rowCount()):
                writer.writerow(
                    [
                        (item.text() if (item := self.table.item(r, c)) else "")
                        for c in range(self.table.columnCount())
                    ]
                )
        return path

    def _save(self, kind: str) -> None:
        caption = "Export chart" if kind == "png" else "Export table"
        name, _ = QFileDialog.getSaveFileName(self, caption, f"comparison.{kind}", f"*.{kind}")
        if not name:
            return
        try:
            saved = self.export_png(Path(name)) if kind == "png" else self.export_csv(Path(name))
        except OSError as exc:
            self.status.setText(f"Could not save {name}: {exc.strerror or exc}")
            return
        self.status.setText(f"Saved {saved}")

    # ----- actions --------------------------------------------------------------------------
    def _start(self, coro: Awaitable[None]) -> None:
        runner = (self._runner or TaskRunner(self.status.setText)).reporting_to(self.status.setText)
        self.pending = runner.spawn(self._guard(coro), "running the benchmark")
        self.cancel_button.setEnabled(True)
        self.refresh()

    async def _guard(self, coro: Awaitable[None]) -> None:
        try:
            await coro
        except RegistryError as exc:
            self.status.setText(str(exc))
        except asyncio.CancelledError:
            self.status.setText("Cancelled; finished rows are kept.")
        finally:
            self.cancel_button.setEnabled(False)
            self.pending = None
            self.reload()

    def run_suite(self) -> None:
        """A suite run is a job: it shows in Jobs, can be cancelled there and resumed."""
        names, suite = self.checked_models(), self.suite_box.currentText()
        try:
            run = self.ctx.evaluation().prepare(suite, names)
            job = self.ctx.jobs().submit(
                "evaluation", {"run_id": run.id}, f"Evaluate {suite!r} on {len(names)} models"
            )
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self.job_id = job.id
        self.status.setText(f"Running {suite!r}: 0/{run.total_rows} rows")
        self._start(self._follow(job.id))

    def _job_done(self) -> None:
        self.job_id = None

    async def _follow(self, job_id: int) -> None:
        jobs = self.ctx.jobs()
        unsubscribe = jobs.subscribe(
            lambda u: (
                self.status.setText(f"{u.message or u.state.value}") if u.job_id == job_id else None
            )
        )
        try:
            record = await jobs.wait(job_id)
        finally:
            unsubscribe()
        self._job_done()
        self.status.setText(f"Suite run {record.state.value}: {record.message}")

    async def benchmark(
        self, names: list[str], versions: dict[str, str] | None = None, notes: str = ""
    ) -> None:
        service = self.ctx.benchmarks()
        reports = await service.run(
            names, versions=versions, notes=notes, on_progress=self.status.setText
        )
        errors = [f"{r.model}: {e}" for r in reports for e in r.errors]
        self.status.setText(
            "Benchmark done." + (f" {len(errors)} error(s): {errors[0]}" if errors else "")
        )

    async def benchmark_slot(self) -> None:
        slot = self.slot_box.currentText()
        versions = self.ctx.versions(tracked=False).versions(slot)
        await self.benchmark(
            [v.model_name for v in versions],
            {v.model_name: v.version for v in versions},
            f"slot {slot}",
        )
        self.select(
            list(dict.fromkeys([*self.checked_models(), *(v.model_name for v in versions)]))[
                :MAX_MODELS
            ]
        )
        metric = (
            "recall@1"
            if "recall@1" in [self.metric_box.itemText(i) for i in range(self.metric_box.count())]
            else ""
        )
        if metric:
            self.metric_box.setCurrentText(metric)
        self.charts.setCurrentWidget(self.history)

    def cancel(self) -> None:
        if self.job_id is not None:
            try:
                self.ctx.jobs().cancel(self.job_id)
            except RegistryError as exc:
                self.status.setText(str(exc))
        elif self.pending is not None:
            self.pending.cancel()


def _latency_metric(score: str) -> str:
    """The latency that goes with a score: a suite's own, else the text benchmark's."""
    if score.startswith("eval/"):
        return score.rsplit("/", 1)[0] + "/latency_ms"
    return "latency_ms"


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return ComparePanel(ctx, tasks=window.tasks if window is not None else None)
