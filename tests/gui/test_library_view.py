"""The Library panel offscreen: search, fit badges, Pull hand-off, compare table, Recommend dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.services.library.comparison import ComparisonService
from desktop_registry.services.library.compatibility import CompatibilityService
from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile
from desktop_registry.services.library.recommend import RecommendationService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.library_index import LibraryIndex
from desktop_registry.ui.library_view import LibraryView

MACHINE = HardwareProfile.describe(ram_gb=32, gpu_vram_gb=12, gpu_name="NVIDIA RTX 4070")


class WindowWithPullDialog:
    def __init__(self) -> None:
        self.pulled: list[str] = []

    def open_pull_dialog(self, name: str) -> None:
        self.pulled.append(name)


@pytest.fixture
def view(qtbot, tmp_path: Path) -> Iterator[tuple[LibraryView, WindowWithPullDialog]]:  # type: ignore[no-untyped-def]
    db = Database.open(tmp_path / "registry.db")
    library = LibraryService(LibraryIndex(db), ModelRepository(db))
    compatibility = CompatibilityService(HardwareProbe(), library)
    recommendations = RecommendationService(library, compatibility)
    window = WindowWithPullDialog()
    widget = LibraryView(
        library, compatibility, recommendations,
        ComparisonService(library, compatibility, recommendations),
        window=window, hardware=MACHINE,
    )  # fmt: skip
    qtbot.addWidget(widget)
    yield widget, window
    db.dispose()


def shown_names(view: LibraryView) -> list[str]:
    return [result.entry.name for result, _ in view.table_model.rows]


def select(view: LibraryView, names: list[str]) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    for row, name in enumerate(shown_names(view)):
        if name in names:
            index = view.table_model.index(row, 0)
            flags = (
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            )
            selection.select(index, flags)


def test_fit_badges_are_green_amber_and_red_for_this_machine(view) -> None:  # type: ignore[no-untyped-def]
    widget, _ = view
    widget.search.setText("qwen2.5")
    widget.refresh()
    badges = {}
    for row, name in enumerate(shown_names(widget)):
        index = widget.table_model.index(row, 4)
        badges[name] = (
            widget.table_model.data(index, Qt.ItemDataRole.DisplayRole),
            widget.table_model.data(index, Qt.ItemDataRole.BackgroundRole).color().name(),
        )
    assert badges["qwen2.5:7b"] == ("● fits GPU", "#2e7d32")
    assert badges["qwen2.5:32b"] == ("● slow fit", "#b26a00")
    assert badges["qwen2.5:72b"] == ("● too big", "#c62828")
    tooltip = widget.table_model.data(widget.table_model.index(shown_names(widget).index("qwen2.5:72b"), 4), Qt.ItemDataRole.ToolTipRole)  # fmt: skip
    assert "Does not fit" in tooltip and "→" in tooltip  # what to do instead
    assert "fit this machine" in widget.status.text()


def test_filters_narrow_the_results(view) -> None:  # type: ignore[no-untyped-def]
    widget, _ = view
    widget.search.setText("")
    widget.category.setCurrentIndex(widget.category.findText("embedding"))
    names = shown_names(widget)
    assert names and all("embed" in n or "bge" in n or "minilm" in n for n in names)


def test_pull_hands_the_name_to_the_windows_pull_dialog(view, qtbot) -> None:  # type: ignore[no-untyped-def]
    widget, window = view
    widget.search.setText("phi4-mini")
    widget.refresh()
    select(widget, ["phi4-mini:3.8b"])
    assert widget.pull_button.isEnabled()
    with qtbot.waitSignal(widget.pull_requested) as signal:
        qtbot.mouseClick(widget.pull_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["phi4-mini:3.8b"] and window.pulled == ["phi4-mini:3.8b"]


def test_compare_shows_the_models_side_by_side_with_verdicts(view, qtbot) -> None:  # type: ignore[no-untyped-def]
    widget, _ = view
    widget.search.setText("qwen2.5")
    widget.refresh()
    select(widget, ["qwen2.5:7b", "qwen2.5:32b", "qwen2.5-coder:7b"])
    assert widget.compare_button.isEnabled() and not widget.pull_button.isEnabled()
    qtbot.mouseClick(widget.compare_button, Qt.MouseButton.LeftButton)
    table = widget.compare_table
    assert table.isVisibleTo(widget) and table.columnCount() == 3
    assert table.cell_text("Fit", "qwen2.5:32b") == "Split between GPU and CPU"
    assert table.cell_text("Fit", "qwen2.5:7b") == "Runs fully on the GPU"
    assert table.cell_text("Best for code generation", "qwen2.5-coder:7b") == "✔ best"


def test_recommend_dialog_lists_models_that_fit(view) -> None:  # type: ignore[no-untyped-def]
    widget, _ = view
    dialog = widget.open_recommend()
    assert dialog.table.rowCount() >= 3
    assert dialog.table.item(0, 3).text() == "Runs fully on the GPU"
    assert "NVIDIA RTX 4070" in dialog.summary.text()
    dialog.close()


def test_the_library_lists_every_row_when_one_rows_estimate_fails(view) -> None:  # type: ignore[no-untyped-def]
    from desktop_registry.domain import Category, Kind, ModelRecord, Serving, Source

    widget, _ = view
    repository = widget.library.models  # the registry the library reads installed models from
    repository.register(
        ModelRecord(
            name="trio",  # an ensemble: no weights of its own, so no size to estimate from
            source=Source.MLFLOW,
            serving=Serving.LOCAL,
            kind=Kind.EXPERIMENTAL,
            category=Category.GENERAL,
            categories=[Category.GENERAL],
            capabilities=["completion"],
            description="majority vote over qwen2.5:7b, phi4-mini:3.8b, llama3.2:3b",
            tags=["experiment", "ensemble"],
        )
    )
    widget.search.setText("")
    widget.refresh()
    names = shown_names(widget)
    assert "trio" in names and len(names) > 10  # the catalog rows are all still there
    row = names.index("trio")
    fit = widget.table_model.index(row, 4)
    assert fit.data(Qt.ItemDataRole.DisplayRole) == "no estimate"
    assert "Cannot estimate trio" in fit.data(Qt.ItemDataRole.ToolTipRole)
    assert "1 without an estimate" in widget.status.text()
    others = [widget.table_model.index(r, 4).data() for r in range(len(names)) if r != row]
    assert any(text.startswith("●") for text in others)
