"""A chat's options (temperature, top_p, num_ctx, seed, thinking, system prompt) and the drawer
that holds them above the conversation, with named presets.

The drawer folds away and never takes width from the conversation; presets are read and written
only through ChatPresets (services), and a failure there is shown, never raised to the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.errors import RegistryError

if TYPE_CHECKING:
    from desktop_registry.services.serving.conversations import ChatPresets

NO_PRESET = "No preset"


class ChatOptions(QWidget):
    """Per-chat options: temperature, top_p, num_ctx, seed, system prompt, thinking.

    columns=2 lays the fields out side by side (the drawer); 1 stacks them (a side panel)."""

    def __init__(self, columns: int = 1) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("model default")
        self.temperature.setValue(-0.1)
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(-0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setSpecialValueText("model default")
        self.top_p.setValue(-0.05)
        self.num_ctx = QSpinBox()
        self.num_ctx.setRange(0, 1_048_576)
        self.num_ctx.setSingleStep(1024)
        self.num_ctx.setSpecialValueText("model default")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2_147_483_647)
        self.seed.setSpecialValueText("random")
        self.seed.setValue(-1)
        self.think = QCheckBox("Show thinking (reasoning models)")
        self.think.setChecked(True)
        self.system = QPlainTextEdit()
        self.system.setPlaceholderText("System prompt (optional)")
        self.system.setMaximumHeight(70 if columns > 1 else 90)
        fields = [
            ("Temperature", self.temperature),
            ("top_p", self.top_p),
            ("Context (num_ctx)", self.num_ctx),
            ("Seed", self.seed),
        ]
        for i, (label, field) in enumerate(fields):
            row, col = divmod(i, columns)
            grid.addWidget(QLabel(label), row, col * 2)
            grid.addWidget(field, row, col * 2 + 1)
        rows = (len(fields) + columns - 1) // columns
        grid.addWidget(self.think, rows, 0, 1, columns * 2)
        grid.addWidget(QLabel("System"), rows + 1, 0)
        grid.addWidget(self.system, rows + 1, 1, 1, columns * 2 - 1)
        for col in range(columns):
            grid.setColumnStretch(col * 2 + 1, 1)

    def values(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.temperature.value() >= 0:
            out["temperature"] = round(self.temperature.value(), 2)
        if self.top_p.value() >= 0:
            out["top_p"] = round(self.top_p.value(), 2)
        if self.num_ctx.value() > 0:
            out["num_ctx"] = self.num_ctx.value()
        if self.seed.value() >= 0:
            out["seed"] = self.seed.value()
        return out

    def set_values(self, options: dict[str, Any], system: str) -> None:
        self.temperature.setValue(float(options.get("temperature", -0.1)))
        self.top_p.setValue(float(options.get("top_p", -0.05)))
        self.num_ctx.setValue(int(options.get("num_ctx", 0)))
        self.seed.setValue(int(options.get("seed", -1)))
        self.system.setPlainText(system)


class OptionsDrawer(QFrame):
    """Presets row plus the options, folded away until the Options button opens it."""

    failed = Signal(str)  # a preset could not be read or written: what to tell the user

    def __init__(self, presets: ChatPresets | None) -> None:
        super().__init__()
        self.setObjectName("optionsDrawer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.presets = presets
        self.options = ChatOptions(columns=2)
        self.preset_box = QComboBox()
        self.preset_box.setMinimumContentsLength(14)
        self.save_button = QPushButton("Save as preset…")
        self.delete_button = QPushButton("Delete preset")
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset"))
        row.addWidget(self.preset_box, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.delete_button)
        layout = self.body = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.options)
        self.preset_box.activated.connect(
            lambda _i: self.apply_preset(self.preset_box.currentText())
        )
        self.save_button.clicked.connect(self._ask_and_save)
        self.delete_button.clicked.connect(self.delete_current)
        self.reload_presets()
        self.setVisible(False)

    def reload_presets(self, select: str = "") -> None:
        names: list[str] = []
        if self.presets is not None:
            try:
                names = [p.name for p in self.presets.list()]
            except RegistryError as exc:
                self.failed.emit(f"Chat presets could not be read: {exc}")
        self.preset_box.blockSignals(True)
        self.preset_box.clear()
        self.preset_box.addItems([NO_PRESET, *names])
        if select in names:
            self.preset_box.setCurrentText(select)
        self.preset_box.blockSignals(False)
        self.delete_button.setEnabled(self.preset_box.currentText() != NO_PRESET)

    def apply_preset(self, name: str) -> None:
        self.delete_button.setEnabled(name != NO_PRESET)
        if name == NO_PRESET or self.presets is None:
            return
        try:
            preset = self.presets.get(name)
        except RegistryError as exc:
            self.failed.emit(str(exc))
            return
        keep_think = self.options.think.isChecked()
        self.options.set_values(preset.options, preset.system)
        self.options.think.setChecked(keep_think)

    def save_preset(self, name: str) -> bool:
        if self.presets is None:
            return False
        try:
            saved = self.presets.save(
                name, self.options.system.toPlainText(), self.options.values()
            )
        except RegistryError as exc:
            self.failed.emit(f"The preset was not saved: {exc}")
            return False
        self.reload_presets(select=saved.name)
        return True

    def _ask_and_save(self) -> None:
        current = self.preset_box.currentText()
        name, ok = QInputDialog.getText(
            self, "Save chat preset", "Name", text="" if current == NO_PRESET else current
        )
        if ok:
            self.save_preset(name)

    def delete_current(self) -> None:
        name = self.preset_box.currentText()
        if name == NO_PRESET or self.presets is None:
            return
        try:
            self.presets.delete(name)
        except RegistryError as exc:
            self.failed.emit(f"The preset was not deleted: {exc}")
        self.reload_presets()
