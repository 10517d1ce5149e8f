"""The main window's menu bar: every command a user can reach by menu or shortcut.

Builds actions that call the window's methods; never does the work itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

if TYPE_CHECKING:
    from desktop_registry.ui.main_window import MainWindow


def add_action(
    window: QMainWindow, menu: QMenu, text: str, slot: Callable[[], object], shortcut: str = ""
) -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    """File, Registry, Chat and View menus on `window` (a MainWindow)."""
    bar = window.menuBar()
    file = bar.addMenu("&File")
    add_action(window, file, "&Settings…", window.open_settings, "Ctrl+,")
    file.addSeparator()
    add_action(window, file, "&Quit", window.close, "Ctrl+Q")
    registry = bar.addMenu("&Registry")
    add_action(window, registry, "&Sync all sources", window.sync, "Ctrl+R")
    add_action(window, registry, "&Pull a model…", window.open_pull, "Ctrl+P")
    add_action(window, registry, "&Refresh", window.refresh_all, "F5")
    chat = bar.addMenu("&Chat")
    add_action(window, chat, "&New chat", window.new_chat, "Ctrl+N")
    add_action(window, chat, "&Compare models…", window.open_compare, "Ctrl+Shift+N")
    add_action(window, chat, "&Saved chats…", window.open_saved_chat, "Ctrl+O")
    view = bar.addMenu("&View")
    add_action(window, view, "&Filter models", window.focus_filter, "Ctrl+F")
    add_action(window, view, "&Jobs", window.show_jobs, "Ctrl+J")
    theme = view.addMenu("&Theme")
    for mode in ("system", "light", "dark"):
        add_action(window, theme, mode.capitalize(), partial(window.set_theme, mode))
    help_menu = bar.addMenu("&Help")
    add_action(window, help_menu, "&About Desktop Registry", partial(_about, window))


def _about(window: MainWindow) -> None:
    from desktop_registry.ui.about_dialog import show_about

    show_about(window)  # parented to the window, so it lives until closed
