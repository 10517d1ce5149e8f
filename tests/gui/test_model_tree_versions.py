"""Model versions in the category tree read as versions ("v5", a date), never like the counts
the tree shows beside sources and categories ("Cloud · text  (5)")."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_registry.domain.entries import ModelEntry
from desktop_registry.ui.model_tree import ModelTreeModel


def remote(model_id: int, name: str, version: str) -> ModelEntry:
    return ModelEntry(
        model_id, name, version, "github_models", name.split("/")[0], "remote", "base",
        "available", ("cloud_text",), None, name.lower(),
    )  # fmt: skip


def leaf_labels(model: ModelTreeModel) -> dict[str, tuple[str, str]]:
    """name → (label, tooltip) for every model shown."""
    source = model.index(0, 0)
    category = model.index(0, 0, source)
    out = {}
    for row in range(model.rowCount(category)):
        index = model.index(row, 0, category)
        entry = model.entry_at(index)
        assert entry is not None
        out[entry.name] = (
            index.data(Qt.ItemDataRole.DisplayRole),
            index.data(Qt.ItemDataRole.ToolTipRole),
        )
    return out


def test_versions_show_as_v_numbers_or_dates_and_not_as_counts_in_parentheses(qtbot):
    model = ModelTreeModel()
    model.set_entries(
        [
            remote(1, "meta/Llama-3.3-70B-Instruct", "5"),
            remote(2, "cohere/cohere-command-a", "1"),
            remote(3, "openai/gpt-4.1", "2025-04-14"),
            remote(4, "openai/gpt-4o", "latest"),
        ]
    )
    labels = leaf_labels(model)

    assert labels["meta/Llama-3.3-70B-Instruct"][0] == "meta/Llama-3.3-70B-Instruct · v5"
    assert labels["cohere/cohere-command-a"][0] == "cohere/cohere-command-a · v1"
    assert labels["openai/gpt-4.1"][0] == "openai/gpt-4.1 · 2025-04-14"
    assert labels["openai/gpt-4o"][0] == "openai/gpt-4o"  # "latest" says nothing
    assert all("(" not in label for label, _tip in labels.values())
    assert "version 5" in labels["meta/Llama-3.3-70B-Instruct"][1]
    # The category keeps its count, which is now the only number in parentheses.
    assert model.index(0, 0, model.index(0, 0)).data() == "Cloud · text  (4)"
