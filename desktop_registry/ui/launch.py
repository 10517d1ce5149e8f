"""Starts Qt with a qasync event loop, builds the app context and shows the main window.

Never does slow work before the window is shown; one qasync loop per QApplication.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox


def settings_from_prefs(prefs: QSettings) -> Any:
    """Settings with what the user chose in the Settings dialog; environment variables win."""
    from desktop_registry.config import Settings

    overrides: dict[str, Any] = {}
    url = prefs.value("ollama_url", "")
    if url and not os.environ.get("DESKTOP_REGISTRY_OLLAMA_URL"):
        overrides["ollama_url"] = str(url)
    home = prefs.value("data_dir", "")
    if home and not os.environ.get("DESKTOP_REGISTRY_HOME"):
        overrides["home"] = Path(str(home))
    mlflow_uri = prefs.value("mlflow_tracking_uri", "")
    if mlflow_uri and not os.environ.get("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI"):
        overrides["mlflow_tracking_uri"] = str(mlflow_uri)
    concurrency = prefs.value("eval_concurrency", "")
    if concurrency and not os.environ.get("DESKTOP_REGISTRY_EVAL_CONCURRENCY"):
        with contextlib.suppress(ValueError):  # a hand-edited prefs file: keep the default
            overrides["eval_concurrency"] = min(64, max(1, int(str(concurrency))))
    return Settings(**overrides)


def run_gui(argv: Sequence[str]) -> int:
    import qasync

    from desktop_registry.app import build_context
    from desktop_registry.errors import RegistryError
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv))
    assert isinstance(app, QApplication)
    app.setApplicationName("Desktop Registry")
    app.setOrganizationName("DesktopRegistry")
    prefs = QSettings()
    theme = str(prefs.value("theme", "system"))
    apply_theme(app, theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        ctx = build_context(settings_from_prefs(prefs))
    except RegistryError as exc:
        QMessageBox.critical(None, "Desktop Registry", str(exc))
        return 1
    window = MainWindow(ctx, prefs)
    # Follow the OS while the user has not chosen a theme by hand.
    app.styleHints().colorSchemeChanged.connect(
        lambda _scheme: apply_theme(app, str(prefs.value("theme", "system")))
    )
    window.show()
    window.start()
    with loop:
        loop.run_until_complete(window.closed.wait())
        loop.run_until_complete(window.aclose())
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv))
