"""Creating a slot and adding versions to it from the Slots panel, as `slot create` and `slot add`
do on the command line: real SQLite, the panel offscreen, refusals shown in its message line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_registry.domain import ModelDetails, ModelRecord, Serving, Source
from desktop_registry.services.versions.service import VersionService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.slots import SlotRepository
from desktop_registry.ui.slots_view import SlotsView, next_version
from tests.gui.conftest import make_context, run, until


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[VersionService, ModelRepository]]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    models = (
        ("nomic-embed-text:latest", ["embedding"]),
        ("mxbai-embed-large:latest", ["embedding"]),
        ("llama3.1:8b", ["completion", "tools"]),
    )
    for name, capabilities in models:
        repo.register(
            ModelRecord(
                name=name,
                source=Source.OLLAMA,
                serving=Serving.LOCAL,
                capabilities=capabilities,
                details=ModelDetails(embedding_length=768),
            )
        )
    yield VersionService(repo, SlotRepository(db), None, actor="ana"), repo
    db.dispose()


@pytest.fixture
def view(registry, qtbot) -> SlotsView:
    service, repo = registry
    panel = SlotsView(service, models=repo.list)
    qtbot.addWidget(panel)
    return panel


def offered(view: SlotsView) -> list[str]:
    return [view.add_model.itemText(i) for i in range(view.add_model.count())]


def add(view: SlotsView, loop: Any, model: str, version: str) -> None:
    view.add_model.setCurrentText(model)
    view.add_version_edit.setText(version)
    view.add_button.click()
    until(loop, lambda: view.pending is not None and view.pending.done())


def test_an_empty_panel_says_how_to_start_and_cannot_add(view):
    assert "No slots yet. Create one" in view.active_label.text()
    assert not view.add_box.isEnabled()


def test_creating_a_slot_lists_it_selects_it_and_offers_only_models_that_can_fill_it(view):
    view.new_name.setText("  text embedding ")
    view.new_capability.setCurrentText("embedding")
    view.create_button.click()

    assert view.slot_name == "text embedding"
    assert view.status.text() == (
        "Created slot 'text embedding' for embedding models. Add its first version."
    )
    assert view.new_name.text() == ""
    assert offered(view) == ["mxbai-embed-large:latest", "nomic-embed-text:latest"]
    assert view.add_version_edit.text() == "1.0.0"
    assert view.add_box.isEnabled() and view.add_button.isEnabled()
    assert view.reindex.isVisibleTo(view)  # an embedding slot's switch may need a re-index


def test_a_slot_without_a_name_or_with_a_taken_name_is_refused_with_the_reason(view, registry):
    service, _ = registry
    view.create_button.click()
    assert view.status.text() == "name: a slot needs a name, e.g. 'text embedding'."
    assert service.slot_names() == []

    service.create_slot("coding", "completion")
    view.new_name.setText("coding")
    view.create_button.click()
    assert view.status.text() == "A slot named 'coding' already exists."
    assert view.new_name.text() == "coding"  # kept, to correct it
    assert service.slot_names() == ["coding"]


def test_versions_added_from_the_panel_fill_the_table_and_the_first_is_active(view, registry, loop):
    service, _ = registry
    view.new_name.setText("text embedding")
    view.new_capability.setCurrentText("embedding")
    view.create_button.click()

    add(view, loop, "nomic-embed-text:latest", "1.0.0")
    assert view.status.text() == "Added nomic-embed-text:latest as text embedding 1.0.0 (active)."
    assert "active <b>1.0.0</b> — nomic-embed-text:latest" in view.active_label.text()
    assert view.add_version_edit.text() == "1.1.0"  # the next one suggested

    add(view, loop, "mxbai-embed-large:latest", "1.1.0")
    assert view.status.text().startswith("Added mxbai-embed-large:latest as text embedding 1.1.0")
    assert "not active" in view.status.text()
    assert [view.table.item(r, 0).text() for r in range(view.table.rowCount())] == [
        "1.0.0",
        "1.1.0",
    ]
    assert [v.version for v in service.versions("text embedding")] == ["1.0.0", "1.1.0"]
    assert service.active("text embedding").version == "1.0.0"


def test_a_version_that_is_not_semantic_or_already_taken_is_refused_and_nothing_is_added(
    view, registry, loop
):
    service, _ = registry
    service.create_slot("text embedding", "embedding")
    service.add_version("text embedding", "nomic-embed-text", "1.0.0")
    view.refresh()

    add(view, loop, "mxbai-embed-large:latest", "v2")
    assert view.status.text() == "version: 'v2' is not a semantic version like 1.2.0."
    add(view, loop, "mxbai-embed-large:latest", "1.0.0")
    assert view.status.text() == "Slot 'text embedding' already has a version 1.0.0."
    assert view.add_version_edit.text() == "1.0.0"  # what was typed stays, to correct it
    assert [v.version for v in service.versions("text embedding")] == ["1.0.0"]
    assert view.table.rowCount() == 1


def test_a_slot_no_model_can_fill_says_why_and_offers_nothing(view, registry):
    service, _ = registry
    service.create_slot("describe photos", "vision")
    view.refresh()

    assert offered(view) == []
    assert not view.add_button.isEnabled()
    assert view.add_model.placeholderText() == "no model has the 'vision' capability"


def test_next_version_bumps_the_highest_release():
    assert next_version([]) == "1.0.0"
    assert next_version(["1.0.0", "1.10.2", "1.2.0"]) == "1.11.0"
    assert next_version(["2.0.0-rc.1", "junk"]) == "2.1.0"


def test_the_slots_tab_creates_and_fills_a_slot_in_the_registry_the_cli_reads(
    loop, qtbot, tmp_path, emulator
):
    from desktop_registry.ui import panels

    ctx = make_context(tmp_path, emulator.url)
    run(loop, ctx.ollama_sync().run())
    factory = dict(panels.PANELS)["Slots"]
    panel = factory(ctx, None)
    qtbot.addWidget(panel)
    try:
        panel.new_name.setText("coding assistant")
        panel.new_capability.setCurrentText("tools")
        panel.create_button.click()
        assert "llama3.1:8b" in offered(panel)
        assert "nomic-embed-text:latest" not in offered(panel)
        assert not panel.reindex.isVisibleTo(panel)  # no embeddings to re-index for tools

        add(panel, loop, "llama3.1:8b", "1.0.0")
        assert "active" in panel.status.text(), panel.status.text()
        active = ctx.versions(tracked=False).active_model("coding assistant")
        assert active.name == "llama3.1:8b"
    finally:
        run(loop, ctx.aclose())
        ctx.close()
