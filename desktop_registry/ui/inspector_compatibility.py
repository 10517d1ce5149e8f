"""The inspector's Compatibility section: will this local model run here, and how well?

Shows a CompatibilityReport (estimate, fit badge, reason, warning, suggestion); the estimate
itself is computed by the compatibility service, off the UI thread, never here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import StorageError
from desktop_registry.ui.theme import BADGE

# The compatibility service imports the memory estimator: loaded in the worker thread, not here.
if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.library.compatibility import (
        CompatibilityReport,
        CompatibilityService,
    )
    from desktop_registry.services.library.hardware import HardwareProfile

BADGE_KEYS = {"green": "local", "amber": "missing", "red": "error"}  # fit badge → theme colour
DARK_INK = "#1f2328"


def badge_ink(background: str) -> str:
    """White or near-black text, whichever reads better on `background` (#rrggbb): the dark
    theme's badge colours are light, where white text would be hard to read."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    bg = luminance(background)
    on_white = 1.05 / (bg + 0.05)
    on_dark = (bg + 0.05) / (luminance(DARK_INK) + 0.05)
    return "white" if on_white >= on_dark else DARK_INK


def context_length_of(record: ModelRecord, hardware: HardwareProfile) -> int:
    """The context Ollama will load this model with here (see `ollama_load_context`)."""
    from desktop_registry.services.library.compatibility import ollama_load_context

    return ollama_load_context(record.parameters, record.details.context_length, hardware)


def compatibility_of(ctx: AppContext, record: ModelRecord) -> CompatibilityReport:
    """A CompatibilityReport for a local model. Run it in a worker thread: the first call imports
    the estimator and probes the hardware. A model the library knows is checked as that entry
    (its catalog figures, smaller siblings as suggestions)."""
    service = ctx.compatibility()
    hardware = service.profile()
    for attempt in range(3):
        try:
            return _check(service, record, hardware)
        except StorageError:
            # Looking up siblings may rebuild the library index while a sync or pull writes the
            # registry: SQLite then refuses the second writer; the whole lookup is retried.
            if attempt == 2:
                raise
            time.sleep(0.25 * (attempt + 1))
    raise AssertionError("unreachable")


def _check(
    service: CompatibilityService, record: ModelRecord, hardware: HardwareProfile
) -> CompatibilityReport:
    from desktop_registry.services.library.memory_estimate import ModelSpec

    context = context_length_of(record, hardware)
    if service.library is not None:
        for entry in service.library.build_entries([record]):
            if entry.model_id == record.id and not entry.remote:
                return service.check_entry(entry, context, hardware=hardware)
    spec = ModelSpec.from_details(
        record.details,
        name=record.name,
        size_bytes=record.size_bytes,
        capabilities=list(record.capabilities),
    )
    return service.check_spec(spec, context, hardware=hardware)


class CompatibilitySection(QWidget):
    """Estimated memory, a coloured fit badge with its reason, then the first warning and
    suggestion; empty rows are hidden."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        heading = QLabel("Compatibility")
        heading.setObjectName("sectionTitle")
        layout.addWidget(heading)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.labels: dict[str, QLabel] = {}
        for key in ("memory", "fit", "reason", "warning", "suggestion"):
            value = QLabel("")
            value.setWordWrap(key != "fit")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = value
        badge = self.labels["fit"]
        badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.labels["reason"].setObjectName("muted")
        fit_cell = QWidget()
        cell = QVBoxLayout(fit_cell)
        cell.setContentsMargins(0, 0, 0, 0)
        cell.setSpacing(2)
        cell.addWidget(badge)
        cell.addWidget(self.labels["reason"])
        self._rows: dict[str, QWidget] = {"memory": self.labels["memory"], "fit": fit_cell}
        form.addRow("Estimated memory", self.labels["memory"])
        form.addRow("Fit", fit_cell)
        for key, label in (("warning", "Warning"), ("suggestion", "Suggestion")):
            form.addRow(label, self.labels[key])
            self._rows[key] = self.labels[key]
        self.form = form
        layout.addLayout(form)
        self.setVisible(False)

    def set_row(self, key: str, text: str) -> None:
        self.labels[key].setText(text)
        self.form.setRowVisible(self._rows[key], bool(text))

    def show_pending(self, record: ModelRecord) -> None:
        """A model was just selected: no verdict yet (and none left from the previous model)."""
        self.setVisible(True)
        self.labels["fit"].setStyleSheet("")
        for key in ("fit", "warning", "suggestion"):
            self.set_row(key, "")
        if record.is_local:
            self.set_row("memory", "checking…")
        else:
            self.set_row("memory", "none here: served remotely by its provider")

    def show_report(self, report: CompatibilityReport | None, error: str = "") -> None:
        """Fill the section from a CompatibilityReport (or say why there is none)."""
        if error or report is None:
            self.set_row("memory", f"cannot estimate: {error or 'no report'}")
            return
        e = report.estimate
        self.set_row("memory", e.describe())
        self.labels["memory"].setToolTip(e.accounting_note())
        colour = BADGE.get(BADGE_KEYS.get(report.fit.badge, "error"), BADGE["error"])
        fit = self.labels["fit"]
        self.set_row("fit", f"● {report.fit.label}")
        fit.setStyleSheet(
            f"QLabel {{ background: {colour}; color: {badge_ink(colour)}; border-radius: 4px;"
            " padding: 2px 8px; font-weight: 600; }"
        )
        self.labels["reason"].setText(report.reason)
        fit.setProperty("badge", report.fit.badge)
        self.set_row("warning", report.warnings[0] if report.warnings else "")
        self.set_row("suggestion", report.suggestions[0].text if report.suggestions else "")
