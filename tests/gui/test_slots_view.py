"""The Slots panel: active version, Switch and Rollback buttons, the history timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelDetails, ModelRecord, Serving, Source
from desktop_registry.services.versions.service import VersionService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.slots import SlotRepository
from desktop_registry.ui.slots_view import SlotsView
from tests.gui.conftest import until


@pytest.fixture
def service(tmp_path: Path) -> Iterator[VersionService]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    for name, dim in (("nomic-embed-text:latest", 768), ("mxbai-embed:latest", 768),
                      ("bge-large:latest", 1024)):  # fmt: skip
        repo.register(
            ModelRecord(
                name=name,
                source=Source.OLLAMA,
                serving=Serving.LOCAL,
                capabilities=["embedding"],
                details=ModelDetails(embedding_length=dim),
            )
        )
    svc = VersionService(repo, SlotRepository(db), None, actor="ana")
    svc.create_slot("text embedding", "embedding")
    svc.add_version("text embedding", "nomic-embed-text", "1.0.0")
    svc.add_version("text embedding", "mxbai-embed", "1.1.0")
    svc.add_version("text embedding", "bge-large", "2.0.0")
    yield svc
    db.dispose()


def test_switch_and_rollback_buttons_move_the_active_version_and_fill_the_timeline(
    service, qtbot, loop
):
    view = SlotsView(service)
    qtbot.addWidget(view)
    assert "active <b>1.0.0</b> — nomic-embed-text:latest" in view.active_label.text()

    view.select_version("1.1.0")
    view.reason.setText("better recall")
    view.switch_button.click()
    until(loop, lambda: view.pending is not None and view.pending.done())
    assert "active <b>1.1.0</b>" in view.active_label.text()
    assert view.history.count() == 1
    assert "Switched 1.0.0 → 1.1.0 by ana — better recall" in view.history.item(0).text()
    assert view.table.item(1, 4).text() == "active"

    view.rollback_button.click()
    until(loop, lambda: view.pending.done())
    assert "active <b>1.0.0</b>" in view.active_label.text()
    assert view.history.count() == 2
    assert "Rolled back 1.1.0 → 1.0.0" in view.history.item(0).text()  # newest first


def test_an_incompatible_switch_shows_why_and_changes_nothing(service, qtbot, loop):
    view = SlotsView(service)
    qtbot.addWidget(view)
    view.select_version("2.0.0")
    view.switch_button.click()
    until(loop, lambda: view.pending is not None and view.pending.done())
    assert "re-index" in view.status.text() and "1024" in view.status.text()
    assert "active <b>1.0.0</b>" in view.active_label.text()
    assert view.history.count() == 0

    view.reindex.setChecked(True)  # the explicit acknowledgement
    view.switch_button.click()
    until(loop, lambda: view.pending.done())
    assert "active <b>2.0.0</b>" in view.active_label.text()


def test_a_slot_without_switches_says_so_above_its_empty_history(service, qtbot, loop):
    view = SlotsView(service)
    qtbot.addWidget(view)
    view.show()
    assert view.history.count() == 0 and view.no_history.isVisible()
    view.select_version("1.1.0")
    view.switch_button.click()
    until(loop, lambda: view.history.count() == 1)
    assert not view.no_history.isVisible()
