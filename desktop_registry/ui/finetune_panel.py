"""The Fine-tune panel: pick a base and a data file (button or drag and drop), read the validation
report, choose a preset, start; then watch the phase, step n of N, ETA, the live loss chart and
the log, cancel or resume, and open the new variant when it is deployed.

A fine-tune runs as a "finetune" job (services/finetune/run.py) whose trainer is a subprocess;
the panel sends intents and observes job progress. It never trains, and never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.finetune import DataFormat, ValidationReport
from desktop_registry.domain.jobs import JobRecord, JobState
from desktop_registry.errors import RegistryError
from desktop_registry.services.finetune import run as finetune_run
from desktop_registry.ui.event_bridge import EventBridge
from desktop_registry.ui.finetune_charts import LossChart
from desktop_registry.ui.finetune_form import FinetuneForm
from desktop_registry.ui.finetune_progress import progress_text, run_history
from desktop_registry.ui.finetune_report import ValidationView
from desktop_registry.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.jobs.service import JobUpdate
    from desktop_registry.ui.window_api import PanelHost

JOB_KIND = "finetune"
DATA_TAB = 1
NARROW_PX = 900  # below this the setup stacks: form above the report, chart above the log
LOG_LINES = 2000


class FinetunePanel(QWidget):
    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        tasks: TaskRunner | None = None,
        show_model: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = (tasks or TaskRunner(self._say)).reporting_to(self._say)
        self.show_model = show_model
        self.job_id: int | None = None  # the job this panel follows (running or resumable)
        self.running = False
        self.result: dict[str, Any] = {}
        self._validation = 0  # only the newest validation's answer is shown
        self.validating = False
        self.bridge = EventBridge(ctx.events, self)
        self.bridge.job_progress.connect(self._job_progress)
        self.bridge.models_changed.connect(self._models_changed)

        self.missing = QLabel("")
        self.missing.setObjectName("warningBanner")
        self.missing.setWordWrap(True)
        self.missing.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("Pick a base model and a data file, then Start.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = FinetuneForm(ctx, self._say)
        self.form.changed.connect(self._refresh_buttons)
        self.form.data_chosen.connect(self.validate)
        self.report = ValidationView()
        self.report.changed.connect(self._refresh_buttons)
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)
        self.progress = QLabel("No fine-tune running.")
        self.progress.setObjectName("sectionTitle")
        self.progress.setWordWrap(True)
        self.chart = LossChart()
        self.chart.setMinimumHeight(160)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setPlaceholderText("The job's log lines appear here.")
        self.variant = QLabel("")
        self.variant.setWordWrap(True)
        self.variant.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.variant.linkActivated.connect(lambda _: self.open_variant())
        self.open_button = QPushButton("Show in registry")
        self.open_button.clicked.connect(self.open_variant)
        self.open_button.setVisible(False)
        self._lay_out()
        self.check_trainer()
        self.form.reload()
        self._load_last_job()
        self._refresh_buttons()

    def _lay_out(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.form)
        data_page = QWidget()
        dv = QVBoxLayout(data_page)
        dv.setContentsMargins(4, 4, 4, 4)
        dv.addWidget(self.form.data_row)
        dv.addWidget(self.form.drop)
        dv.addWidget(self.report, 1)
        self.setup = QTabWidget()
        self.setup.addTab(scroll, "Model and preset")
        self.setup.addTab(data_page, "Data")
        controls = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            controls.addWidget(button)
        controls.addSpacing(12)
        controls.addWidget(self.progress, 1)
        log_box = QWidget()
        lv = QVBoxLayout(log_box)
        lv.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Log")
        title.setObjectName("sectionTitle")
        lv.addWidget(title)
        lv.addWidget(self.log, 1)
        done = QHBoxLayout()
        done.addWidget(self.variant, 1)
        done.addWidget(self.open_button)
        lv.addLayout(done)
        self.results = QSplitter()
        self.results.addWidget(self.chart)
        self.results.addWidget(log_box)
        self.results.setStretchFactor(0, 3)
        self.results.setStretchFactor(1, 2)
        running = QWidget()
        rv = QVBoxLayout(running)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(controls)
        rv.addWidget(self.results, 1)
        self.outer = QSplitter(Qt.Orientation.Vertical)
        self.outer.addWidget(self.setup)
        self.outer.addWidget(running)
        self.outer.setStretchFactor(0, 1)
        self.outer.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.missing)
        layout.addWidget(self.outer, 1)
        layout.addWidget(self.status)
        self.setAcceptDrops(True)  # a data file dropped anywhere on the panel

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Narrow (1280 px beside the tree and inspector): the log goes under the chart
        instead of a thin column beside it."""
        narrow = event.size().width() < NARROW_PX
        wanted = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.results.orientation() != wanted:
            self.results.setOrientation(wanted)
        super().resizeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.form.drop.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.form.drop.dropEvent(event)

    # ----- availability -----------------------------------------------------------------------
    def check_trainer(self) -> str:
        """The extra's message when torch/transformers/peft are missing ('' when installed)."""
        message = finetune_run.trainer_missing() or ""
        self.missing.setText(message)
        self.missing.setVisible(bool(message))
        return message

    def reload(self) -> None:
        self.form.reload()
        self._refresh_buttons()

    def _models_changed(self) -> None:
        if not self.running:
            self.form.reload()

    # ----- validation ---------------------------------------------------------------------------
    def validate(self, path: Path) -> None:
        """Validate `path` off the UI thread; the newest file's report is the one shown."""
        self._validation += 1
        ticket = self._validation
        self.validating = True
        self.setup.setCurrentIndex(DATA_TAB)
        self.report.clear(f"Validating {path.name}…")
        self._refresh_buttons()
        self.runner.spawn(self._validate(ticket, path), f"validating {path.name}")

    async def _validate(self, ticket: int, path: Path) -> None:
        import asyncio

        from desktop_registry.services.finetune.data_formats import parse_columns
        from desktop_registry.services.finetune.data_validation import validate_file

        fmt, columns = self.form.data_format(), self.form.columns.text().strip()
        try:
            report: ValidationReport = await asyncio.to_thread(
                validate_file,
                path,
                format=DataFormat(fmt) if fmt else None,
                columns=parse_columns(columns) if columns else None,
            )
        except RegistryError as exc:
            if ticket == self._validation:
                self.validating = False
                self.report.clear(f"{path.name} cannot be validated: {exc}")
                self._say(str(exc))
                self._refresh_buttons()
            return
        if ticket != self._validation:
            return  # another file was chosen meanwhile
        self.validating = False
        self.report.show_report(report)
        self._say(
            f"{path.name}: {report.bad_count} bad rows; fix them or tick Drop bad rows."
            if report.bad_count
            else f"{path.name} is clean: {report.good} rows."
        )
        self._refresh_buttons()

    # ----- buttons ------------------------------------------------------------------------------
    def start_problem(self) -> str:
        """Why Start is not possible now ('' when it is)."""
        if self.running:
            return "A fine-tune is running: cancel it first."
        missing = self.missing.text()
        if missing:
            return missing
        problem = self.form.problem()
        if problem:
            return problem
        if self.validating:
            return "Validating the data file…"
        return self.report.problem()

    def _refresh_buttons(self) -> None:
        problem = self.start_problem()
        self.start_button.setEnabled(not problem)
        self.start_button.setToolTip(problem or "Validate, train, and deploy to Ollama")
        self.cancel_button.setEnabled(self.running)
        self.resume_button.setEnabled(not self.running and self._resumable())
        self.form.setEnabled(not self.running)
        self.report.drop_bad.setEnabled(
            not self.running and bool(self.report.report and self.report.report.bad_count)
        )

    def _resumable(self) -> bool:
        if self.job_id is None:
            return False
        try:
            return self.ctx.jobs().can_resume(self.ctx.jobs().get(self.job_id))
        except RegistryError:
            return False

    # ----- running ------------------------------------------------------------------------------
    def start(self) -> None:
        problem = self.start_problem()
        if problem:
            self._say(problem)
            return
        try:
            params = self.form.params()
        except RegistryError as exc:
            self._say(str(exc))
            return
        params["drop_bad_rows"] = self.report.drop_bad.isChecked()
        report = self.report.report
        if report is not None:
            params["validation_fraction"] = report.split.validation_fraction
        title = f"Fine-tune {params['name']} from {params['base']}"
        try:
            job = self.ctx.jobs().submit(JOB_KIND, params, title)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self.chart.clear_points()
        self.log.clear()
        self._follow_job(job.id, f"{title} runs as job {job.id} (it also shows in Jobs).")

    def resume(self) -> None:
        """Carry on a cancelled, failed or killed fine-tune from its last checkpoint."""
        if self.job_id is None or self.running:
            return
        try:
            self.ctx.jobs().resume(self.job_id)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._follow_job(self.job_id, f"Resuming job {self.job_id} from its last checkpoint.")

    def _follow_job(self, job_id: int, message: str) -> None:
        self.job_id = job_id
        self.running = True
        self.result = {}
        self.variant.setText("")
        self.open_button.setVisible(False)
        self.progress.setText("Starting…")
        self._say(message)
        self.runner.spawn(self._follow(job_id), "running the fine-tune")
        self._refresh_buttons()

    async def _follow(self, job_id: int) -> None:
        try:
            record = await self.ctx.jobs().wait(job_id)
        finally:
            if self.job_id == job_id:
                self.running = False
        self._finished(record)

    def _finished(self, record: JobRecord) -> None:
        step = self.chart.train[-1][0] if self.chart.train else 0
        if record.state is JobState.SUCCEEDED:
            self.result = dict(record.result)
            name = str(self.result.get("model", ""))
            val = self.result.get("val_loss")
            if isinstance(val, int | float) and self.result.get("steps"):
                self.chart.add_validation(int(self.result["steps"]), float(val))
            self.progress.setText(f"done · {self.result.get('steps', step)} steps")
            self.variant.setText(f'Created the variant <a href="show"><b>{name}</b></a>.')
            self.open_button.setVisible(self.result.get("model_id") is not None)
            self._say(f"Fine-tune finished: {name} is in the registry and in Ollama.")
        elif record.state is JobState.CANCELLED:
            self.progress.setText(f"cancelled at step {step}")
            self._say(f"Cancelled at step {step}; Resume carries on from the last checkpoint.")
        else:
            self.progress.setText(f"{record.state.value} at step {step}")
            self._say(f"Fine-tune {record.state.value}: {record.error or record.message}")
        self._refresh_buttons()

    def cancel(self) -> None:
        if self.job_id is None or not self.running:
            return
        try:
            self.ctx.jobs().cancel(self.job_id)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._say("Cancelling: the trainer stops; its checkpoints are kept…")

    def _job_progress(self, update: JobUpdate) -> None:
        if update.job_id != self.job_id or update.kind != JOB_KIND:
            return
        if update.line:
            self.log.appendPlainText(update.line)
        detail = update.detail or {}
        if update.state is not JobState.RUNNING or not detail:
            return
        step, loss = detail.get("step"), detail.get("loss")
        phase = detail.get("phase")
        if phase == "training" and isinstance(step, int) and isinstance(loss, float):
            last = self.chart.train[-1][0] if self.chart.train else None
            if last != step:
                self.chart.add_train(step, loss, int(detail.get("total_steps") or 0))
                val, at = detail.get("val_loss"), detail.get("val_step")
                if isinstance(val, float) and at == step:
                    self.chart.add_validation(step, val)
        text = progress_text(detail)
        if text:
            self.progress.setText(text)

    # ----- a past job ---------------------------------------------------------------------------
    def _load_last_job(self) -> None:
        """Reopen the newest fine-tune that can carry on (cancelled, failed, killed): its chart
        and its state, with Resume ready."""
        try:
            jobs = [j for j in self.ctx.jobs().list(limit=50) if j.kind == JOB_KIND]
        except RegistryError as exc:
            self._say(f"Past fine-tunes are not available: {exc}")
            return
        job = next((j for j in jobs if self.ctx.jobs().can_resume(j)), None)
        if job is None:
            return
        self.job_id = job.id
        train, validation, status = run_history(self.ctx.finetune_dir(), job.id)
        self.chart.set_history(train, validation, int(status.get("total_steps") or 0))
        self.log.setPlainText("\n".join(job.log[-LOG_LINES:]))
        self.progress.setText(f"{job.state.value} · {progress_text(status)}".rstrip(" ·"))
        self._say(f"{job.title} is {job.state.value}; Resume carries on from its checkpoint.")

    # ----- the result ---------------------------------------------------------------------------
    def open_variant(self) -> None:
        model_id = self.result.get("model_id")
        if model_id is None:
            return
        if self.show_model is not None:
            self.show_model(int(model_id))
        self._say(f"{self.result.get('model')} is selected in the registry.")

    def _say(self, message: str) -> None:
        self.status.setText(message)

    def stop_following(self) -> None:
        self.bridge.close()


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return FinetunePanel(
        ctx,
        tasks=window.tasks if window is not None else None,
        show_model=getattr(window, "show_model", None),
    )
