"""The "New experiment" dialog (type, base, recipe form with validation) and "Open in MLflow".

Builds a recipe and hands it to ExperimentService; never creates anything the recipe check refused.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.experiments.recipes import (
    OPTION_NAMES,
    CombinationRule,
    ExperimentType,
    GenerationOptions,
    Recipe,
    parse_recipe,
)
from desktop_registry.services.experiments.service import ExperimentService
from desktop_registry.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_registry.app import AppContext

TYPE_LABELS = {
    ExperimentType.PARAMETER_TUNING: "Parameter tuning",
    ExperimentType.PROMPT_ENGINEERING: "Prompt engineering",
    ExperimentType.ENSEMBLE: "Ensemble",
    ExperimentType.FINE_TUNING: "Fine-tuned adapter",
}


def _range_hint(option: str) -> str:
    field = GenerationOptions.model_fields[option]
    bounds = [str(m) for m in field.metadata]
    return ", ".join(bounds).replace("Ge(ge=", "≥ ").replace("Le(le=", "≤ ").replace(")", "")


def mlflow_location_text(record: ModelRecord) -> str:
    """What "Open in MLflow" shows: the tracking URI and the run id (or why there is none)."""
    tracking = record.parameters.get("mlflow") or {}
    if not tracking:
        return f"{record.name} is not tracked in MLflow."
    lines = [f"Tracking URI: {tracking.get('tracking_uri', '-')}"]
    if tracking.get("run_id"):
        lines.append(f"Run ID: {tracking['run_id']}")
    if tracking.get("experiment"):
        lines.append(f"Experiment: {tracking['experiment']}")
    if tracking.get("registered_model"):
        lines.append(
            f"Registered model: {tracking['registered_model']} v{tracking.get('model_version', '')}"
        )
    if tracking.get("error"):
        lines.append(f"Not tracked: {tracking['error']}")
    return "\n".join(lines)


def show_mlflow_location(parent: QWidget | None, record: ModelRecord) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, "Open in MLflow", mlflow_location_text(record))
    box.setParent(parent, box.windowFlags())
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box


class ExperimentDialog(QDialog):
    def __init__(
        self,
        service: ExperimentService,
        base: ModelRecord,
        parent: QWidget | None = None,
        tasks: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self._runner = tasks
        self.base = base
        self.created: ModelRecord | None = None
        self.pending: asyncio.Future[None] | None = None
        self.setWindowTitle(f"New experiment from {base.name}")

        self.type_box = QComboBox()
        for kind, label in TYPE_LABELS.items():
            self.type_box.addItem(label, kind.value)
        self.name = QLineEdit()
        self.name.setPlaceholderText("name of the new model, e.g. llama-cold")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._options_page())
        self.pages.addWidget(self._prompt_page())
        self.pages.addWidget(self._ensemble_page())
        self.pages.addWidget(self._fine_tune_page())
        self.type_box.currentIndexChanged.connect(self.pages.setCurrentIndex)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.outcome = QLabel()  # not `result`: QDialog.result() is the dialog's exit code
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.create_button = QPushButton("Create")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)
        self.mlflow_button = QPushButton("Open in MLflow")
        self.mlflow_button.setEnabled(False)
        self.mlflow_button.clicked.connect(
            lambda: self.created and show_mlflow_location(self, self.created)
        )
        close = QPushButton("Close")
        close.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Type", self.type_box)
        form.addRow("Base", QLabel(base.name))
        form.addRow("Name", self.name)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.mlflow_button, close, self.create_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.outcome)
        layout.addLayout(buttons)

    # ----- pages --------------------------------------------------------------------------
    def _options_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.option_edits: dict[str, QLineEdit] = {}
        for option in OPTION_NAMES:
            edit = QLineEdit()
            edit.setPlaceholderText(
                "comma-separated" if option == "stop" else _range_hint(option) or "integer"
            )
            self.option_edits[option] = edit
            form.addRow(option, edit)
        return page

    def _prompt_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.system = QPlainTextEdit()
        self.system.setPlaceholderText("You are … {{variable}} placeholders are filled below")
        self.variables = QLineEdit()
        self.variables.setPlaceholderText("name=value; other=value")
        self.few_shot = QPlainTextEdit()
        self.few_shot.setPlaceholderText("one example per line: user text => assistant text")
        self.template = QLineEdit()
        self.template.setPlaceholderText("optional Ollama template replacing the base's")
        form.addRow("System prompt", self.system)
        form.addRow("Variables", self.variables)
        form.addRow("Few-shot", self.few_shot)
        form.addRow("Template", self.template)
        return page

    def _ensemble_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.members = QListWidget()
        self.judge = QComboBox()
        self.judge.addItem("(none)", "")
        for record in self.service.repository.list(capability="completion"):
            item = QListWidgetItem(record.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = record.name == self.base.name
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.members.addItem(item)
            self.judge.addItem(record.name, record.name)
        self.rule = QComboBox()
        for rule in CombinationRule:
            self.rule.addItem(rule.value.replace("_", " "), rule.value)
        form.addRow("Members (2–5)", self.members)
        form.addRow("Combination", self.rule)
        form.addRow("Judge model", self.judge)
        return page

    def _fine_tune_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.adapter = QLineEdit()
        self.adapter.setPlaceholderText("/path/to/adapter.gguf")
        self.dataset = QLineEdit()
        form.addRow("Adapter file", self.adapter)
        form.addRow("Dataset", self.dataset)
        return page

    # ----- recipe -------------------------------------------------------------------------
    def recipe(self) -> dict[str, Any]:
        kind = str(self.type_box.currentData())
        recipe: dict[str, Any] = {"type": kind, "name": self.name.text().strip()}
        if kind != ExperimentType.ENSEMBLE.value:
            recipe["base"] = self.base.name
        options: dict[str, Any] = {}
        for option, edit in self.option_edits.items():
            text = edit.text().strip()
            if not text:
                continue
            if option == "stop":
                options[option] = [s.strip() for s in text.split(",") if s.strip()]
                continue
            try:
                options[option] = json.loads(text)
            except ValueError:
                options[option] = text  # the recipe check names the field and the problem
        if kind == ExperimentType.PARAMETER_TUNING.value:
            recipe["options"] = options
        elif kind == ExperimentType.PROMPT_ENGINEERING.value:
            variables = {}
            for pair in self.variables.text().split(";"):
                key, _, value = pair.partition("=")
                if key.strip():
                    variables[key.strip()] = value.strip()
            shots = []
            for line in self.few_shot.toPlainText().splitlines():
                user, sep, assistant = line.partition("=>")
                if sep:
                    shots.append({"user": user.strip(), "assistant": assistant.strip()})
            recipe.update(
                system=self.system.toPlainText(),
                variables=variables,
                few_shot=shots,
                template=self.template.text(),
                options=options,
            )
        elif kind == ExperimentType.ENSEMBLE.value:
            members = [
                self.members.item(i).text()
                for i in range(self.members.count())
                if self.members.item(i).checkState() == Qt.CheckState.Checked
            ]
            recipe.update(
                members=members,
                rule=self.rule.currentData(),
                judge=self.judge.currentData() or None,
                options=options,
            )
        else:
            recipe.update(adapter_path=self.adapter.text().strip(), dataset=self.dataset.text())
        return recipe

    def submit(self) -> None:
        self.error.clear()
        try:
            recipe = parse_recipe(self.recipe())
        except UserInputError as exc:
            self.error.setText(str(exc))
            return
        # Failures the service did not foresee still end on the dialog's error line.
        runner = (self._runner or TaskRunner(self.error.setText)).reporting_to(self._failed)
        self.pending = runner.spawn(self._create(recipe), "creating the experiment")

    def _failed(self, message: str) -> None:
        self.outcome.clear()
        self.error.setText(message)

    async def _create(self, recipe: Recipe) -> None:
        self.create_button.setEnabled(False)
        self.outcome.setText("Creating…")
        try:
            record = await self.service.create(recipe)
        except RegistryError as exc:
            self.error.setText(str(exc))
            self.outcome.clear()
            return
        finally:
            self.create_button.setEnabled(True)
        self.created = record
        lineage = " ← ".join(r.name for r in self.service.lineage(record))
        self.outcome.setText(f"Created {record.name}.  Lineage: {lineage}")
        self.mlflow_button.setEnabled(bool(record.parameters.get("mlflow")))


def open_experiment_dialog(
    ctx: AppContext, parent: QWidget | None, base: ModelRecord, tasks: TaskRunner | None = None
) -> ExperimentDialog:
    """Opened from the inspector: a non-modal dialog that creates one experiment from `base`."""
    dialog = ExperimentDialog(ctx.experiments(), base, parent, tasks)
    dialog.open()
    return dialog
