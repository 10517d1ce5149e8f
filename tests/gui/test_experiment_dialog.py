"""The "New experiment" dialog: validation names the field; an ensemble is created from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_registry.domain import Kind, ModelRecord, Serving, Source
from desktop_registry.services.experiments.service import ExperimentService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.ui.experiment_dialog import ExperimentDialog, mlflow_location_text
from tests.gui.conftest import until


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[ModelRepository]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    for name in ("llama3.1:8b", "qwen3:8b", "phi:2.7b"):
        repo.register(
            ModelRecord(
                name=name, source=Source.OLLAMA, serving=Serving.LOCAL, capabilities=["completion"]
            )
        )
    yield repo
    db.dispose()


def test_a_negative_temperature_is_refused_in_the_dialog_naming_the_field(repo, qtbot):
    service = ExperimentService(repo, local=None)  # nothing reaches Ollama: the check stops it
    dialog = ExperimentDialog(service, repo.resolve("llama3.1:8b"))
    qtbot.addWidget(dialog)
    dialog.name.setText("llama-cold")
    dialog.option_edits["temperature"].setText("-1")
    dialog.create_button.click()
    assert dialog.error.text().startswith("The recipe is not valid: options.temperature")
    assert dialog.pending is None
    assert repo.count() == 3


def test_an_ensemble_made_in_the_dialog_is_registered_with_its_lineage(repo, qtbot, loop):
    service = ExperimentService(repo, local=None)
    dialog = ExperimentDialog(service, repo.resolve("llama3.1:8b"))
    qtbot.addWidget(dialog)
    dialog.type_box.setCurrentIndex(2)  # Ensemble
    assert dialog.pages.currentIndex() == 2
    dialog.name.setText("trio")
    for i in range(dialog.members.count()):
        dialog.members.item(i).setCheckState(Qt.CheckState.Checked)
    dialog.create_button.click()
    until(loop, lambda: dialog.pending is not None and dialog.pending.done())
    assert dialog.error.text() == ""
    record = repo.find("trio", source="mlflow")
    assert record is not None and record.kind is Kind.EXPERIMENTAL
    assert sorted(record.parameters["experiment"]["members"]) == [
        "llama3.1:8b",
        "phi:2.7b",
        "qwen3:8b",
    ]
    assert "Created trio" in dialog.outcome.text()
    assert mlflow_location_text(record) == "trio is not tracked in MLflow."
