"""The Optimization panel: pick a model, a suite, objective(s), a strategy, a search space and a
budget; watch trials finish on live charts and in the trials table; pause, resume, cancel; make a
variant from the best trial; reopen past studies.

A study runs as a job (services/jobs); the panel only sends intents and observes job progress
through its event bridge, so the window never stalls. It never runs a trial itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.jobs import JobState
from desktop_registry.domain.optimization import (
    ModelType,
    Objective,
    ParameterRange,
    Strategy,
    StudyRequest,
    StudySummary,
    TrialResult,
)
from desktop_registry.errors import RegistryError
from desktop_registry.services.optimization.service import source_kind
from desktop_registry.services.optimization.space import default_space, validate_space
from desktop_registry.ui.event_bridge import EventBridge
from desktop_registry.ui.optimization_charts import BestValueChart, ParameterChart, ParetoChart
from desktop_registry.ui.optimization_space_table import SpaceTable
from desktop_registry.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.jobs.service import JobUpdate
    from desktop_registry.ui.window_api import PanelHost

JOB_KIND = "optimization"
NO_SECOND = "(one objective)"
MAXIMIZED = {Objective.MAXIMIZE_QUALITY, Objective.MAXIMIZE_THROUGHPUT}
TRIAL_COLUMNS = ["#", "State", "Parameters", "Values", "Duration"]


def objective_names(objectives: list[Objective]) -> list[Objective]:
    """balance_quality_speed is itself two objectives: quality and latency."""
    if objectives == [Objective.BALANCE_QUALITY_SPEED]:
        return [Objective.MAXIMIZE_QUALITY, Objective.MINIMIZE_LATENCY]
    return objectives


def short(objective: Objective) -> str:
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
        self.study: str = ""
        self.objectives: list[Objective] = [Objective.MAXIMIZE_QUALITY]
        self.trials: dict[int, TrialResult] = {}
        self.summary: StudySummary | None = None
        self.bridge = EventBridge(ctx.events, self)
        self.bridge.job_progress.connect(self._job_progress)

        # ----- what to optimize -------------------------------------------------------------
        self.model_box = QComboBox()
        self.suite_box = QComboBox()
        self.import_button = QPushButton("Import .prompt.yml…")
        self.import_button.clicked.connect(self._import_dialog)
        self.type_box = QComboBox()
        self.type_box.addItems([t.value for t in ModelType])
        self.type_box.currentTextChanged.connect(lambda _: self.load_defaults())
        self.objective_box = QComboBox()
        self.objective_box.addItems([o.value for o in Objective])
        self.second_box = QComboBox()
        self.second_box.addItems(
            [
                NO_SECOND,
                *(o.value for o in Objective if o not in (Objective.BALANCE_QUALITY_SPEED,)),
            ]
        )
        self.objective_box.currentTextChanged.connect(lambda _: self._objectives_changed())
        self.strategy_box = QComboBox()
        self.strategy_box.addItems([s.value for s in Strategy])
        self.strategy_box.setCurrentText(Strategy.BAYESIAN.value)
        self.trials_box = QSpinBox()
        self.trials_box.setRange(0, 10_000)
        self.trials_box.setValue(20)
        self.trials_box.setSpecialValueText("no limit")
        self.minutes_box = QDoubleSpinBox()
        self.minutes_box.setRange(0, 24 * 60)
        self.minutes_box.setSpecialValueText("no limit")
        self.minutes_box.setSuffix(" min")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(-1, 2**31 - 1)
        self.seed_box.setValue(-1)
        self.seed_box.setSpecialValueText("random")

        self.space = SpaceTable(check=self.check_space)
        self.space.changed.connect(self._refresh_buttons)
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.clicked.connect(self.load_defaults)
        self.add_button = QPushButton("Add option")
        self.add_button.clicked.connect(lambda: self.space.add_row())
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.space.remove_selected)

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(lambda: self.stop(pause=True))
        self.cancel_button.clicked.connect(lambda: self.stop(pause=False))
        self.resume_button.clicked.connect(self.resume)
        self.status = QLabel("Pick a model and a suite, then Start.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Model", self.model_box)
        suite_row = QHBoxLayout()
        suite_row.addWidget(self.suite_box, 1)
        suite_row.addWidget(self.import_button)
        form.addRow("Suite", suite_row)
        form.addRow("Model type", self.type_box)
        form.addRow("Objective", self.objective_box)
        form.addRow("Second objective", self.second_box)
        form.addRow("Strategy", self.strategy_box)
        budget = QHBoxLayout()
        budget.addWidget(self.trials_box)
        budget.addWidget(QLabel("trials"))
        budget.addWidget(self.minutes_box)
        form.addRow("Budget", budget)
        form.addRow("Seed", self.seed_box)
        space_buttons = QHBoxLayout()
        for b in (self.defaults_button, self.add_button, self.remove_button):
            space_buttons.addWidget(b)
        space_buttons.addStretch(1)
        controls = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.cancel_button, self.resume_button):
            controls.addWidget(b)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(form)
        title = QLabel("Search space")
        title.setObjectName("sectionTitle")
        lv.addWidget(title)
        lv.addWidget(self.space, 1)
        lv.addLayout(space_buttons)
        lv.addLayout(controls)
        lv.addWidget(self.status)

        # ----- what it found ----------------------------------------------------------------
        self.progress = QLabel("No study running.")
        self.progress.setObjectName("sectionTitle")
        self.progress.setWordWrap(True)
        self.best_chart, self.param_chart, self.pareto_chart = (
            BestValueChart(),
            ParameterChart(),
            ParetoChart(),
        )
        self.param_box = QComboBox()
        self.param_box.currentTextChanged.connect(lambda _: self.redraw())
        param_tab = QWidget()
        pv = QVBoxLayout(param_tab)
        pv.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Parameter"))
        row.addWidget(self.param_box, 1)
        pv.addLayout(row)
        pv.addWidget(self.param_chart, 1)
        self.charts = QTabWidget()
        self.charts.addTab(self.best_chart, "Best value by trial")
        self.charts.addTab(param_tab, "Parameter vs objective")
        self.charts.addTab(self.pareto_chart, "Pareto front")
        self.trials_table = QTableWidget(0, len(TRIAL_COLUMNS))
        self.trials_table.setHorizontalHeaderLabels(TRIAL_COLUMNS)
        self.trials_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trials_table.verticalHeader().setVisible(False)
        header = self.trials_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.studies = QListWidget()
        self.studies.itemActivated.connect(self._open_study)
        self.studies.itemClicked.connect(self._open_study)
        self.variant_name = QLineEdit()
        self.variant_name.setPlaceholderText("variant name (optional)")
        self.variant_button = QPushButton("Create variant from best")
        self.variant_button.clicked.connect(self.create_variant)
        self.best_label = QLabel("")
        self.best_label.setWordWrap(True)
        past = QWidget()
        sv = QVBoxLayout(past)
        sv.setContentsMargins(0, 0, 0, 0)
        past_title = QLabel("Past studies")
        past_title.setObjectName("sectionTitle")
        sv.addWidget(past_title)
        sv.addWidget(self.studies, 1)
        sv.addWidget(self.best_label)
        sv.addWidget(self.variant_name)
        sv.addWidget(self.variant_button)
        bottom = QSplitter()
        bottom.addWidget(self.trials_table)
        bottom.addWidget(past)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.progress)
        tv.addWidget(self.charts, 1)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()
        self.load_defaults()
        self._objectives_changed()

    # ----- choices ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Models, suites and past studies from the services; keeps what was chosen."""
        _fill(self.model_box, [r.name for r in self.ctx.registry().list()])
        _fill(self.suite_box, [s.name for s in self.ctx.eval_suites().list()])
        self._reload_studies()
        self._refresh_buttons()

    def _reload_studies(self) -> None:
        try:
            summaries = self.service.list()
        except RegistryError as exc:
            self._say(f"Past studies are not available: {exc}")
            summaries = []
        self.studies.clear()
        for s in summaries:
            best = _values_text(
                s.best_values or ([s.best_value] if s.best_value is not None else [])
            )
            item = QListWidgetItem(f"{s.study} — {s.trials} trials, best {best or '–'}")
            item.setData(Qt.ItemDataRole.UserRole, s.study)
            item.setToolTip(f"{s.model} on {s.suite}, {s.strategy}")
            self.studies.addItem(item)

    def source(self) -> str:
        """The kind of server the chosen model runs on: it decides which options exist."""
        name = self.model_box.currentText()
        try:
            return source_kind(self.ctx.registry().resolve(name)) if name else "ollama"
        except RegistryError:
            return "ollama"

    def check_space(self, space: Sequence[ParameterRange]) -> None:
        validate_space(space, self.source())

    def load_defaults(self) -> None:
        """The model type's default space, less what the model's server does not accept."""
        self.space.set_space(default_space(ModelType(self.type_box.currentText()), self.source()))

    def import_suite(self, path: Path) -> None:
        try:
            suite = self.ctx.eval_suites().import_file(path)
        except RegistryError as exc:
            self._say(str(exc))
            return
        _fill(self.suite_box, [s.name for s in self.ctx.eval_suites().list()])
        self.suite_box.setCurrentText(suite.name)
        self._say(f"Imported suite {suite.name!r}.")

    def _import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Import suite", "", "Prompt files (*.yml *.yaml)"
        )
        if name:
            self.import_suite(Path(name))

    def _objectives_changed(self) -> None:
        balance = self.objective_box.currentText() == Objective.BALANCE_QUALITY_SPEED.value
        self.second_box.setEnabled(not balance)

    def chosen_objectives(self) -> list[Objective]:
        first = Objective(self.objective_box.currentText())
        second = self.second_box.currentText()
        if first == Objective.BALANCE_QUALITY_SPEED or second in ("", NO_SECOND):
            return [first]
        return [first, Objective(second)]

    def request(self) -> StudyRequest:
        minutes = self.minutes_box.value()
        seed = self.seed_box.value()
        return StudyRequest(
            model=self.model_box.currentText(),
            suite=self.suite_box.currentText(),
            objectives=self.chosen_objectives(),
            strategy=Strategy(self.strategy_box.currentText()),
            trials=self.trials_box.value(),
            timeout_min=minutes or None,
            seed=None if seed < 0 else seed,
            space=self.space.space(),
            model_type=ModelType(self.type_box.currentText()),
        )

    def start_problem(self) -> str:
        """Why Start is not possible now ('' when it is)."""
        if self.running():
            return "A study is running: pause or cancel it first."
        if not self.model_box.currentText():
            return "Pick a model (sync first if the list is empty)."
        if not self.suite_box.currentText():
            return "Pick a suite or import a .prompt.yml."
        if self.trials_box.value() == 0 and self.minutes_box.value() == 0:
            return "Set a budget: a number of trials, minutes, or both."
        problems = self.space.problems()
        if problems:
            return "Fix the search space: " + problems[0]
        if self.space.rowCount() == 0:
            return "Add at least one option to the search space."
        if len(self.chosen_objectives()) == 2 and len(set(self.chosen_objectives())) == 1:
            return "Pick two different objectives, or one."
        return ""

    def running(self) -> bool:
        return self.job_id is not None

    def _refresh_buttons(self) -> None:
        problem = self.start_problem()
        self.start_button.setEnabled(not problem)
        self.start_button.setToolTip(problem)
        if problem and not self.running() and self.space.problems():
            self._say(problem)
        self.pause_button.setEnabled(self.running())
        self.cancel_button.setEnabled(self.running())
        self.resume_button.setEnabled(not self.running() and bool(self.study))
        self.variant_button.setEnabled(bool(self.summary and self.summary.best_params))

    # ----- running ----------------------------------------------------------------------------
    def start(self) -> None:
        problem = self.start_problem()
        if problem:
            self._say(problem)
            return
        request = self.request()
        try:
            study = self.service.prepare(request)  # checks everything, creates the study
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._open(study, objective_names(request.objectives), clear=True)
        self._submit(f"Optimize {request.model} on {request.suite!r}")

    def resume(self) -> None:
        """Carry on the open study to its budget; every finished trial stays."""
        if not self.study or self.running():
            return
        self._open(self.study, self.objectives, clear=False)
        self._submit(f"Resume study {self.study}")

    def _submit(self, title: str) -> None:
        try:
            job = self.ctx.jobs().submit(JOB_KIND, {"study": self.study}, title)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self.job_id = job.id
        self.progress.setText(f"Study {self.study}: starting…")
        self._say(f"Running study {self.study} as job {job.id} (it also shows in Jobs).")
        self.runner.spawn(self._follow(job.id), "running the optimization study")
        self._refresh_buttons()

    async def _follow(self, job_id: int) -> None:
        jobs = self.ctx.jobs()
        try:
            record = await jobs.wait(job_id)  # submit started it
        finally:
            if self.job_id == job_id:
                self.job_id = None
        self._load_trials()
        self._reload_studies()
        state = record.state
        if state == JobState.SUCCEEDED:
            self._say(f"Study {self.study} finished: {record.message}")
        elif state == JobState.CANCELLED:
            self._say(f"Study {self.study} stopped; its finished trials are kept. Resume goes on.")
        else:
            self._say(f"Study {self.study} {state.value}: {record.error or record.message}")
        self._refresh_buttons()

    def stop(self, *, pause: bool) -> None:
        """Pause and Cancel both end the job after the running trial; the study keeps every
        finished trial. Pause leaves Resume ready; Cancel says the study is done."""
        if self.job_id is None:
            return
        try:
            self.ctx.jobs().cancel(self.job_id)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._say("Pausing after the running trial…" if pause else "Cancelling…")

    def _job_progress(self, update: JobUpdate) -> None:
        if update.job_id != self.job_id:
            return
        if update.message:
            self.progress.setText(f"Study {self.study}: {update.message}")
        trial = update.detail.get("trial") if update.detail else None
        if isinstance(trial, dict) and update.state == JobState.RUNNING:
            result = TrialResult.model_validate(trial)
            if self.trials.get(result.number) != result:
                self.trials[result.number] = result
                self.redraw()

    # ----- one study ----------------------------------------------------------------------------
    def _open_study(self, item: QListWidgetItem) -> None:
        if self.running():
            return
        study = str(item.data(Qt.ItemDataRole.UserRole))
        self.open_study(study)

    def open_study(self, study: str) -> None:
        try:
            summary = self.service.summary(study)
        except RegistryError as exc:
            self._say(str(exc))
            return
        self._open(study, summary.objectives, clear=True)
        self.progress.setText(f"Study {study}: {summary.trials} finished trials.")

    def _open(self, study: str, objectives: list[Objective], *, clear: bool) -> None:
        self.study = study
        self.objectives = objective_names(objectives) or [Objective.MAXIMIZE_QUALITY]
        if clear:
            self.trials = {}
            self.summary = None
        self.charts.setTabEnabled(2, len(self.objectives) == 2)
        if len(self.objectives) == 2:
            self.charts.setCurrentWidget(self.pareto_chart)
        else:
            self.charts.setCurrentIndex(0)
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
        names = [short(o) for o in self.objectives]
        up = self.maximized()
        self.best_chart.show_trials(trials, names[0], up[0])
        _fill(self.param_box, sorted({k for t in trials for k in t.params}))
        self.param_chart.show_trials(trials, self.param_box.currentText(), names[0], up[0])
        if len(self.objectives) == 2:
            self.pareto_chart.show_trials(trials, (names[0], names[1]), (up[0], up[1]))
        self._fill_trials(trials)
        self.best_label.setText(self._best_text())
        self._refresh_buttons()

    def _best_text(self) -> str:
        s = self.summary
        if s is None or not s.best_params:
            return ""
        values = s.best_values or ([s.best_value] if s.best_value is not None else [])
        units = s.units if len(s.units) == len(values) else [""] * len(values)
        shown = ", ".join(
            f"{name} {_short(v)}{' ' + u if u and u != 'score' else ''}"
            for name, v, u in zip((short(o) for o in self.objectives), values, units, strict=False)
        )
        params = ", ".join(f"{k}={_short(v)}" for k, v in sorted(s.best_params.items()))
        text = f"Best (trial {s.best_trial}): {shown}\nwith {params}"
        if s.importances:
            ranked = sorted(s.importances.items(), key=lambda kv: -kv[1])
            text += "\nImportance: " + ", ".join(f"{k} {v:.0%}" for k, v in ranked)
        return text

    def _fill_trials(self, trials: list[TrialResult]) -> None:
        table = self.trials_table
        table.setRowCount(len(trials))
        for row, t in enumerate(reversed(trials)):  # newest first: the one that just finished
            cells = [
                str(t.number),
                t.state.value.lower(),
                ", ".join(f"{k}={_short(v)}" for k, v in sorted(t.params.items())),
                _values_text(t.values or []),
                "" if t.duration_s is None else f"{t.duration_s:.2f} s",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (0, 3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, col, item)

    # ----- results ------------------------------------------------------------------------------
    def create_variant(self) -> None:
        if not self.study:
            return
        name = self.variant_name.text().strip() or self._variant_default()
        self.runner.spawn(self._create_variant(self.study, name), "creating the variant")

    def _variant_default(self) -> str:
        model = self.summary.model if self.summary is not None else self.model_box.currentText()
        return f"{model.split(':', 1)[0]}-tuned"

    async def _create_variant(self, study: str, name: str) -> None:
        record = await self.service.create_variant(study, name)
        self._say(f"Created variant {record.name} from study {study}'s best trial.")
        self.reload()

    def _say(self, message: str) -> None:
        self.status.setText(message)

    def stop_following(self) -> None:
        self.bridge.close()


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _values_text(values: list[float | None]) -> str:
    return ", ".join(_short(v) for v in values if v is not None)


def _fill(box: QComboBox, items: list[str]) -> None:
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems(items)
    if current in items:
        box.setCurrentText(current)
    box.blockSignals(False)


def create(ctx: AppContext, window: PanelHost | None) -> QWidget:
    return OptimizationPanel(ctx, tasks=window.tasks if window is not None else None)
