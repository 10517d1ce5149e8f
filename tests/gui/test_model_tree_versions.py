"""Remote model names in the category tree read whole: the publisher is said once, as a group,
and a version is shown only where it tells two rows apart ("v5", a date, never "(5)")."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_registry.domain.entries import ModelEntry
from desktop_registry.ui.model_tree import ModelTreeModel


def remote(model_id: int, name: str, version: str) -> ModelEntry:
    return ModelEntry(
        model_id, name, version, "github_models", name.split("/")[0], "remote", "base",
        "available", ("cloud_text",), None, name.lower(),
    )  # fmt: skip


def rows_by_publisher(model: ModelTreeModel) -> dict[str, list[tuple[str, str, str]]]:
    """publisher group label → [(name, label, tooltip)] for every model under it."""
    category = model.index(0, 0, model.index(0, 0))
    out = {}
    for p in range(model.rowCount(category)):
        publisher = model.index(p, 0, category)
        rows = []
        for row in range(model.rowCount(publisher)):
            index = model.index(row, 0, publisher)
            entry = model.entry_at(index)
            assert entry is not None
            rows.append(
                (
                    entry.name,
                    index.data(Qt.ItemDataRole.DisplayRole),
                    index.data(Qt.ItemDataRole.ToolTipRole),
                )
            )
        out[publisher.data()] = rows
    return out


def test_publishers_are_groups_and_names_under_them_are_whole_without_the_prefix(qtbot):
    model = ModelTreeModel()
    model.set_entries(
        [
            remote(1, "meta/Llama-3.3-70B-Instruct", "5"),
            remote(2, "openai/gpt-4.1", "2025-04-14"),
            remote(3, "openai/gpt-4.1-mini", "2025-04-14"),
            remote(4, "openai/gpt-4o-mini", "2024-07-18"),
        ]
    )
    groups = rows_by_publisher(model)
    assert list(groups) == ["meta  (1)", "openai  (3)"]
    assert [label for _n, label, _t in groups["openai  (3)"]] == [
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4o-mini",
    ]
    assert [label for _n, label, _t in groups["meta  (1)"]] == ["Llama-3.3-70B-Instruct"]
    # The whole name and the version stay one hover away.
    _name, _label, tip = groups["meta  (1)"][0]
    assert tip.startswith("meta/Llama-3.3-70B-Instruct") and "version 5" in tip
    assert model.index(0, 0, model.index(0, 0)).data() == "Cloud · text  (4)"


def test_versions_show_only_where_they_tell_rows_apart_as_v_numbers_or_dates(qtbot):
    model = ModelTreeModel()
    model.set_entries(
        [
            remote(1, "cohere/cohere-command-a", "1"),
            remote(2, "cohere/cohere-command-a", "2"),
            remote(3, "openai/gpt-4.1", "2025-04-14"),
            remote(4, "openai/gpt-4.1", "2025-06-01"),
            remote(5, "openai/gpt-4o", "latest"),
        ]
    )
    groups = rows_by_publisher(model)
    assert [label for _n, label, _t in groups["cohere  (2)"]] == [
        "cohere-command-a · v1",
        "cohere-command-a · v2",
    ]
    assert [label for _n, label, _t in groups["openai  (3)"]] == [
        "gpt-4.1 · 2025-04-14",
        "gpt-4.1 · 2025-06-01",
        "gpt-4o",  # alone under its name: no version needed
    ]
    # Counts are the only numbers in parentheses.
    assert all("(" not in label for rows in groups.values() for _n, label, _t in rows)
