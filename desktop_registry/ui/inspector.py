"""The model inspector: everything the registry knows about one model, and what to do with it.

Shows and asks; deleting, unloading, chatting and experiments are done by the window
(model_actions.py). The Compatibility section is inspector_compatibility.py.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain import ModelRecord
from desktop_registry.domain.local import LoadedModel
from desktop_registry.domain.text import shown_safely
from desktop_registry.domain.units import human_bytes
from desktop_registry.errors import RegistryError
from desktop_registry.ui.inspector_compatibility import CompatibilitySection, compatibility_of
from desktop_registry.ui.inspector_performance import PerformanceTable
from desktop_registry.ui.model_tree import CATEGORY_LABELS

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.library.compatibility import CompatibilityReport

CATEGORY_ORIGIN = {
    "server": "reported by the server",
    "catalog": "from the remote catalog",
    "heuristic": "guessed from name/metadata (old server)",
    "user": "set by you",
}


def category_origin(record: ModelRecord) -> str:
    """Where the model's category came from, in words; a model the registry made (an ensemble,
    an experiment) says so rather than naming a server that never saw it."""
    if record.category_source.value == "user":
        return CATEGORY_ORIGIN["user"]
    if "ensemble" in record.tags:
        return "an ensemble: answers like its members"
    if record.kind.value != "base" and record.parent_id is not None:
        return "inherited from its base model"
    return CATEGORY_ORIGIN.get(record.category_source.value, record.category_source.value)


class Collapsible(QWidget):
    """A titled, read-only text block that opens on click (template, system prompt…)."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.button = QToolButton()
        self.button.setText(title)
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setStyleSheet("QToolButton { border: none; }")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumHeight(140)
        self.text.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.text)
        self.button.toggled.connect(self._toggle)

    def _toggle(self, opened: bool) -> None:
        self.text.setVisible(opened)
        self.button.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)

    def set_text(self, text: str) -> None:
        self.text.setPlainText(text)
        self.setVisible(bool(text.strip()))


