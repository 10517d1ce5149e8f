"""The Settings dialog's MLflow tracking URI: applies to the running window at once, is kept in
settings.json for the next start (and the CLI), and never stores a password. Offscreen Qt, a
real window over the emulator."""

from __future__ import annotations

import json

import pytest

from desktop_registry.config import Settings, settings_path
from desktop_registry.tracking.mlflow import default_tracking_uri


@pytest.fixture(autouse=True)
def no_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", raising=False)


def test_the_dialog_sets_the_mlflow_store_now_and_for_the_next_start(
    open_window, emulator, tmp_path
):
    window = open_window(emulator.url)
    dialog = window.open_settings()
    assert dialog.mlflow_uri.text() == ""
    assert dialog.mlflow_uri.placeholderText() == default_tracking_uri(window.ctx.db.path.parent)
    uri = f"sqlite:///{tmp_path / 'team' / 'mlflow.db'}"
    dialog.mlflow_uri.setText(uri)
    dialog.save()
    assert window.ctx.tracker().tracking_uri == uri
    assert Settings().mlflow_tracking_uri == uri  # what the next start (or the CLI) reads

    # Cleared again: back to mlflow.db beside the registry.
    dialog = window.open_settings()
    assert dialog.mlflow_uri.text() == uri
    dialog.mlflow_uri.setText("")
    dialog.save()
    assert window.ctx.mlflow_tracking_uri() == default_tracking_uri(window.ctx.db.path.parent)
    assert Settings().mlflow_tracking_uri is None
    assert "mlflow_tracking_uri" not in json.loads(settings_path().read_text())


def test_a_password_in_the_mlflow_uri_is_refused_and_not_stored(open_window, emulator, tmp_path):
    window = open_window(emulator.url)
    dialog = window.open_settings()
    dialog.mlflow_uri.setText("https://ana:hunter2@mlflow.example.com")
    dialog.save()
    assert "MLFLOW_TRACKING_PASSWORD" in dialog.message.text()
    assert dialog.isVisible()  # still open, so the user can fix it
    assert window.ctx.settings.mlflow_tracking_uri is None
    assert window.ctx.settings_store().get("mlflow_tracking_uri").value is None
    assert "hunter2" not in settings_path().read_text()
    window.prefs.sync()
    prefs_file = tmp_path / "prefs.ini"
    assert not prefs_file.exists() or "hunter2" not in prefs_file.read_text()


def test_the_dialog_says_when_mlflow_tracking_uri_in_the_environment_wins(
    open_window, emulator, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.team:5000")
    window = open_window(emulator.url)
    dialog = window.open_settings()
    assert "MLFLOW_TRACKING_URI" in dialog.mlflow_note.text()
    assert "used instead" in dialog.mlflow_note.text()


def test_the_dialog_sets_evaluation_concurrency_now_and_for_the_next_start(
    open_window, emulator, monkeypatch
):
    monkeypatch.delenv("DESKTOP_REGISTRY_EVAL_CONCURRENCY", raising=False)
    window = open_window(emulator.url)
    dialog = window.open_settings()
    assert dialog.eval_concurrency.value() == 4
    dialog.eval_concurrency.setValue(7)
    dialog.save()
    assert window.ctx.evaluation(tracked=False).limit_for("ollama") == 7
    assert Settings().eval_concurrency == 7
    stored = json.loads(settings_path().read_text())
    settings_path().write_text(json.dumps({**stored, "eval_concurrency": "lots"}))  # a hand edit
    assert Settings().eval_concurrency == 4
