"""The category tree's item model: Source → Category → (Publisher) → Model → its variants.

Each model is listed once, under its primary category, and a variant only under its base; it
never reads the database itself (the window hands it `ModelEntry` rows and the lineage).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QPalette

from desktop_registry.domain.entries import ModelEntry
from desktop_registry.domain.text import shown_safely
from desktop_registry.domain.units import human_bytes
from desktop_registry.ui.model_tree_badges import BADGES_ROLE, badges_of

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
COLUMNS = ("Model",)
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


def model_label(entry: ModelEntry, *, publisher: str = "", with_version: bool = True) -> str:
    """The name as a row shows it: without the publisher its group already shows, and with the
    version only where `with_version` says it tells two rows apart."""
    name = entry.name
    if publisher and name.lower().startswith(publisher.lower() + "/"):
        name = name[len(publisher) + 1 :]
    name = shown_safely(name)  # a server's name may hold terminal escapes or bidi marks
    version = version_label(entry.version) if with_version else ""
    return f"{name} · {version}" if version else name


def publisher_of(entry: ModelEntry) -> str:
    """The publisher a remote model is grouped under ("openai" for openai/gpt-4.1), else ""."""
    if entry.serving != "remote" or "/" not in entry.name:
        return ""
    prefix = entry.name.split("/", 1)[0]
    return prefix if not entry.provider or prefix.lower() == entry.provider.lower() else ""


class _Node:
    __slots__ = ("children", "entry", "key", "label", "parent", "publisher", "row", "versioned")

    def __init__(self, label: str, parent: _Node | None, row: int, key: str = "") -> None:
        self.label = label
        self.parent = parent
        self.row = row
        self.key = key  # source, category or publisher key of a group node
        self.children: list[_Node] = []
        self.entry: ModelEntry | None = None
        self.publisher = ""  # the group's publisher a model row leaves out of its name
        self.versioned = False  # the row needs its version to be told from a sibling


def _order(keys: Iterable[str], known: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: (known.index(k) if k in known else 99, k))


class ModelTreeModel(QAbstractItemModel):
    """Sources at the top, their categories (with counts), publishers of remote models, models.

    A model sits under its primary category only; its other capabilities are badges. A variant
    (a registry row whose parent_id is a shown model) sits under its base only, and shows at its
    own place when the filter hides its base; `show_variants` False leaves variants out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ModelEntry] = []
        self.parents: dict[int, int] = {}  # variant id → base id
        self.text = ""
        self.show_variants = True
        self.offline: set[str] = set()  # sources that are not answering (their rows greyed)
        self.root = _Node("", None, 0)
        self.shown = 0  # models shown after filtering (each model is shown once)
        self.lineage_nodes: list[_Node] = []  # model nodes that hold variants (expanded)
        self.node_of: dict[int, _Node] = {}

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

    def set_show_variants(self, shown: bool) -> None:
        if shown != self.show_variants:
            self.show_variants = shown
            self._rebuild()

    def set_offline(self, source: str, offline: bool) -> None:
        """Grey a source's rows (and badge them "offline") while it does not answer."""
        if (source in self.offline) == offline:
            return
        if offline:
            self.offline.add(source)
        else:
            self.offline.discard(source)
        for node in self.root.children:
            if node.key == source:
                self._changed_below(node)

    def _changed_below(self, node: _Node) -> None:
        if node.children:
            first = self.createIndex(0, 0, node.children[0])
            last = self.createIndex(len(node.children) - 1, 0, node.children[-1])
            self.dataChanged.emit(first, last)
            for child in node.children:
                self._changed_below(child)

    def _matching(self) -> list[ModelEntry]:
        terms = self.text.split()
        if not terms:
            return self.entries
        return [e for e in self.entries if all(t in e.haystack for t in terms)]

    def _rebuild(self) -> None:
        self.beginResetModel()
        matching = self._matching()
        ids = {e.id for e in matching}
        parents = self.parents
        variants: dict[int, list[ModelEntry]] = {}
        tops: list[ModelEntry] = []
        for entry in matching:
            base = parents.get(entry.id) if parents else None
            if base is not None and base != entry.id:
                if not self.show_variants:
                    continue
                if base in ids:
                    variants.setdefault(base, []).append(entry)
                    continue
            tops.append(entry)
        # source → category → publisher → models
        tree: dict[str, dict[str, dict[str, list[ModelEntry]]]] = {}
        for entry in tops:
            category = entry.categories[0] if entry.categories else "general"
            by_cat = tree.setdefault(entry.source, {})
            by_cat.setdefault(category, {}).setdefault(publisher_of(entry), []).append(entry)
        root = _Node("", None, 0)
        self.root, self.lineage_nodes, self.node_of = root, [], {}
        self.shown = 0
        for source in _order(tree, list(SOURCE_LABELS)):
            source_node = self._group(root, SOURCE_LABELS.get(source, source), source)
            for category in _order(tree[source], list(CATEGORY_LABELS)):
                cat_node = self._group(
                    source_node, CATEGORY_LABELS.get(category, category), category
                )
                publishers = tree[source][category]
                for publisher in sorted(publishers, key=str.lower):
                    parent = cat_node
                    if publisher:
                        parent = self._group(cat_node, publisher, publisher)
                        parent.publisher = publisher
                    self._models(parent, publishers[publisher], variants, set())
                    if publisher:
                        parent.label += f"  ({self._count(parent)})"
                cat_node.label += f"  ({self._count(cat_node)})"
            source_node.label += f"  ({self._count(source_node)})"
        self.endResetModel()

    @staticmethod
    def _group(parent: _Node, label: str, key: str) -> _Node:
        node = _Node(label, parent, len(parent.children), key=key)
        parent.children.append(node)
        return node

    def _models(
        self,
        parent: _Node,
        members: list[ModelEntry],
        variants: dict[int, list[ModelEntry]],
        seen: set[int],
    ) -> None:
        """`members` as rows of `parent`, each with its variants below it (no cycles)."""
        publisher = parent.publisher
        names: dict[str, int] = {}
        for entry in members:
            short = model_label(entry, publisher=publisher, with_version=False)
            names[short] = names.get(short, 0) + 1
        kids = parent.children
        for entry in members:
            if entry.id in seen or entry.id in self.node_of:
                continue
            leaf = _Node(entry.name, parent, len(kids))
            leaf.entry = entry
            leaf.publisher = publisher
            leaf.versioned = names[model_label(entry, publisher=publisher, with_version=False)] > 1
            kids.append(leaf)
            self.node_of[entry.id] = leaf
            self.shown += 1
            below = variants.get(entry.id)
            if below:
                self._models(leaf, below, variants, seen | {entry.id})
                if leaf.children:
                    self.lineage_nodes.append(leaf)

    @staticmethod
    def _count(node: _Node) -> int:
        total, todo = 0, list(node.children)
        while todo:
            child = todo.pop()
            if child.entry is not None:
                total += 1
            todo.extend(child.children)
        return total

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
        """(source, category) → number of models shown there (variants included)."""
        return {(s.key, c.key): self._count(c) for s in self.root.children for c in s.children}

    def first_index_of(self, model_id: int) -> QModelIndex:
        node = self.node_of.get(model_id)
        return self.createIndex(node.row, 0, node) if node is not None else QModelIndex()

    def index_of(self, node: _Node) -> QModelIndex:
        return self.createIndex(node.row, 0, node)

    def label_of(self, node: _Node) -> str:
        if node.entry is None:
            return node.label
        return model_label(node.entry, publisher=node.publisher, with_version=node.versioned)

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
        if role == Qt.ItemDataRole.DisplayRole:
            return self.label_of(node)
        if entry is None:
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(node.parent is self.root)
                return font
            return None
        if role == BADGES_ROLE:
            return badges_of(
                entry, offline=entry.source in self.offline and entry.serving == "local"
            )
        if role == Qt.ItemDataRole.ForegroundRole and (
            entry.status == "missing" or (entry.source in self.offline and entry.serving == "local")
        ):
            return QPalette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, entry)
        if role == Qt.ItemDataRole.UserRole:
            return entry.id
        return None

    def _tooltip(self, node: _Node, entry: ModelEntry) -> str:
        where = entry.source + (f" ({entry.provider})" if entry.provider else "")
        tip = shown_safely(entry.name)
        if version_label(entry.version):
            tip += f"\nversion {entry.version}"
        tip += f"\n{where} · {entry.serving} · {entry.status}"
        if entry.source in self.offline and entry.serving == "local":
            tip += " (the server is not answering)"
        size = human_bytes(entry.size_bytes, empty="")
        if size:
            tip += f"\n{size} on disk"
        if len(entry.categories) > 1:
            others = ", ".join(CATEGORY_LABELS.get(c, c) for c in entry.categories[1:])
            tip += f"\nalso: {others}"
        base = node.parent.entry if node.parent is not None else None
        if base is not None:
            tip += f"\nvariant of {base.name}"
        if node.children:
            tip += f"\n{len(node.children)} variant(s) below"
        return tip
