"""A failure in work a panel started in the background reaches the user as a message.

The services here are real; each test makes one of them fail the way a bug or a bad file would
(a monkeypatched method raising an error nobody foresaw, an adapter file that cannot be read)
and checks the panel says so instead of losing the error or staying on "Creating…".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.services.experiments.service import ExperimentService
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.ui.experiment_dialog import ExperimentDialog
from tests.gui.conftest import run, until


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[ModelRepository]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    repo.register(
        ModelRecord(
            name="llama3.1:8b", source=Source.OLLAMA, serving=Serving.LOCAL, capabilities=["tools"]
        )
    )
    yield repo
    db.dispose()


def _options_ready(dialog: ExperimentDialog) -> None:
    dialog.type_box.setCurrentIndex(0)  # parameter tuning: a valid recipe with one option
    dialog.name.setText("llama-cold")
    dialog.option_edits["temperature"].setText("0.2")


def test_an_unforeseen_error_in_the_experiment_service_is_shown_in_the_dialog(
    repo, qtbot, loop, monkeypatch
):
    service = ExperimentService(repo, local=None)

    async def broken(recipe: object) -> ModelRecord:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "create", broken)
    dialog = ExperimentDialog(service, repo.resolve("llama3.1:8b"))
    qtbot.addWidget(dialog)
    _options_ready(dialog)
    dialog.create_button.click()
    until(loop, lambda: dialog.pending is not None and dialog.pending.done())
    until(loop, lambda: dialog.error.text() != "")
    assert "while creating the experiment" in dialog.error.text()
    assert "RuntimeError: disk on fire" in dialog.error.text()
    assert dialog.outcome.text() == ""  # not left on "Creating…"
    assert dialog.create_button.isEnabled()
    assert repo.count() == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/mem is Linux's")
def test_an_adapter_file_that_cannot_be_read_is_named_and_the_dialog_is_not_stuck(
    repo, qtbot, loop, emulator
):
    # /proc/self/mem is a regular file that refuses a plain read at offset 0 (EIO), even for
    # root, for whom a chmod 000 file would still be readable.
    source = OllamaSource(emulator.url)
    service = ExperimentService(repo, local=source)
    dialog = ExperimentDialog(service, repo.resolve("llama3.1:8b"))
    qtbot.addWidget(dialog)
    dialog.type_box.setCurrentIndex(3)  # fine-tuned adapter
    dialog.name.setText("llama-pirate")
    dialog.adapter.setText("/proc/self/mem")
    dialog.create_button.click()
    until(loop, lambda: dialog.pending is not None and dialog.pending.done())
    run(loop, source.aclose())
    assert dialog.error.text().startswith(f"Cannot read {Path('/proc/self/mem').resolve()}: ")
    assert dialog.outcome.text() == ""
    assert dialog.create_button.isEnabled()
    assert repo.count() == 1


def test_an_unforeseen_error_in_a_slot_switch_is_shown_in_the_slots_panel(
    tmp_path, qtbot, loop, monkeypatch
):
    from desktop_registry.services.versions.service import VersionService
    from desktop_registry.storage.slots import SlotRepository
    from desktop_registry.ui.slots_view import SlotsView

    db = Database.open(tmp_path / "slots.db")
    repo = ModelRepository(db)
    for name in ("nomic-embed-text:latest", "mxbai-embed:latest"):
        repo.register(
            ModelRecord(
                name=name, source=Source.OLLAMA, serving=Serving.LOCAL, capabilities=["embedding"]
            )
        )
    service = VersionService(repo, SlotRepository(db), None, actor="ana")
    service.create_slot("text embedding", "embedding")
    service.add_version("text embedding", "nomic-embed-text", "1.0.0")
    service.add_version("text embedding", "mxbai-embed", "1.1.0")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("the registry's disk went away")

    monkeypatch.setattr(service, "switch", broken)
    view = SlotsView(service)
    qtbot.addWidget(view)
    view.select_version("1.1.0")
    view.switch_button.click()
    until(loop, lambda: view.pending is not None and view.pending.done())
    assert "OSError: the registry's disk went away" in view.status.text()
    assert "active <b>1.0.0</b>" in view.active_label.text()
    db.dispose()
