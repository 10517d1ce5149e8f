"""The category tree with its filter box and Variants toggle; emits the model a user picks.

The item model is model_tree_model.py and the badges model_tree_badges.py; it never reads the
database itself (the window hands it `ModelEntry` rows).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QTreeView, QVBoxLayout, QWidget

from desktop_registry.domain.entries import ModelEntry
from desktop_registry.ui.model_tree_badges import BadgeDelegate
from desktop_registry.ui.model_tree_model import (
    CATEGORY_LABELS,
    COLUMNS,
    SOURCE_LABELS,
    ModelTreeModel,
    model_label,
    version_label,
)

__all__ = [
    "CATEGORY_LABELS",
    "COLUMNS",
    "SOURCE_LABELS",
    "ModelBrowser",
    "ModelTreeModel",
    "model_label",
    "version_label",
]


class ModelBrowser(QWidget):
    """The tree with its filter box; emits `model_selected(id)` when a model is picked."""

    model_selected = Signal(int)
    MIN_WIDTH = 220  # below this a name and its badges no longer read

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter models  (Ctrl+F)")
        self.filter_box.setToolTip("Searches name, family, description and tags as you type.")
        self.filter_box.setClearButtonEnabled(True)
        self.variants_toggle = QToolButton()
        self.variants_toggle.setText("Variants")
        self.variants_toggle.setCheckable(True)
        self.variants_toggle.setChecked(True)
        self.variants_toggle.setToolTip(
            "Show the variants you derived (experiments, fine-tunes) under their base models."
        )
        self.model = ModelTreeModel()
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(BadgeDelegate(self.view))
        self.view.setHeaderHidden(True)  # one column: the name, with its badges
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAnimated(False)
        self.view.setIndentation(14)
        # A name wider than the pane keeps its start and end ("deepseek/…-0324").
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setMinimumWidth(self.MIN_WIDTH)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_box, 1)
        top.addWidget(self.variants_toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(120)
        self._debounce.timeout.connect(self.apply_filter)
        self.filter_box.textChanged.connect(lambda _t: self._debounce.start())
        self.variants_toggle.toggled.connect(self.show_variants)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

    def set_entries(
        self, entries: list[ModelEntry], lineage: Mapping[int, int] | None = None
    ) -> None:
        """`lineage` maps a variant's id to its base's id (the registry's parent_id)."""
        selected = self.selected_id()
        self.model.set_entries(entries, lineage)
        self._after_reset(selected)

    def apply_filter(self) -> None:
        selected = self.selected_id()
        self.model.set_filter(self.filter_box.text())
        self._after_reset(selected)

    def show_variants(self, shown: bool) -> None:
        selected = self.selected_id()
        self.model.set_show_variants(shown)
        self._after_reset(selected)

    def set_source_offline(self, source: str, offline: bool) -> None:
        """Local models of a source that does not answer read as offline, not available."""
        self.model.set_offline(source, offline)

    def _after_reset(self, selected: int | None) -> None:
        # Expand sources, categories and publishers; the leaves are drawn lazily by the view.
        expand_all = self.model.shown <= 2000 or bool(self.model.text)
        model = self.model
        for source in model.root.children:
            self.view.setExpanded(model.index_of(source), True)
            if not expand_all:
                continue
            for category in source.children:
                self.view.setExpanded(model.index_of(category), True)
                for child in category.children:
                    if child.entry is None:  # a publisher group
                        self.view.setExpanded(model.index_of(child), True)
        if expand_all:  # base → variants open, so lineage is seen without a click
            for node in model.lineage_nodes:
                self.view.setExpanded(model.index_of(node), True)
        if selected is not None:
            index = model.first_index_of(selected)
            if index.isValid():
                self.view.setCurrentIndex(index)

    def selected_id(self) -> int | None:
        entry = self.model.entry_at(self.view.currentIndex())
        return entry.id if entry else None

    def select_model(self, model_id: int) -> bool:
        index = self.model.first_index_of(model_id)
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        return index.isValid()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = self.model.entry_at(current)
        if entry is not None:
            self.model_selected.emit(entry.id)
