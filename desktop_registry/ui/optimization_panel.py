"""The Optimization panel: set up a study (optimization_form), start, pause, cancel or resume it,
watch trials finish on live charts and in the trials table, reopen past studies, and make a
variant from the best trial.

A study runs as a job (services/jobs); the panel sends intents and observes job progress through
its event bridge, so the window never stalls. It never runs a trial itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.jobs import JobState
from desktop_registry.domain.optimization import Objective, StudySummary, TrialResult, TrialState
from desktop_registry.errors import RegistryError
from desktop_registry.ui.event_bridge import EventBridge
from desktop_registry.ui.optimization_charts import BestValueChart, ParameterChart, ParetoChart
from desktop_registry.ui.optimization_form import StudyForm, fill_box
from desktop_registry.ui.optimization_trials import TrialsTable, best_text, best_trials, short
from desktop_registry.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.jobs.service import JobUpdate
    from desktop_registry.ui.window_api import PanelHost

JOB_KIND = "optimization"
MAXIMIZED = {Objective.MAXIMIZE_QUALITY, Objective.MAXIMIZE_THROUGHPUT}
PARETO_TAB = 2
NARROW_PX = 900  # below this width the results stack (see resizeEvent)
ETA = re.compile(r"ETA (\d+) s")


def objective_names(objectives: list[Objective]) -> list[Objective]:
    """balance_quality_speed is itself two objectives: quality and latency."""
    if objectives == [Objective.BALANCE_QUALITY_SPEED]:
        return [Objective.MAXIMIZE_QUALITY, Objective.MINIMIZE_LATENCY]
    return objectives


def label(objective: Objective) -> str:
    return objective.value.split("_", 1)[1]  # maximize_quality → quality


class OptimizationPanel(QWidget):
    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, tasks: TaskRunner | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = (tasks or TaskRunner(self._say)).reporting_to(self._say)
        self.service = ctx.optimization()
        self.job_id: int | None = None
        self.study = ""
        self.resumable = False
        self.objectives: list[Objective] = [Objective.MAXIMIZE_QUALITY]
        self.trials: dict[int, TrialResult] = {}
        self.summary: StudySummary | None = None
        self.bridge = EventBridge(ctx.events, self)
        self.bridge.job_progress.connect(self._job_progress)

        self.status = QLabel("Pick a model and a suite, then Start.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = StudyForm(ctx, self._say)
        self.form.changed.connect(self._refresh_buttons)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(lambda: self.stop_study(pause=True))
        self.cancel_button.clicked.connect(lambda: self.stop_study(pause=False))
        self.resume_button.clicked.connect(self.resume)
        self.progress = QLabel("No study open.")
        self.progress.setObjectName("sectionTitle")
        self.progress.setWordWrap(True)  # a long line must not widen the window past the screen

        self.best_chart, self.param_chart = BestValueChart(), ParameterChart()
        self.pareto_chart = ParetoChart()
        self.param_box = QComboBox()
        self.param_box.currentTextChanged.connect(lambda _: self.redraw())
        param_tab = QWidget()
        pv = QVBoxLayout(param_tab)
        pv.setContentsMargins(0, 4, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Parameter"))
        pick.addWidget(self.param_box, 1)
        pv.addLayout(pick)
        pv.addWidget(self.param_chart, 1)
        self.charts = QTabWidget()
        self.charts.addTab(self.best_chart, "Best by trial")
        self.charts.addTab(param_tab, "Parameter")
        self.charts.addTab(self.pareto_chart, "Pareto front")
        self.charts.setTabToolTip(1, "One parameter against the (first) objective")
        self.trials_table = TrialsTable()
        self.studies = QListWidget()
        self.studies.setWordWrap(True)  # a narrow column wraps a study's line, never scrolls it
        self.studies.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.studies.itemClicked.connect(self._open_study)
        self.best_label = QLabel("")
        self.best_label.setWordWrap(True)
        self.variant_name = QLineEdit()
        self.variant_name.setPlaceholderText("variant name")
        self.variant_name.setToolTip("Empty: <model>-tuned")
        self.variant_button = QPushButton("Create variant from best")
        self.variant_button.clicked.connect(self.create_variant)
        self._lay_out()
        self.reload()
        self.form.load_defaults()

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.cancel_button):
            controls.addWidget(button)
        controls.addWidget(self.resume_button)
        controls.addSpacing(12)
        controls.addWidget(self.progress, 1)
        trials = QWidget()
        tv = QVBoxLayout(trials)
        tv.setContentsMargins(0, 0, 0, 0)
        past = QWidget()
        pv = QVBoxLayout(past)
        pv.setContentsMargins(0, 0, 0, 0)
        for box, text, widget in (
            (tv, "Trials", self.trials_table),
            (pv, "Past studies", self.studies),
        ):
            title = QLabel(text)
            title.setObjectName("sectionTitle")
            box.addWidget(title)
            box.addWidget(widget, 1)
        pv.addWidget(self.best_label)
        pv.addWidget(self.variant_name)
        pv.addWidget(self.variant_button)
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(trials)
        self.side.addWidget(past)
        self.side.setStretchFactor(0, 3)
        self.side.setStretchFactor(1, 2)
        self.results = QSplitter()
        self.results.addWidget(self.charts)
        self.results.addWidget(self.side)
        self.results.setStretchFactor(0, 3)
        self.results.setStretchFactor(1, 2)
        setup = QWidget()
        su = QVBoxLayout(setup)
        su.setContentsMargins(0, 0, 0, 0)
        su.addWidget(self.form, 1)
        su.addLayout(controls)
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(setup)
        outer.addWidget(self.results)
        outer.setStretchFactor(0, 2)
        outer.setStretchFactor(1, 5)
        layout = QVBoxLayout(self)
        layout.addWidget(outer, 1)
        layout.addWidget(self.status)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Narrow (a 1280-pixel screen beside the tree and inspector): the trials table goes
        under the charts, beside the past studies, instead of a thin column next to them."""
        narrow = event.size().width() < NARROW_PX
        wanted = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.results.orientation() != wanted:
            self.results.setOrientation(wanted)
            self.side.setOrientation(
                Qt.Orientation.Horizontal if narrow else Qt.Orientation.Vertical
            )
        super().resizeEvent(event)

    # ----- choices ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Models, suites and past studies from the services; keeps what was chosen."""
        self.form.reload()
        self._reload_studies()
        self._refresh_buttons()

    def import_suite(self, path: Path) -> None:
        self.form.import_suite(path)

    def _reload_studies(self) -> None:
        try:
            summaries = self.service.list()
        except RegistryError as exc:
            self._say(f"Past studies are not available: {exc}")
            summaries = []
        self.studies.clear()
        for s in sorted(summaries, key=lambda s: s.created_at or s.study, reverse=True):
            values = s.best_values or ([s.best_value] if s.best_value is not None else [])
            best = ", ".join(short(v) for v in values) or "–"
            item = QListWidgetItem(f"{s.model} · {s.strategy} · {s.trials} trials · best {best}")
            item.setData(Qt.ItemDataRole.UserRole, s.study)
            item.setToolTip(f"{s.study}\n{s.suite}: {', '.join(o.value for o in s.objectives)}")
            self.studies.addItem(item)

    def start_problem(self) -> str:
        """Why Start is not possible now ('' when it is)."""
        if self.running():
            return "A study is running: pause or cancel it first."
        return self.form.problem()

    def running(self) -> bool:
        return self.job_id is not None

    def _refresh_buttons(self) -> None:
        problem = self.start_problem()
        self.start_button.setEnabled(not problem)
        self.start_button.setToolTip(problem)
        if problem and not self.running() and self.form.space.problems():
            self._say(problem)
        self.pause_button.setEnabled(self.running())
        self.cancel_button.setEnabled(self.running())
        self.resume_button.setEnabled(not self.running() and self.resumable)
        self.variant_button.setEnabled(bool(self.summary and self.summary.best_params))

    # ----- running ----------------------------------------------------------------------------
    def start(self) -> None:
        problem = self.start_problem()
        if problem:
            self._say(problem)
            return
        request = self.form.request()
        try:
            study = self.service.prepare(request)  # checks everything, creates the study
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._open(study, objective_names(request.objectives), clear=True)
        self._submit(f"Optimize {request.model} on {request.suite!r}")

    def resume(self) -> None:
        """Carry on the open study to its budget; every finished trial stays."""
        if self.study and not self.running():
            self._submit(f"Resume study {self.study}")

    def _submit(self, title: str) -> None:
        try:
            job = self.ctx.jobs().submit(JOB_KIND, {"study": self.study}, title)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self.job_id = job.id
        self.resumable = True
        self.progress.setText("Starting…")
        self._say(f"Study {self.study} runs as job {job.id} (it also shows in Jobs).")
        self.runner.spawn(self._follow(job.id), "running the optimization study")
        self._refresh_buttons()

    async def _follow(self, job_id: int) -> None:
        try:
            record = await self.ctx.jobs().wait(job_id)  # submit started it
        finally:
            if self.job_id == job_id:
                self.job_id = None
        self._load_trials()
        self._reload_studies()
        done = self._counted()
        if record.state is JobState.SUCCEEDED:
            self.resumable = False
            self._say(f"Study finished: {done} trials. {self.best_label.text()}")
        elif record.state is JobState.CANCELLED:
            self._say(
                f"Study stopped after {done} trials; they are kept. Resume carries on."
                if self.resumable
                else f"Study cancelled after {done} trials; they are kept."
            )
        else:
            self._say(f"Study {record.state.value}: {record.error or record.message}")
        self.progress.setText(f"{done} trials finished.")
        self._refresh_buttons()

    def stop_study(self, *, pause: bool) -> None:
        """Both end the job now; the running trial is failed and asked again on a resume, every
        finished trial stays. Pause keeps Resume ready; Cancel closes the study for now (it can
        be reopened from Past studies)."""
        if self.job_id is None:
            return
        try:
            self.ctx.jobs().cancel(self.job_id)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self.resumable = pause
        self._say("Pausing…" if pause else "Cancelling…")

    def _job_progress(self, update: JobUpdate) -> None:
        if update.job_id != self.job_id:
            return
        trial = update.detail.get("trial") if update.detail else None
        if isinstance(trial, dict) and update.state is JobState.RUNNING:
            result = TrialResult.model_validate(trial)
            if self.trials.get(result.number) != result:
                self.trials[result.number] = result
                self.redraw()
                self.progress.setText(self._progress_text(update))

    def _progress_text(self, update: JobUpdate) -> str:
        done = self._counted()
        total = round(done / update.progress) if update.progress else 0
        eta = ETA.search(update.message or "")
        return (
            f"Trial {done}{f' of {total}' if total else ''} finished"
            + (f" · about {int(eta.group(1))} s left" if eta else "")
            + f" · {self.best_label.text().splitlines()[0]}"
        )

    def _counted(self) -> int:
        return sum(
            t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in self.trials.values()
        )

    # ----- one study ----------------------------------------------------------------------------
    def _open_study(self, item: QListWidgetItem) -> None:
        if not self.running():
            self.open_study(str(item.data(Qt.ItemDataRole.UserRole)))

    def open_study(self, study: str) -> None:
        try:
            summary = self.service.summary(study)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._open(study, summary.objectives, clear=True)
        self.resumable = True
        self.progress.setText(f"{summary.trials} trials finished ({summary.model}).")
        self._say(f"Opened study {study}; Resume carries it on to its budget.")
        self._refresh_buttons()

    def _open(self, study: str, objectives: list[Objective], *, clear: bool) -> None:
        self.study = study
        self.objectives = objective_names(objectives) or [Objective.MAXIMIZE_QUALITY]
        if clear:
            self.trials = {}
            self.summary = None
        two = len(self.objectives) == 2
        self.charts.setTabEnabled(PARETO_TAB, two)
        self.charts.setCurrentIndex(PARETO_TAB if two else 0)
        self._load_trials()

    def _load_trials(self) -> None:
        if not self.study:
            return
        try:
            self.trials = {t.number: t for t in self.service.trials(self.study)}
            self.summary = self.service.summary(self.study)
        except RegistryError as exc:
            self._say(str(exc))
        self.redraw()

    def maximized(self) -> list[bool]:
        """Each objective's direction: the study's own once it exists, else the objective's."""
        if self.summary is not None and len(self.summary.directions) == len(self.objectives):
            return [d == "maximize" for d in self.summary.directions]
        return [o in MAXIMIZED for o in self.objectives]

    def redraw(self) -> None:
        trials = [self.trials[n] for n in sorted(self.trials)]
        names = [label(o) for o in self.objectives]
        up = self.maximized()
        self.best_chart.show_trials(trials, names[0], up[0])
        fill_box(self.param_box, sorted({k for t in trials for k in t.params}))
        self.param_chart.show_trials(trials, self.param_box.currentText(), names[0], up[0])
        if len(self.objectives) == 2:
            self.pareto_chart.show_trials(trials, (names[0], names[1]), (up[0], up[1]))
        best = best_trials(trials, up)
        self.trials_table.show_trials(trials, names, [t.number for t in best])
        self.best_label.setText(best_text(best, names, self.summary))
        self._refresh_buttons()

    # ----- results ------------------------------------------------------------------------------
    def create_variant(self) -> None:
        if not self.study:
            return
        model = self.summary.model if self.summary else self.form.model_box.currentText()
        name = self.variant_name.text().strip() or f"{model.split(':', 1)[0]}-tuned"
        self.runner.spawn(self._create_variant(self.study, name), "creating the variant")

    async def _create_variant(self, study: str, name: str) -> None:
        record = await self.service.create_variant(study, name)
        self._say(f"Created variant {record.name} from the study's best trial.")
        self.reload()

    def _say(self, message: str) -> None:
        self.status.setText(message)

    def stop_following(self) -> None:
        self.bridge.close()


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return OptimizationPanel(ctx, tasks=window.tasks if window is not None else None)
