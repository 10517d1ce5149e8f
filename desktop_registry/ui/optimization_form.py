"""What a study optimizes, as the Optimization panel's setup area: model, suite (or an imported
.prompt.yml), objective(s), strategy, budget, seed, and the search space table.

Turns what the user chose into a StudyRequest and says why it cannot start; never starts one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.optimization import (
    ModelType,
    Objective,
    ParameterRange,
    Strategy,
    StudyRequest,
)
from desktop_registry.errors import RegistryError
from desktop_registry.services.optimization.service import source_kind
from desktop_registry.services.optimization.space import default_space, validate_space
from desktop_registry.ui.optimization_space_table import SpaceTable

if TYPE_CHECKING:
    from desktop_registry.app import AppContext

NO_SECOND = "(none)"


class StudyForm(QWidget):
    """Emits `changed` whenever what Start would do (or whether it can) may have changed."""

    changed = Signal()

    def __init__(self, ctx: AppContext, say: Callable[[str], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.say = say
        self.model_box = QComboBox()
        self.suite_box = QComboBox()
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Import a .prompt.yml suite")
        self.import_button.clicked.connect(self._import_dialog)
        self.type_box = QComboBox()
        self.type_box.addItems([t.value for t in ModelType])
        self.type_box.setToolTip("The model type whose default space Defaults loads")
        self.type_box.currentTextChanged.connect(lambda _: self.load_defaults())
        self.objective_box = QComboBox()
        self.objective_box.addItems([o.value for o in Objective])
        self.objective_box.currentTextChanged.connect(lambda _: self._objectives_changed())
        self.second_box = QComboBox()
        self.second_box.addItems(
            [NO_SECOND, *(o.value for o in Objective if o is not Objective.BALANCE_QUALITY_SPEED)]
        )
        self.second_box.setToolTip("A second objective makes a Pareto study")
        self.second_box.currentTextChanged.connect(lambda _: self.changed.emit())
        self.strategy_box = QComboBox()
        self.strategy_box.addItems([s.value for s in Strategy])
        self.strategy_box.setCurrentText(Strategy.BAYESIAN.value)
        self.trials_box = QSpinBox()
        self.trials_box.setRange(0, 10_000)
        self.trials_box.setValue(20)
        self.trials_box.setSpecialValueText("no limit")
        self.trials_box.setSuffix(" trials")
        self.minutes_box = QDoubleSpinBox()
        self.minutes_box.setRange(0, 24 * 60)
        self.minutes_box.setDecimals(0)
        self.minutes_box.setSpecialValueText("no time limit")
        self.minutes_box.setSuffix(" min")
        for box in (self.trials_box, self.minutes_box):
            box.valueChanged.connect(lambda _: self.changed.emit())
        self.seed_box = QSpinBox()
        self.seed_box.setRange(-1, 2**31 - 1)
        self.seed_box.setValue(-1)
        self.seed_box.setSpecialValueText("random")

        self.space = SpaceTable(check=self.check_space)
        self.space.changed.connect(self.changed.emit)
        self.model_box.currentTextChanged.connect(lambda _: self.space.validate())
        defaults = QPushButton("Defaults")
        defaults.clicked.connect(self.load_defaults)
        add = QPushButton("Add option")
        add.clicked.connect(lambda: self.space.add_row())
        remove = QPushButton("Remove")
        remove.clicked.connect(self.space.remove_selected)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Model", self.model_box)
        suite_row = QHBoxLayout()
        suite_row.addWidget(self.suite_box, 1)
        suite_row.addWidget(self.import_button)
        form.addRow("Suite", suite_row)
        form.addRow("Objective", self.objective_box)
        form.addRow("2nd objective", self.second_box)
        form.addRow("Strategy", self.strategy_box)
        budget = QHBoxLayout()
        budget.addWidget(self.trials_box, 1)
        budget.addWidget(self.minutes_box, 1)
        form.addRow("Budget", budget)
        form.addRow("Seed", self.seed_box)
        form.addRow("Model type", self.type_box)
        title = QLabel("Search space")
        title.setObjectName("sectionTitle")
        space_buttons = QHBoxLayout()
        for button in (defaults, add, remove):
            space_buttons.addWidget(button)
        space_buttons.addStretch(1)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(title)
        right.addWidget(self.space, 1)
        right.addLayout(space_buttons)
        for combo in (self.model_box, self.suite_box, self.objective_box, self.second_box,
                      self.strategy_box, self.type_box):  # fmt: skip
            # Long model and suite names must not widen the window past a 1280-pixel screen.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form, 2)
        layout.addLayout(right, 3)

    # ----- choices ----------------------------------------------------------------------------
    def reload(self) -> None:
        _fill(self.model_box, [r.name for r in self.ctx.registry().list()])
        _fill(self.suite_box, [s.name for s in self.ctx.eval_suites().list()])

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
            self.say(str(exc))
            return
        _fill(self.suite_box, [s.name for s in self.ctx.eval_suites().list()])
        self.suite_box.setCurrentText(suite.name)
        self.say(f"Imported suite {suite.name!r}.")

    def _import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Import suite", "", "Prompt files (*.prompt.yml *.yml *.yaml)"
        )
        if name:
            self.import_suite(Path(name))

    def _objectives_changed(self) -> None:
        balance = self.objective_box.currentText() == Objective.BALANCE_QUALITY_SPEED.value
        self.second_box.setEnabled(not balance)  # it is two objectives already
        self.changed.emit()

    def objectives(self) -> list[Objective]:
        first = Objective(self.objective_box.currentText())
        second = self.second_box.currentText()
        if first is Objective.BALANCE_QUALITY_SPEED or second in ("", NO_SECOND):
            return [first]
        return [first, Objective(second)]

    def request(self) -> StudyRequest:
        seed = self.seed_box.value()
        return StudyRequest(
            model=self.model_box.currentText(),
            suite=self.suite_box.currentText(),
            objectives=self.objectives(),
            strategy=Strategy(self.strategy_box.currentText()),
            trials=self.trials_box.value() or 10_000,  # a time budget alone: stop at the minutes
            timeout_min=self.minutes_box.value() or None,
            seed=None if seed < 0 else seed,
            space=self.space.space(),
            model_type=ModelType(self.type_box.currentText()),
        )

    def problem(self) -> str:
        """Why this request cannot start ('' when it can)."""
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
        objectives = self.objectives()
        if len(objectives) == 2 and objectives[0] == objectives[1]:
            return "Pick two different objectives, or one."
        return ""


def _fill(box: QComboBox, items: list[str]) -> None:
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems(items)
    if current in items:
        box.setCurrentText(current)
    box.blockSignals(False)


fill_box = _fill
