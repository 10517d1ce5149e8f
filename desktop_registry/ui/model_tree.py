"""The category tree: Source → Category → Model (→ its variants) with counts, badges and a filter.

Built on a QAbstractItemModel over light index rows, so 10,000 models open and filter quickly;
never reads the database itself (the window hands it `ModelEntry` rows).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from desktop_registry.domain.entries import ModelEntry
from desktop_registry.domain.text import shown_safely
from desktop_registry.domain.units import human_bytes
from desktop_registry.ui.theme import BADGE

SOURCE_LABELS = {
    "ollama": "Ollama (local)",
    "github_models": "GitHub Models",
    "openai_compatible": "OpenAI-compatible",
    "mlflow": "MLflow",
}
CATEGORY_LABELS = {
    "embedding": "Embedding",
    "multimodal": "Multimodal (vision)",
    "function_calling": "Function calling",
    "reasoning": "Reasoning",
    "general": "General",
    "code": "Code",
    "math": "Math",
    "cloud_text": "Cloud · text",
    "cloud_code": "Cloud · code",
    "cloud_multimodal": "Cloud · multimodal",
    "cloud_general": "Cloud · general",
}
COLUMNS = ("Model", "Where", "Size")
ModelIndexArg = QModelIndex | QPersistentModelIndex


def version_label(version: str) -> str:
    """How a model's version reads beside its name: "v5", "v1.2" or a date, never "(5)".

    Parentheses with a number are the tree's counts ("Reasoning  (2)"), so a version must not
    look like one; "" and "latest" (Ollama's default tag) say nothing and are left out.
    """
    if version in ("", "latest"):
        return ""
    if version[0].isdigit() and all(part.isdigit() for part in version.split(".")):
        return f"v{version}"
    return version


def model_label(entry: ModelEntry) -> str:
    version = version_label(entry.version)
    name = shown_safely(entry.name)  # a server's name may hold terminal escapes or bidi marks
    return f"{name} · {version}" if version else name


class _Node:
    __slots__ = ("children", "entry", "key", "label", "parent", "row")

    def __init__(self, label: str, parent: _Node | None, row: int, key: str = "") -> None:
        self.label = label
        self.parent = parent
        self.row = row
        self.key = key
        self.children: list[_Node] = []
        self.entry: ModelEntry | None = None


class ModelTreeModel(QAbstractItemModel):
    """Sources at the top, their categories below (with counts), models as leaves.

    A model with variants (registry rows whose parent_id is it) also holds them as children,
    so lineage reads base → variants; the variants stay in their own categories too.
    """

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ModelEntry] = []
        self.parents: dict[int, int] = {}  # variant id → base id
        self.text = ""
        self.root = _Node("", None, 0)
        self.shown = 0  # models shown after filtering (a model counts once)
        self.lineage_nodes: list[_Node] = []  # model nodes that hold variants (expanded)

    # ----- content ------------------------------------------------------------------------
    def set_entries(
        self, entries: list[ModelEntry], lineage: Mapping[int, int] | None = None
    ) -> None:
        self.entries = entries
        self.parents = dict(lineage or {})
        self._rebuild()

    def set_filter(self, text: str) -> None:
        text = " ".join(text.lower().split())
        if text != self.text:
            self.text = text
            self._rebuild()

    def _matching(self) -> list[ModelEntry]:
        terms = self.text.split()
        if not terms:
            return self.entries
        return [e for e in self.entries if all(t in e.haystack for t in terms)]

    def _rebuild(self) -> None:
        self.beginResetModel()
        root = _Node("", None, 0)
        by_source: dict[str, dict[str, list[ModelEntry]]] = {}
        matching = self._matching()
        variants: dict[int, list[ModelEntry]] = {}
        parents = self.parents
        for entry in matching:
            cats = by_source.setdefault(entry.source, {})
            for category in entry.categories:
                cats.setdefault(category, []).append(entry)
            if parents:
                base = parents.get(entry.id)
                if base is not None and base != entry.id:
                    variants.setdefault(base, []).append(entry)
        self.lineage_nodes = []
        order = list(SOURCE_LABELS)
        for source in sorted(by_source, key=lambda s: (order.index(s) if s in order else 99, s)):
            cats = by_source[source]
            count = len({e.id for members in cats.values() for e in members})
            label = f"{SOURCE_LABELS.get(source, source)}  ({count})"
            source_node = _Node(label, root, len(root.children), key=source)
            root.children.append(source_node)
            cat_order = list(CATEGORY_LABELS)
            for category in sorted(
                cats, key=lambda c: (cat_order.index(c) if c in cat_order else 99, c)
            ):
                members = cats[category]
                cat_label = f"{CATEGORY_LABELS.get(category, category)}  ({len(members)})"
                cat_node = _Node(cat_label, source_node, len(source_node.children), key=category)
                source_node.children.append(cat_node)
                kids = cat_node.children
                for entry in members:
                    leaf = _Node(entry.name, cat_node, len(kids))
                    leaf.entry = entry
                    kids.append(leaf)
                    if variants and entry.id in variants:
                        self._add_variants(leaf, variants, {entry.id})
        self.root = root
        self.shown = len(matching)
        self.endResetModel()

    def _add_variants(
        self, node: _Node, variants: dict[int, list[ModelEntry]], seen: set[int]
    ) -> None:
        """The variants of node's model as its children, theirs below them (no cycles)."""
        assert node.entry is not None
        for variant in variants.get(node.entry.id, ()):
            if variant.id in seen:
                continue
            child = _Node(variant.name, node, len(node.children))
            child.entry = variant
            node.children.append(child)
            if variant.id in variants:
                self._add_variants(child, variants, seen | {variant.id})
        if node.children:
            self.lineage_nodes.append(node)

    # ----- lookups used by the view and by tests ------------------------------------------
    def node(self, index: ModelIndexArg) -> _Node:
        if not index.isValid():
            return self.root
        node = index.internalPointer()
        assert isinstance(node, _Node)
        return node

    def entry_at(self, index: ModelIndexArg) -> ModelEntry | None:
        return self.node(index).entry if index.isValid() else None

    def counts(self) -> dict[tuple[str, str], int]:
        """(source, category) → number of models shown there."""
        return {(s.key, c.key): len(c.children) for s in self.root.children for c in s.children}

    def first_index_of(self, model_id: int) -> QModelIndex:
        for s in self.root.children:
            for c in s.children:
                for leaf in c.children:
                    if leaf.entry is not None and leaf.entry.id == model_id:
                        return self.createIndex(leaf.row, 0, leaf)
        return QModelIndex()

    # ----- QAbstractItemModel -----------------------------------------------------------
    def index(self, row: int, column: int, parent: ModelIndexArg = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self.node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: ModelIndexArg = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = self.node(index).parent
        if parent is None or parent is self.root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: ModelIndexArg = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: ModelIndexArg = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: ModelIndexArg = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: ModelIndexArg, role: int = 0) -> object:
        if not index.isValid():
            return None
        node = self.node(index)
        entry = node.entry
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if entry is None:
                return node.label if column == 0 else None
            if column == 0:
                return model_label(entry)
            if column == 1:
                badge = entry.serving
                if entry.status == "missing":
                    badge += " · missing"
                elif entry.kind != "base":
                    badge += f" · {entry.kind}"
                return badge
            return human_bytes(entry.size_bytes, empty="")
        if role == Qt.ItemDataRole.ForegroundRole and entry is not None and column == 1:
            key = "missing" if entry.status == "missing" else entry.serving
            return QColor(BADGE.get(key, BADGE["local"]))
        if role == Qt.ItemDataRole.FontRole and entry is None and column == 0:
            font = QFont()
            font.setBold(node.parent is self.root)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and entry is not None:
            where = f"{entry.source}" + (f" ({entry.provider})" if entry.provider else "")
            tip = shown_safely(entry.name)
            if version_label(entry.version):
                tip += f"\nversion {entry.version}"
            tip += f"\n{where} · {entry.serving} · {entry.status}"
            base = node.parent.entry if node.parent is not None else None
            if base is not None:
                tip += f"\nvariant of {base.name}"
            if node.children:
                tip += f"\n{len(node.children)} variant(s) below"
            return tip
        if role == Qt.ItemDataRole.UserRole and entry is not None:
            return entry.id
        return None


class ModelBrowser(QWidget):
    """The tree with its filter box; emits `model_selected(id)` when a model is picked."""

    model_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter models  (Ctrl+F)")
        self.filter_box.setToolTip("Searches name, family, description and tags as you type.")
        self.filter_box.setClearButtonEnabled(True)
        self.model = ModelTreeModel()
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAnimated(False)
        # "deepseek/DeepSeek-V3-0324 · v1" keeps its publisher and version when the pane is narrow.
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.view)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(120)
        self._debounce.timeout.connect(self.apply_filter)
        self.filter_box.textChanged.connect(lambda _t: self._debounce.start())
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

    def _after_reset(self, selected: int | None) -> None:
        # Expand sources and categories; the leaves are drawn lazily by the view.
        expand_all = self.model.shown <= 2000 or bool(self.model.text)
        for s in range(self.model.rowCount()):
            source_index = self.model.index(s, 0)
            self.view.setExpanded(source_index, True)
            if expand_all:
                for c in range(self.model.rowCount(source_index)):
                    self.view.setExpanded(self.model.index(c, 0, source_index), True)
        if expand_all:  # base → variants open, so lineage is seen without a click
            for node in self.model.lineage_nodes:
                self.view.setExpanded(self.model.createIndex(node.row, 0, node), True)
        if selected is not None:
            index = self.model.first_index_of(selected)
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
