"""Starts Qt with a qasync event loop, builds the app context and shows the main window.

Never does slow work before the window is shown; one qasync loop per QApplication.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

if TYPE_CHECKING:
    from desktop_registry.config import Settings


def settings_at_start(prefs: QSettings) -> tuple[Settings, list[str]]:
    """The Settings this start uses (settings.json, after moving into it what an earlier window
    kept in `prefs`; environment variables win), and what the user should be told about them."""
    from desktop_registry.config import load_settings, settings_path
    from desktop_registry.services.settings.store import SettingsStore
    from desktop_registry.ui.settings_migration import migrate_window_settings

    store = SettingsStore(settings_path())
    notes = migrate_window_settings(prefs, store)
    problem = store.problem()  # a broken file: the defaults are used, and the user is told
    if problem:
        notes.append(problem)
    return load_settings(), notes


def close_on_interrupt(window: QWidget) -> QTimer:
    """Ctrl+C in the terminal closes the window the way its close button does (jobs become
    resumable, clients close) instead of a KeyboardInterrupt traceback while it keeps running.
    Python runs signal handlers only when it has control, so a timer hands it control."""
    signal.signal(signal.SIGINT, lambda _signum, _frame: QTimer.singleShot(0, window.close))
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def run_gui(argv: Sequence[str]) -> int:
    import qasync

    from desktop_registry.app import build_context
    from desktop_registry.errors import RegistryError
    from desktop_registry.ui.about_dialog import app_icon
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.single_instance import SingleInstance, bring_forward, second_start
    from desktop_registry.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv))
    assert isinstance(app, QApplication)
    app.setApplicationName("Desktop Registry")
    app.setOrganizationName("DesktopRegistry")
    app.setDesktopFileName("desktop-registry")  # Wayland/X11 match the window to its .desktop
    app.setWindowIcon(app_icon())
    prefs = QSettings()  # window geometry and splitters only; settings are in settings.json
    try:
        settings, notes = settings_at_start(prefs)
        guard = SingleInstance(settings.home)  # one window per registry (single_instance.py)
        if not guard.acquire():
            outcome = second_start(guard)
            if outcome not in ("shown", "cancelled"):
                QMessageBox.warning(None, "Desktop Registry", outcome)
            return 0 if outcome in ("shown", "cancelled") else 1
        apply_theme(app, settings.theme)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        ctx = build_context(settings)
    except RegistryError as exc:
        QMessageBox.critical(None, "Desktop Registry", str(exc))
        return 1
    window = MainWindow(ctx, prefs)
    guard.listen(lambda: bring_forward(window))
    # Follow the OS while the theme is "system" (the store keeps ctx.settings.theme current).
    app.styleHints().colorSchemeChanged.connect(
        lambda _scheme: apply_theme(app, ctx.settings.theme)
    )
    window.show()
    window.start()
    close_on_interrupt(window)
    if notes:  # after start's own status-bar messages, so it is the one left showing
        QTimer.singleShot(0, lambda: window.report(" ".join(notes)))
    with loop:
        loop.run_until_complete(window.closed.wait())
        loop.run_until_complete(window.aclose())
    ctx.close()
    guard.release()
    return 0


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv))
