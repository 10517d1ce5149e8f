"""Help → About names the app's version (from package metadata) and the versions of what it
runs on: Qt, the Ollama it last saw, MLflow and Optuna; it says how to enable fine-tuning."""

from __future__ import annotations

import importlib.util
from importlib.metadata import version
from typing import Any

import pytest
from PySide6.QtCore import qVersion

from tests.gui.conftest import until


def _open_about(window: Any, loop: Any) -> Any:
    from desktop_registry.ui.about_dialog import AboutDialog

    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if "About" in a.text())
    about.trigger()
    return until(loop, lambda: window.findChild(AboutDialog))


def test_help_about_shows_the_app_version_qt_ollama_seen_mlflow_and_optuna(
    open_window: Any, emulator: Any, loop: Any
):
    window = open_window(emulator.url)
    until(loop, lambda: window.sources.ollama_ok)
    dialog = _open_about(window, loop)
    shown = dialog.table.text()
    assert version("desktop-registry") in shown
    assert qVersion() in shown
    assert "0.12.6" in shown  # what the emulated Ollama reported at start
    assert version("mlflow-skinny") in shown
    assert dialog.versions()["Optuna"] in shown
    assert str(window.ctx.settings.home) in shown
    dialog.close()


def test_about_says_ollama_was_not_seen_when_it_is_not_running(open_window: Any, loop: Any):
    window = open_window("http://127.0.0.1:9")
    until(loop, lambda: window.sources.ollama_ok is False)
    dialog = _open_about(window, loop)
    assert "not seen yet" in dialog.versions()["Ollama"]
    dialog.close()


def test_about_tells_how_to_enable_fine_tuning_when_torch_is_not_installed(
    open_window: Any, emulator: Any, loop: Any, monkeypatch: pytest.MonkeyPatch
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    window = open_window(emulator.url)
    dialog = _open_about(window, loop)
    assert "pip install 'desktop-registry[finetune]'" in dialog.finetune.text()
    dialog.close()
