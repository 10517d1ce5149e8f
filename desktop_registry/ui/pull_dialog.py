"""Pull a model: name with library completion, a progress bar per layer, speed, ETA, cancel, resume.

The pull runs as a job (services/jobs/); closing the dialog never stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.jobs import JobState
from desktop_registry.domain.units import human_bytes, human_duration
from desktop_registry.errors import RegistryError
from desktop_registry.services.jobs.service import JobUpdate

if TYPE_CHECKING:
    from desktop_registry.ui.window_api import DialogOwner


def library_names() -> list[str]:
    """Pullable names from the curated library catalog, when the library feature is installed."""
    try:
        from desktop_registry.services.library.catalog import read_catalog, shipped_catalog_path
    except ImportError:
        return []
    try:
        entries, _aliases = read_catalog(shipped_catalog_path())
    except (RegistryError, OSError, ValueError):
        return []
    return sorted({e.name for e in entries if not e.remote})


class PullDialog(QDialog):
    def __init__(self, window: DialogOwner, name: str = "") -> None:
        super().__init__(window.window())
        self.window_ = window
        self.setWindowTitle("Pull a model")
        self.setMinimumWidth(560)
        self.job_id: int | None = None
        self._running_now = False
        self._downloaded = 0  # bytes the current pull has on disk: what a Resume would keep
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("e.g. llama3.2:3b, qwen3:8b, nomic-embed-text")
        names = library_names()
        if names:
            completer = QCompleter(names, self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.name.setCompleter(completer)
            hint = f"Type to search {len(names)} models from the library catalog."
        else:
            hint = "Type the name as Ollama's library shows it (no catalog to complete from)."
        self.hint = QLabel(hint)
        self.hint.setObjectName("muted")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.overall = QProgressBar()
        self.overall.setVisible(False)
        self.layers_box = QWidget()
        self.layers = QFormLayout(self.layers_box)
        self.layers.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}
        self.pull_button = QPushButton("Pull")
        self.pull_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel pull")
        self.cancel_button.setEnabled(False)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setVisible(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.pull_button, self.resume_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow("Model", self.name)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.overall)
        layout.addWidget(self.layers_box)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.pull_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)
        self.close_button.clicked.connect(self.close)
        self.name.textChanged.connect(self._name_changed)
        self._unsubscribe = window.ctx.jobs().subscribe(self._on_update)

    def start(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.status.setText("Enter a model name.")
            return
        try:
            job = self.window_.ctx.jobs().submit("pull", {"model": name}, f"Pull {name}")
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self.job_id = job.id
        self._downloaded = 0
        self._running(True)
        self.status.setText(f"Starting the pull of {name}…")

    def cancel(self) -> None:
        if self.job_id is not None:
            try:
                self.window_.ctx.jobs().cancel(self.job_id)
            except RegistryError as exc:
                self.status.setText(str(exc))

    def resume(self) -> None:
        if self.job_id is None:
            return
        try:
            self.window_.ctx.jobs().resume(self.job_id)
        except RegistryError as exc:
            self.status.setText(str(exc))
            return
        self._running(True)

    def _name_changed(self, text: str) -> None:
        if not self._running_now:  # a new name: a new pull (Resume belongs to the old one)
            self.pull_button.setEnabled(bool(text.strip()))
            self.resume_button.setVisible(False)

    def _running(self, running: bool) -> None:
        self._running_now = running
        self.pull_button.setEnabled(not running)
        self.name.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setVisible(False)
        self.overall.setVisible(True)

    def _on_update(self, update: JobUpdate) -> None:
        if update.job_id != self.job_id:
            return
        pull = update.detail.get("pull")
        if pull:
            self._show_layers(pull)
            self._downloaded = int(pull.get("completed") or 0)
        if update.state is JobState.RUNNING:
            if update.progress is None:
                self.overall.setRange(0, 0)
            else:
                self.overall.setRange(0, 1000)
                self.overall.setValue(int(update.progress * 1000))
            return
        self._running(False)
        self.overall.setRange(0, 1000)  # no busy animation once the job has ended
        if update.state is JobState.SUCCEEDED:
            self.overall.setValue(1000)
            self.status.setText(f"{self.name.text().strip()} is pulled and in the registry.")
            self.pull_button.setEnabled(False)  # until another name is typed
        else:
            self.overall.setValue(int((update.progress or 0) * 1000))
            self.status.setText(update.line or update.message or update.state.value)
            # Resume keeps what is on disk; with nothing downloaded (an unknown name, Ollama
            # down) there is nothing to resume: fix the name or start Ollama and Pull again.
            self.resume_button.setVisible(self._downloaded > 0)
            self.pull_button.setEnabled(bool(self.name.text().strip()))
        self.adjustSize()  # the whole message shows, however long

    def _show_layers(self, pull: dict[str, Any]) -> None:
        for layer in pull.get("layers", []):
            digest = str(layer["digest"])
            bar = self.bars.get(digest)
            if bar is None:
                bar = QProgressBar()
                bar.setRange(0, 1000)
                self.bars[digest] = bar
                self.layers.addRow(QLabel(digest.removeprefix("sha256:")[:12]), bar)
            total = int(layer["total"]) or 1
            done = int(layer["completed"])
            bar.setValue(int(done * 1000 / total))
            bar.setFormat(f"{human_bytes(done)} / {human_bytes(total)}")
        parts = [str(pull.get("status", ""))]
        if pull.get("total"):
            parts.append(f"{human_bytes(pull['completed'])} of {human_bytes(pull['total'])}")
        if pull.get("speed_bps"):
            parts.append(f"{human_bytes(int(pull['speed_bps']))}/s")
        if pull.get("eta_s") is not None and pull.get("completed", 0) < pull.get("total", 0):
            parts.append(f"ETA {human_duration(float(pull['eta_s']))}")
        self.status.setText("  ·  ".join(p for p in parts if p))

    def done(self, result: int) -> None:
        self._unsubscribe()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._unsubscribe()
        super().closeEvent(event)
