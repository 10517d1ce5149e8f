"""The window and the CLI share one settings.json: what one saves, the other sees; settings an
earlier window kept in QSettings move into the file on first start.

Offscreen Qt, a real window, the real CLI entry point, the Ollama emulator on a real socket on a
random (so never Ollama's default) port, and QSettings in a temporary ini file.
"""

from __future__ import annotations

import json
import socket

import pytest
from PySide6.QtCore import QSettings

from desktop_registry.cli import main as cli
from desktop_registry.config import Settings, settings_path
from desktop_registry.services.settings.store import SettingsStore
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.ui.launch import settings_at_start
from desktop_registry.ui.settings_migration import migrate_window_settings
from tests.gui.conftest import run, until
from tests.servers.ollama_emulator import standard_models


@pytest.fixture(autouse=True)
def no_setting_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OLLAMA_HOST", "DESKTOP_REGISTRY_OLLAMA_URL", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    for name in ("DESKTOP_REGISTRY_THEME", "DESKTOP_REGISTRY_EVAL_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def earlier_prefs(tmp_path, **values) -> QSettings:
    prefs = QSettings(str(tmp_path / "earlier-prefs.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        prefs.setValue(key, value)
    prefs.setValue("window/geometry", b"kept")
    prefs.sync()
    return prefs


def test_a_value_set_with_the_cli_shows_in_the_settings_dialog(open_window, emulator, capsys):
    window = open_window(emulator.url)
    assert cli(["config", "set", "ollama_url", "http://gpu-box:11434"]) == 0
    assert cli(["config", "set", "eval_concurrency", "9"]) == 0
    assert cli(["config", "set", "theme", "dark"]) == 0
    dialog = window.open_settings()
    assert dialog.ollama_url.text() == "http://gpu-box:11434"
    assert dialog.eval_concurrency.value() == 9
    assert dialog.theme.currentText() == "dark"


def test_a_value_set_through_the_store_shows_in_the_settings_dialog(open_window, emulator):
    window = open_window(emulator.url)
    window.ctx.settings_store().set("mlflow_tracking_uri", "http://mlflow.team:5000")
    dialog = window.open_settings()
    assert dialog.mlflow_uri.text() == "http://mlflow.team:5000"


def test_an_ollama_url_saved_in_the_dialog_is_what_the_next_cli_sync_uses(
    open_window, emulator, loop, capsys
):
    window = open_window(dead_url())  # the window starts pointed at nothing
    until(loop, lambda: window.banner.isVisible())
    dialog = window.open_settings()
    dialog.ollama_url.setText(emulator.url)
    dialog.save()
    until(loop, lambda: not window.banner.isVisible())  # the window switched to it at once
    run(loop, window.tasks.idle())
    assert json.loads(settings_path().read_text())["ollama_url"] == emulator.url

    assert cli(["sync"]) == 0  # no --ollama-url, no OLLAMA_HOST
    assert "Synced" in capsys.readouterr().out
    db = Database.open(Settings().db_path)  # the registry the CLI uses (home from the file)
    try:
        names = {r.name for r in ModelRepository(db).list(source="ollama")}
    finally:
        db.dispose()
    assert names == {m.name for m in standard_models()}
    assert emulator.count("/api/tags") >= 1


def test_saving_the_dialog_without_edits_writes_no_defaults_into_the_file(open_window, emulator):
    window = open_window(emulator.url)
    before = json.loads(settings_path().read_text())
    window.open_settings().save()
    assert json.loads(settings_path().read_text()) == before  # eval_concurrency etc. not pinned


def test_the_settings_dialog_names_a_broken_settings_file(open_window, emulator):
    window = open_window(emulator.url)
    settings_path().write_text("{not json")
    dialog = window.open_settings()
    assert str(settings_path()) in dialog.message.text()
    assert "not valid JSON" in dialog.message.text()
    dialog.eval_concurrency.setValue(8)
    dialog.save()  # refused, said so, and the file is left for the user to fix
    assert dialog.isVisible()
    assert "was not changed" in dialog.message.text()
    assert settings_path().read_text() == "{not json"


def test_earlier_window_settings_move_into_settings_json_on_first_start(tmp_path):
    prefs = earlier_prefs(
        tmp_path,
        ollama_url="http://gpu-box:11434",
        data_dir=str(tmp_path / "registry-home"),
        mlflow_tracking_uri="http://mlflow.team:5000",
        eval_concurrency=7,
        theme="dark",
    )
    settings, notes = settings_at_start(prefs)
    assert notes == []
    assert settings.ollama_url == "http://gpu-box:11434"
    assert settings.home == tmp_path / "registry-home"
    assert settings.mlflow_tracking_uri == "http://mlflow.team:5000"
    assert settings.eval_concurrency == 7
    assert settings.theme == "dark"  # the theme the window starts with
    assert json.loads(settings_path().read_text()) == {
        "ollama_url": "http://gpu-box:11434",
        "home": str(tmp_path / "registry-home"),
        "mlflow_tracking_uri": "http://mlflow.team:5000",
        "eval_concurrency": 7,
        "theme": "dark",
    }
    reread = QSettings(str(tmp_path / "earlier-prefs.ini"), QSettings.Format.IniFormat)
    assert reread.allKeys() == ["window/geometry"]  # only the window's own layout is left
    assert settings_at_start(reread)[0].theme == "dark"  # a second start changes nothing


def test_a_value_already_in_settings_json_is_not_overwritten_by_the_migration(tmp_path):
    store = SettingsStore(settings_path())
    store.set_many({"theme": "light", "ollama_url": "http://studio:11434"})
    prefs = earlier_prefs(tmp_path, theme="dark", ollama_url="http://old:11434", eval_concurrency=3)
    assert migrate_window_settings(prefs, store) == []
    assert store.stored() == {
        "theme": "light",
        "ollama_url": "http://studio:11434",
        "eval_concurrency": 3,
    }
    assert not prefs.contains("theme") and not prefs.contains("ollama_url")


def test_an_earlier_value_that_is_no_longer_valid_is_dropped_with_a_note(tmp_path):
    prefs = earlier_prefs(tmp_path, eval_concurrency="lots", theme="dark")
    notes = migrate_window_settings(prefs, SettingsStore(settings_path()))
    assert len(notes) == 1 and "eval_concurrency" in notes[0]
    assert Settings().theme == "dark"
    assert not prefs.contains("eval_concurrency")


def test_earlier_values_stay_in_qsettings_when_settings_json_cannot_be_written(tmp_path):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text("[broken")
    prefs = earlier_prefs(tmp_path, ollama_url="http://gpu-box:11434")
    settings, notes = settings_at_start(prefs)
    assert settings.ollama_url == "http://localhost:11434"  # the defaults, and said why
    assert any("earlier version" in n for n in notes)
    assert any(str(settings_path()) in n and "not valid JSON" in n for n in notes)
    assert prefs.value("ollama_url") == "http://gpu-box:11434"  # moved on a later start