class ModelInspector(QScrollArea):
    chat_requested = Signal(int)
    experiment_requested = Signal(int)
    delete_requested = Signal(int)
    unload_requested = Signal(int)
    copy_requested = Signal(str)
    model_link = Signal(int)
    MIN_WIDTH = 280  # the fields and two buttons a row stay readable

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.record: ModelRecord | None = None
        self._shown_with: dict[str, Any] = {}
        self.offline_sources: set[str] = set()  # sources not answering (their models unusable)
        body = QWidget()
        self.setWidget(body)
        outer = QVBoxLayout(body)
        self.title = QLabel("Select a model")
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a name is never markup
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.title)
        buttons = QGridLayout()
        self.chat_button = QPushButton("Chat")
        self.copy_button = QPushButton("Copy name")
        self.unload_button = QPushButton("Unload")
        self.delete_button = QPushButton("Delete…")
        self.experiment_button = QPushButton("New experiment…")
        self.experiment_button.setToolTip("Make a variant of this model: options, prompt, …")
        self.mlflow_button = QPushButton("Open in MLflow")
        self.mlflow_box: QMessageBox | None = None  # the last "Open in MLflow" message box
        for i, b in enumerate(self._buttons()):
            buttons.addWidget(b, i // 2, i % 2)  # two by two: fits a narrow inspector
            b.setEnabled(False)
        outer.addLayout(buttons)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("source", "Source"),
            ("status", "Status"),
            ("category", "Category"),
            ("capabilities", "Capabilities"),
            ("family", "Family"),
            ("parameters", "Parameter size"),
            ("quantization", "Quantization"),
            ("context", "Context length"),
            ("size", "Size on disk"),
            ("memory", "In memory"),
            ("endpoint", "Endpoint"),
            ("digest", "Digest"),
            ("lineage", "Lineage"),
            ("performance", "Performance"),
            ("description", "Description"),
        ):
            value = QLabel("")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            value.setOpenExternalLinks(False)
            value.linkActivated.connect(self._link)
            self.form.addRow(label, value)
            self.fields[key] = value
        outer.addLayout(self.form)
        self.performance = PerformanceTable()  # the whole width: suite, metric, value with unit
        outer.addWidget(self.performance)
        self.compat_box = CompatibilitySection()
        self.compat = self.compat_box.labels  # memory, fit, reason, warning, suggestion
        outer.addWidget(self.compat_box)
        self.template = Collapsible("Template")
        self.system = Collapsible("System prompt")
        self.options = Collapsible("Parameters")
        self.license = Collapsible("License")
        for block in (self.template, self.system, self.options, self.license):
            outer.addWidget(block)
            block.setVisible(False)
        outer.addStretch(1)
        self.chat_button.clicked.connect(lambda: self._emit(self.chat_requested))
        self.delete_button.clicked.connect(lambda: self._emit(self.delete_requested))
        self.unload_button.clicked.connect(lambda: self._emit(self.unload_requested))
        self.copy_button.clicked.connect(
            lambda: self.record and self.copy_requested.emit(self.record.name)
        )
        self.experiment_button.clicked.connect(lambda: self._emit(self.experiment_requested))
        self.mlflow_button.clicked.connect(self.open_in_mlflow)

    def _buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.chat_button,
            self.copy_button,
            self.unload_button,
            self.delete_button,
            self.experiment_button,
            self.mlflow_button,
        )

    def open_in_mlflow(self) -> None:
        if self.record is None:
            return
        from desktop_registry.ui.experiment_dialog import show_mlflow_location

        self.mlflow_box = show_mlflow_location(self, self.record)

    def _emit(self, signal: SignalInstance) -> None:
        if self.record is not None and self.record.id is not None:
            signal.emit(self.record.id)

    def _link(self, href: str) -> None:
        if href.startswith("model:"):
            self.model_link.emit(int(href.split(":", 1)[1]))

    def clear(self) -> None:
        self.record = None
        self.title.setText("Select a model")
        for value in self.fields.values():
            value.setText("")
        for b in self._buttons():
            b.setEnabled(False)
        self.compat_box.setVisible(False)
        self.performance.show_performance({})

    def show_model(
        self,
        record: ModelRecord,
        *,
        parent: ModelRecord | None = None,
        variants: list[ModelRecord] | None = None,
        performance_rows: int = 0,
    ) -> None:
        self.record = record
        self._shown_with = {
            "parent": parent,
            "variants": variants,
            "performance_rows": performance_rows,
        }
        d = record.details
        self.title.setText(shown_safely(record.display_name))
        where = record.source.value + (f" · {record.provider}" if record.provider else "")
        self.fields["source"].setText(f"{where}  ({record.serving.value}, {record.kind.value})")
        offline = self._offline(record)
        self.fields["status"].setText(
            f"unavailable — {record.source.value} is not answering"
            if offline
            else record.status.value
        )
        cats = ", ".join(CATEGORY_LABELS.get(c.value, c.value) for c in record.categories)
        self.fields["category"].setText(
            f"{cats or record.category.value}\n{category_origin(record)}"
        )
        self.fields["capabilities"].setText(", ".join(record.capabilities) or "—")
        self.fields["family"].setText(d.family or "—")
        params = d.parameter_size or "—"
        if d.parameter_count:
            params += f"  ({d.parameter_count:,} parameters)"
        self.fields["parameters"].setText(params)
        self.fields["quantization"].setText(d.quantization_level or "—")
        self.fields["context"].setText(f"{d.context_length:,} tokens" if d.context_length else "—")
        self.fields["size"].setText(human_bytes(record.size_bytes, empty="—"))
        self.fields["memory"].setText("checking…" if record.is_local else "served remotely")
        if d.engine == "llamacpp" and d.context_length:
            trained = (
                f", trained on {d.trained_context_length:,}" if d.trained_context_length else ""
            )
            self.fields["context"].setText(f"{d.context_length:,} tokens per slot{trained}")
            self.fields["memory"].setText("asking the llama.cpp server…")
        self.fields["endpoint"].setText(record.endpoint or "—")
        self.fields["digest"].setText(record.digest[:19] if record.digest else "—")
        lineage = []
        if parent is not None and parent.id is not None:
            lineage.append(f"derived from <a href='model:{parent.id}'>{parent.name}</a>")
        if variants:
            links = ", ".join(f"<a href='model:{v.id}'>{v.name}</a>" for v in variants[:10])
            lineage.append(f"{len(variants)} variant(s): {links}")
        self.fields["lineage"].setText("<br>".join(lineage) or "no parent, no variants")
        perf = record.performance
        self.performance.show_performance(perf)
        if perf:
            self.fields["performance"].setText(f"newest of {performance_rows} measurements:")
        else:
            self.fields["performance"].setText("nothing measured yet")
        self.fields["description"].setText(record.description or "—")
        self.template.set_text(record.template)
        self.system.set_text(record.system)
        options = "\n".join(f"{k} {v}" for k, v in record.parameters.items())
        self.options.set_text(options)
        self.license.set_text(record.license)
        chat_ok = ("completion" in record.capabilities or not record.is_local) and not offline
        self.chat_button.setEnabled(chat_ok)
        why = "Embedding models cannot chat." if not offline else "Start Ollama, then Retry."
        self.chat_button.setToolTip("" if chat_ok else why)
        self.copy_button.setEnabled(True)
        self.delete_button.setEnabled(True)
        self.unload_button.setEnabled(False)
        self.experiment_button.setEnabled(record.id is not None)
        tracking = record.parameters.get("mlflow")
        run_id = tracking.get("run_id") if isinstance(tracking, dict) else None
        self.mlflow_button.setEnabled(bool(run_id))
        self.mlflow_button.setToolTip(
            f"MLflow run {run_id}" if run_id else f"{record.name} has no MLflow run."
        )
        self.compat_box.show_pending(record)

    def _offline(self, record: ModelRecord) -> bool:
        return record.is_local and record.source.value in self.offline_sources

    def set_source_offline(self, source: str, offline: bool) -> None:
        """A source stopped (or started) answering: the shown model's status says so."""
        was = source in self.offline_sources
        if offline:
            self.offline_sources.add(source)
        else:
            self.offline_sources.discard(source)
        record = self.record
        if record is not None and was != offline and record.source.value == source:
            self.show_model(record, **self._shown_with)

    # ----- compatibility ------------------------------------------------------------------
    async def check_compatibility(self, ctx: AppContext, record: ModelRecord) -> None:
        """Estimate `record` in a worker thread (the first call probes the hardware)."""
        if not record.is_local:
            return
        try:
            report = await asyncio.to_thread(compatibility_of, ctx, record)
        except RegistryError as exc:
            if self.record is record:
                self.show_compatibility(None, error=str(exc))
            return
        if self.record is record:  # another model may have been selected meanwhile
            self.show_compatibility(report)

    def show_compatibility(self, report: CompatibilityReport | None, error: str = "") -> None:
        """Fill the Compatibility section from a CompatibilityReport (or say why there is none)."""
        self.compat_box.show_report(report, error)

    def show_server(
        self, record_id: int | None, facts: list[tuple[str, str]], error: str = ""
    ) -> None:
        """A llama.cpp server's live state in the "In memory" row (ready, busy slots)."""
        if self.record is None or self.record.id != record_id:
            return  # another model was selected meanwhile
        if error:
            self.fields["memory"].setText(f"server not answering — {shown_safely(error)}")
            self.fields["status"].setText(f"{self.record.status.value} · server down")
            return
        state = dict(facts).get("Server", "")
        self.fields["memory"].setText(f"llama.cpp server · {state}" if state else "—")

    def show_memory(self, loaded: LoadedModel | None, error: str = "") -> None:
        if self.record is None or not self.record.is_local:
            return
        if error:
            self.fields["memory"].setText(f"unknown ({error})")
            return
        if loaded is None:
            self.fields["memory"].setText("not loaded")
            self.unload_button.setEnabled(False)
            return
        share = loaded.vram_share * 100
        text = f"loaded · {human_bytes(loaded.size_bytes, empty='—')} · {share:.0f}% on GPU"
        if loaded.expires_at is not None:
            text += f" · unloads at {loaded.expires_at.astimezone():%H:%M}"
        self.fields["memory"].setText(text)
        self.unload_button.setEnabled(True)
