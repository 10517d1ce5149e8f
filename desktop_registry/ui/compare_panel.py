"""The Compare panel: pick 2–8 models and a suite, run or benchmark them, see them side by side
(bars, latency boxes, score-vs-latency with the Pareto front, history across slot versions).

Shows what services stored and sends intents (suite runs as jobs, benchmarks as tasks); never
blocks the UI thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import RegistryError
from desktop_registry.services.evaluation.metric_comparison import HistoryPoint
from desktop_registry.services.evaluation.suite import EvalSuite, parse_prompt_yml
from desktop_registry.ui.compare_choices import default_metric, listed_metrics
from desktop_registry.ui.compare_figures import FiguresTable
from desktop_registry.ui.compare_picker import MAX_MODELS, MIN_MODELS, ModelPicker
from desktop_registry.ui.metric_format import is_score
from desktop_registry.ui.suite_import import SuiteDrop, ask_suite_files, import_suite_files
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

NO_SLOT = "(models' own versions)"
NO_SUITE = "(no suite: benchmark only)"


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
        self.metric_chosen = ""  # a metric the user picked; else the default is charted

        self.status = QLabel("Pick 2–8 models.")
        self.model_list = ModelPicker()
        self.model_list.changed.connect(lambda: self.refresh(announce=True))
        self.model_list.refused.connect(lambda text: self.status.setText(text))
        self.suite_box = QComboBox()
        self.suite_box.currentTextChanged.connect(lambda _: self._suite_changed())
        self.import_button = QPushButton("Import suite…")  # or drop a .prompt.yml on the panel
        self.import_button.clicked.connect(lambda: self.import_suites(ask_suite_files(self)))
        SuiteDrop(self, self.import_suites)
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
        self.status.setWordWrap(True)
        self.progress = QProgressBar()  # a benchmark's models done, while it runs
        self.progress.setFormat("%v of %m models")
        self.progress.setVisible(False)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("Models (pick 2–8)"))
        lv.addWidget(self.model_list, 1)
        lv.addWidget(QLabel("Suite"))
        suite_row = QHBoxLayout()
        suite_row.addWidget(self.suite_box, 1)
        suite_row.addWidget(self.import_button)
        lv.addLayout(suite_row)
        lv.addWidget(self.run_button)
        lv.addWidget(self.bench_button)
        lv.addWidget(QLabel("Slot (history across its versions)"))
        lv.addWidget(self.slot_box)
        lv.addWidget(self.slot_button)
        lv.addWidget(self.cancel_button)
        lv.addWidget(self.progress)
        lv.addWidget(self.status)

        self.metric_box = QComboBox()
        self.metric_box.currentTextChanged.connect(lambda _: self.redraw())
        self.metric_box.activated.connect(lambda _i: self._metric_picked())
        self.score_box = QComboBox()
        self.score_box.currentTextChanged.connect(lambda _: self.redraw())
        self.bars, self.boxes = BarChart(), DistributionChart()
        self.scatter, self.history = ScatterChart(), HistoryChart()
        self.charts = QTabWidget()
        for chart, title in (
            (self.bars, "Bars"),
            (self.boxes, "Latency"),  # short titles: the four tabs fit at 1280 px
            (self.scatter, "Score vs latency"),
            (self.history, "History"),
        ):
            self.charts.addTab(chart, title)
        self.png_button = QPushButton("PNG…")
        self.png_button.setToolTip("Export the chart as PNG")
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setToolTip("Export the table as CSV")
        for box in (self.metric_box, self.score_box):  # a metric's name is read, not guessed
            box.setMinimumContentsLength(16)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.png_button.clicked.connect(lambda: self._save("png"))
        self.csv_button.clicked.connect(lambda: self._save("csv"))
        self.table = FiguresTable()

        right = QWidget()
        rv = QVBoxLayout(right)
        top = QGridLayout()  # two rows: each name readable in a narrow work area
        top.addWidget(QLabel("Metric"), 0, 0)
        top.addWidget(self.metric_box, 0, 1)
        top.addWidget(self.png_button, 0, 2)
        top.addWidget(QLabel("Score"), 1, 0)
        top.addWidget(self.score_box, 1, 1)
        top.addWidget(self.csv_button, 1, 2)
        top.setColumnStretch(1, 1)
        rv.addLayout(top)
        rv.addWidget(self.charts, 3)
        rv.addWidget(self.table, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([230, 770])  # the charts get the room; long names scroll in the list
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()

    # ----- choices --------------------------------------------------------------------------
    def reload(self) -> None:
        """Models, suites and slots from the registry; keeps what was checked."""
        self.records = {record.name: record for record in self.ctx.registry().list()}
        suites = [s.name for s in self.ctx.eval_suites().list()]
        self._fill(self.suite_box, [*suites, NO_SUITE])
        self.model_list.set_records(list(self.records.values()), self.suite())
        try:
            slots = self.ctx.versions(tracked=False).slot_names()
        except RegistryError as exc:
            slots = []
            self.status.setText(f"Slots are not available: {exc}")
        self._fill(self.slot_box, [NO_SLOT, *slots])
        self.refresh()

    def import_suites(self, paths: list[Path]) -> None:
        said: list[str] = []
        names = import_suite_files(self.ctx.eval_suites(), paths, said.append)
        if names:
            self.show_imported_suite(names[-1])
        self.status.setText(" ".join(said) or self.status.text())

    def show_imported_suite(self, name: str) -> None:
        self.reload()
        self.suite_box.setCurrentText(name)  # announces the pick; the import is the news
        self.status.setText(f"Imported suite {name!r}.")

    def suite(self) -> EvalSuite | None:
        """The chosen suite, read from the catalog (None for "benchmark only")."""
        name = self.suite_box.currentText()
        if not name or name == NO_SUITE:
            return None
        try:
            return parse_prompt_yml(self.ctx.eval_suites().export(name), origin=name)
        except RegistryError as exc:
            self.status.setText(str(exc))
            return None

    def _suite_changed(self) -> None:
        self.model_list.set_records(list(self.records.values()), self.suite())
        self.refresh(announce=True)

    def _metric_picked(self) -> None:
        self.metric_chosen = self.metric_box.currentText()

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
        return self.model_list.checked()

    def select(self, names: list[str]) -> None:
        self.model_list.check(names)
        self.refresh(announce=True)

    # ----- drawing --------------------------------------------------------------------------
    def chosen(self) -> list[ModelRecord]:
        return [self.records[n] for n in self.checked_models() if n in self.records]

    def refresh(self, *, announce: bool = False) -> None:
        records = self.chosen()
        ok = MIN_MODELS <= len(records) <= MAX_MODELS
        busy = self.pending is not None and not self.pending.done()
        suite = self.suite_box.currentText()
        self.run_button.setEnabled(ok and not busy and suite not in ("", NO_SUITE))
        self.bench_button.setEnabled(ok and not busy)
        self.slot_button.setEnabled(not busy and self.slot_box.currentText() not in ("", NO_SLOT))
        if not busy and announce:
            self.status.setText(f"{len(records)} models picked." if ok else "Pick 2–8 models.")
        latest = self.data.latest(records) if records else {}
        names = listed_metrics(list(latest), latest)
        slot_names = self._slot_metric_names()
        metrics = names + [n for n in slot_names if n not in names]
        self._fill(self.metric_box, metrics)
        # The user's pick stays while it is there; otherwise the chart that answers a question.
        wanted = self.metric_chosen if self.metric_chosen in metrics else ""
        wanted = wanted or default_metric(metrics, latest, suite)
        if wanted:
            self.metric_box.blockSignals(True)
            self.metric_box.setCurrentText(wanted)
            self.metric_box.blockSignals(False)
        scores = [n for n in names if is_score(n)]
        self._fill(self.score_box, scores)
        if scores and self.score_box.currentText() not in scores:
            self.score_box.setCurrentText(scores[0])
        own_score = f"eval/{suite}/pass_rate"
        if own_score in scores and not self.metric_chosen:
            self.score_box.setCurrentText(own_score)
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
        self.table.show_figures(names, latest)

    def _history(self, records: list[ModelRecord], metric: str) -> dict[str, list[HistoryPoint]]:
        versions = self._slot_versions()
        if versions:
            return {self.slot_box.currentText(): self.data.slot_history(versions, metric)}
        return {r.name: self.data.history(r, metric) for r in records}

    # ----- export ---------------------------------------------------------------------------
    def export_png(self, path: Path) -> Path:
        chart = self.charts.currentWidget()
        assert hasattr(chart, "export_png")
        return Path(chart.export_png(path))

    def export_csv(self, path: Path) -> Path:
        return self.table.export_csv(path)

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
        """Models one after another; each one's figures are charted as soon as it is done."""
        service = self.ctx.benchmarks()
        started: list[str] = []
        self.progress.setRange(0, len(names))
        self.progress.setValue(0)
        self.progress.setVisible(True)

        def progress(message: str) -> None:
            started.append(message)
            done = len(started) - 1  # a model starts when the one before it is recorded
            self.progress.setValue(done)
            if done:
                self.refresh()  # partial results: the finished models are in the charts
            current = names[done] if done < len(names) else ""
            self.status.setText(f"{done} of {len(names)} done · benchmarking {current}…")

        try:
            reports = await service.run(names, versions=versions, notes=notes, on_progress=progress)
        finally:
            self.progress.setVisible(False)
        errors = [f"{r.model}: {e}" for r in reports for e in r.errors]
        self.status.setText(
            f"Benchmark done: {len(reports)} models."
            + (f" {len(errors)} error(s): {errors[0]}" if errors else "")
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
        if "recall@1" in [self.metric_box.itemText(i) for i in range(self.metric_box.count())]:
            self.metric_chosen = "recall@1"  # what an embedding slot's upgrade is about
            self.metric_box.setCurrentText("recall@1")
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
