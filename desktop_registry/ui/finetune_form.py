"""What a fine-tune trains, as the Fine-tune panel's setup area: the base model (greyed, with the
reason, when no Hugging Face weights are known for it), the data file (button or drag and drop),
the preset and its editable settings, and the new variant's name.

Turns what the user chose into a job's params and says, field by field, why it cannot start;
never starts a job nor reads the data file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.finetune import TrainingPreset
from desktop_registry.domain.models import Source
from desktop_registry.errors import RegistryError
from desktop_registry.services.finetune.presets import DEFAULT_PRESET, edit_preset, get_preset

if TYPE_CHECKING:
    from desktop_registry.app import AppContext

PRESETS = (("efficient", "efficient"), ("balanced", "balanced"), ("high quality", "high_quality"))
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".md")
FORMATS = ("auto", "jsonl", "csv", "text", "conversation")
# (setting name as the presets service knows it, label); the grid shows two per row.
SETTINGS = (
    ("learning_rate", "Learning rate"),
    ("batch_size", "Batch size"),
    ("epochs", "Epochs"),
    ("warmup_steps", "Warmup steps"),
    ("max_steps", "Max steps"),
    ("gradient_accumulation_steps", "Grad. accumulation"),
    ("seed", "Seed"),
    ("lora.rank", "LoRA rank"),
    ("lora.alpha", "LoRA alpha"),
    ("lora.dropout", "LoRA dropout"),
    ("lora.target_modules", "Target modules"),
)
NAME = re.compile(r"^[a-z0-9][a-z0-9._\-/]*(:[a-z0-9._\-]+)?$")
ERROR_STYLE = "border: 1px solid #cf222e;"


def setting_text(preset: TrainingPreset, name: str) -> str:
    value: Any = (
        getattr(preset.lora, name[5:]) if name.startswith("lora.") else getattr(preset, name)
    )
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return ",".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


class DropZone(QLabel):
    """A box that takes one dropped data file (a file manager's drag) and reports its path."""

    dropped = Signal(object)  # Path

    def __init__(self) -> None:
        super().__init__("Drop a .jsonl, .csv or .txt file here")
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName("dropZone")
        self.setStyleSheet("#dropZone { border: 1px dashed palette(mid); padding: 6px; }")
        self.setWordWrap(True)

    @staticmethod
    def file_of(event: QDragEnterEvent | QDropEvent) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return files[0] if len(files) == 1 else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.file_of(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self.file_of(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(path)


class FinetuneForm(QWidget):
    """Emits `changed` whenever what Start would do may have changed; `data_chosen` with the
    path of a newly chosen data file (the panel validates it)."""

    changed = Signal()
    data_chosen = Signal(object)  # Path

    def __init__(self, ctx: AppContext, say: Callable[[str], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.say = say
        self.base_box = QComboBox()
        self.base_box.setModel(QStandardItemModel(self.base_box))
        self.base_box.currentIndexChanged.connect(lambda _: self._base_changed())
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("from the Hugging Face cache")
        self.weights.setToolTip(
            "A folder with the base model's Hugging Face weights (config.json, safetensors). "
            "Empty: the mapped model in your Hugging Face cache. Nothing is downloaded."
        )
        self.weights.textChanged.connect(lambda _: self._weights_changed())
        self.weights_button = QPushButton("Folder…")
        self.weights_button.clicked.connect(self._weights_dialog)
        self.data = QLineEdit()
        self.data.setPlaceholderText("training data file")
        self.data.editingFinished.connect(self._data_typed)
        self.data_button = QPushButton("Choose…")
        self.data_button.clicked.connect(self._data_dialog)
        self.drop = DropZone()
        self.drop.dropped.connect(self.set_data)
        self.format_box = QComboBox()
        self.format_box.addItems(FORMATS)
        self.format_box.setToolTip("auto: from the file name (.jsonl, .csv, .txt)")
        self.format_box.currentTextChanged.connect(lambda _: self._revalidate())
        self.columns = QLineEdit()
        self.columns.setPlaceholderText("csv: prompt=COL,completion=COL")
        self.columns.editingFinished.connect(self._revalidate)
        self.preset_box = QComboBox()
        for text, key in PRESETS:
            self.preset_box.addItem(text, key)
        self.preset_box.currentIndexChanged.connect(lambda _: self.load_preset())
        self.fields: dict[str, QLineEdit] = {}
        for name, _label in SETTINGS:
            edit = QLineEdit()
            edit.setObjectName(name)
            edit.textChanged.connect(lambda _t: self.changed.emit())
            self.fields[name] = edit
        self.name = QLineEdit()
        self.name.setPlaceholderText("new model name, e.g. llama-support")
        self.name.textChanged.connect(lambda _: self.changed.emit())
        self._lay_out()
        self.preset_box.setCurrentIndex([k for _t, k in PRESETS].index(DEFAULT_PRESET))
        self.load_preset()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Base model", self.base_box)
        form.addRow("Variant name", self.name)
        weights = QHBoxLayout()
        weights.addWidget(self.weights, 1)
        weights.addWidget(self.weights_button)
        form.addRow("Weights", weights)
        form.addRow("Preset", self.preset_box)
        settings = QGroupBox("Settings (edit any; the preset is not changed)")
        grid = QGridLayout(settings)
        grid.setContentsMargins(6, 6, 6, 6)
        for index, (name, text) in enumerate(SETTINGS):
            row, pair = divmod(index, 2)
            grid.addWidget(QLabel(text), row, pair * 2)
            grid.addWidget(self.fields[name], row, pair * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(settings)
        layout.addStretch(1)
        # The data file's row lives on the panel's Data page, beside its report.
        self.data_row = QWidget()
        data = QHBoxLayout(self.data_row)
        data.setContentsMargins(0, 0, 0, 0)
        data.addWidget(QLabel("Data"))
        data.addWidget(self.data, 3)
        data.addWidget(self.data_button)
        data.addWidget(self.format_box)
        data.addWidget(self.columns, 2)

    # ----- base models ------------------------------------------------------------------------
    def reload(self) -> None:
        """Local models from the registry: enabled when weights are known for them (the mapping
        table, the user's overrides, or the Weights folder), greyed with the reason otherwise."""
        chosen = self.base()
        try:
            records = [r for r in self.ctx.registry().list() if r.source is Source.OLLAMA]
            table = self.ctx.base_models()
        except RegistryError as exc:
            self.say(f"The base models are not available: {exc}")
            records, table = [], None
        model: QStandardItemModel = self.base_box.model()  # type: ignore[assignment]
        self.base_box.blockSignals(True)
        model.clear()
        for record in sorted(records, key=lambda r: r.name):
            item = QStandardItem(record.name)
            try:
                target = table.lookup(record.name) if table is not None else None
            except RegistryError as exc:
                target, why = None, str(exc)
            else:
                why = (
                    f"No Hugging Face weights are known for {record.name}: give a Weights "
                    "folder, or add it to base_models.json in the fine-tune folder."
                )
            item.setData(target or "", Qt.ItemDataRole.UserRole)
            item.setData(
                why if target is None else f"Trains on {target}", Qt.ItemDataRole.ToolTipRole
            )
            model.appendRow(item)
        self.base_box.blockSignals(False)
        self._grey_unknown()
        if chosen and self.base_box.findText(chosen) >= 0:
            self.base_box.setCurrentIndex(self.base_box.findText(chosen))
        else:
            first = self._first_enabled()
            self.base_box.setCurrentIndex(first)
        self._base_changed()

    def _grey_unknown(self) -> None:
        model: QStandardItemModel = self.base_box.model()  # type: ignore[assignment]
        folder = bool(self.weights.text().strip())
        for row in range(model.rowCount()):
            item = model.item(row)
            item.setEnabled(folder or bool(item.data(Qt.ItemDataRole.UserRole)))

    def _first_enabled(self) -> int:
        model: QStandardItemModel = self.base_box.model()  # type: ignore[assignment]
        rows = [r for r in range(model.rowCount()) if model.item(r).isEnabled()]
        return rows[0] if rows else -1

    def base(self) -> str:
        return self.base_box.currentText() if self.base_box.currentIndex() >= 0 else ""

    def base_enabled(self) -> bool:
        model: QStandardItemModel = self.base_box.model()  # type: ignore[assignment]
        index = self.base_box.currentIndex()
        return index >= 0 and model.item(index).isEnabled()

    def _base_changed(self) -> None:
        base = self.base()
        if base:
            self.name.setPlaceholderText(f"e.g. {base.split(':', 1)[0].split('/')[-1]}-ft")
        self.changed.emit()

    def _weights_changed(self) -> None:
        self._grey_unknown()
        if not self.base_enabled():
            self.base_box.setCurrentIndex(self._first_enabled())
        self.changed.emit()

    def _weights_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Base model weights (Hugging Face folder)")
        if folder:
            self.weights.setText(folder)

    # ----- data ---------------------------------------------------------------------------------
    def _data_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Training data", "", "Training data (*.jsonl *.json *.csv *.tsv *.txt *.md)"
        )
        if path:
            self.set_data(Path(path))

    def _data_typed(self) -> None:
        text = self.data.text().strip()
        if text and Path(text).expanduser() != self.data_path():
            self.set_data(Path(text).expanduser())

    def set_data(self, path: Path) -> None:
        self._data = path
        self.data.setText(str(path))
        self.drop.setText(f"{path.name}: drop another file to replace it")
        self.data_chosen.emit(path)
        self.changed.emit()

    def data_path(self) -> Path | None:
        return getattr(self, "_data", None)

    def _revalidate(self) -> None:
        path = self.data_path()
        if path is not None:
            self.data_chosen.emit(path)

    def data_format(self) -> str | None:
        text = self.format_box.currentText()
        return None if text == "auto" else text

    # ----- preset and settings ------------------------------------------------------------------
    def preset_name(self) -> str:
        return str(self.preset_box.currentData())

    def load_preset(self) -> None:
        preset = get_preset(self.preset_name())
        for name, edit in self.fields.items():
            edit.blockSignals(True)
            edit.setText(setting_text(preset, name))
            edit.blockSignals(False)
        self.changed.emit()

    def settings_changes(self) -> dict[str, Any]:
        """The settings the user edited (typed as the preset has them); raises a UserInputError
        naming the field when one is invalid."""
        preset = get_preset(self.preset_name())
        edited: dict[str, Any] = {
            name: edit.text().strip()
            for name, edit in self.fields.items()
            if edit.text().strip() != setting_text(preset, name)
        }
        if "max_steps" in edited and edited["max_steps"] in ("", "0"):
            edited["max_steps"] = None
        if not edited:
            return {}
        checked = edit_preset(preset, edited)
        return {name: _typed(checked, name) for name in edited}

    def settings_problem(self) -> str:
        for edit in self.fields.values():
            edit.setStyleSheet("")
        try:
            self.settings_changes()
        except RegistryError as exc:
            message = str(exc)
            for name, edit in self.fields.items():
                if f"{name}:" in message:
                    edit.setStyleSheet(ERROR_STYLE)
            return message
        return ""

    # ----- the whole --------------------------------------------------------------------------
    def variant_name(self) -> str:
        return self.name.text().strip()

    def problem(self) -> str:
        """Why Start is not possible with these choices ('' when it is), the field named."""
        if not self.base():
            return "Base model: sync Ollama first; fine-tunes start from a local model."
        if not self.base_enabled():
            tip = self.base_box.itemData(self.base_box.currentIndex(), Qt.ItemDataRole.ToolTipRole)
            return str(tip)
        folder = self.weights.text().strip()
        if folder and not (Path(folder).expanduser() / "config.json").is_file():
            return f"Weights: {folder} has no config.json; choose a Hugging Face model folder."
        if self.data_path() is None:
            return "Data: choose or drop a training file."
        settings = self.settings_problem()
        if settings:
            return settings
        name = self.variant_name()
        if not name:
            return "Variant name: name the new model."
        if not NAME.match(name):
            return (
                f"Variant name: {name!r} is not an Ollama model name (lower-case letters, "
                "digits, . _ - /, and an optional :tag)."
            )
        return ""

    def params(self) -> dict[str, Any]:
        """The finetune job's params (services/finetune/run.py) for what is chosen now."""
        params: dict[str, Any] = {
            "base": self.base(),
            "data": str(self.data_path()),
            "preset": self.preset_name(),
            "name": self.variant_name(),
            "settings": self.settings_changes(),
        }
        if self.weights.text().strip():
            params["hf_model"] = str(Path(self.weights.text().strip()).expanduser())
        if self.data_format():
            params["format"] = self.data_format()
        if self.columns.text().strip():
            params["columns"] = self.columns.text().strip()
        return params


def _typed(preset: TrainingPreset, name: str) -> Any:
    value: Any = (
        getattr(preset.lora, name[5:]) if name.startswith("lora.") else getattr(preset, name)
    )
    return list(value) if isinstance(value, tuple) else value
