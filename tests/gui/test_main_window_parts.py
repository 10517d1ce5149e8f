"""The main window's parts working together: the Library panel's Pull reaches the window's pull
dialog, chat tabs close while feature panels stay, and the menus reach their commands."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from desktop_registry.ui.pull_dialog import PullDialog
from tests.gui.conftest import PULLABLE, until


def tab_index(window, title: str) -> int:
    return next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == title)


def test_pull_in_the_library_panel_opens_the_pull_dialog_with_the_name(synced_window, loop):
    window = synced_window
    window.tabs.setCurrentIndex(tab_index(window, "Library"))
    library = window.tabs.widget(tab_index(window, "Library"))
    library.request_pull(PULLABLE.name)
    dialog = next(d for d in window.findChildren(PullDialog) if d.isVisible())
    assert dialog.name.text() == PULLABLE.name
    assert "no pull dialog" not in library.status.text()
    dialog.pull_button.click()
    until(loop, lambda: "is pulled" in dialog.status.text())
    assert PULLABLE.name in {e.name for e in window.entries}
    dialog.close()


def test_chat_tabs_close_but_home_and_panels_stay(synced_window):
    window = synced_window
    fixed = window.tabs.count()  # Home and the feature panels
    pane = window.chat_with(window.ctx.models.find("llama3.1:8b").id)
    window.show_jobs()
    assert window.tabs.count() == fixed + 2
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(pane))
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(window._jobs_panel))
    assert window.tabs.count() == fixed and window._jobs_panel is None
    for index in range(fixed):
        window.tabs.tabCloseRequested.emit(index)
    assert window.tabs.count() == fixed
    assert window.tabs.tabText(0) == "Home"


def test_the_menus_reach_their_commands(synced_window):
    window = synced_window
    actions = {
        a.text().replace("&", ""): a
        for menu in window.menuBar().findChildren(QMenu)
        for a in menu.actions()
    }
    assert actions["Sync all sources"].shortcut().toString() == "Ctrl+R"
    before = window.tabs.count()
    actions["New chat"].trigger()
    chat = window.tabs.widget(before)  # titled after the model it opened on
    assert window.tabs.count() == before + 1
    assert window.tabs.tabText(before) == f"Chat · {chat.picker.model_name()}"
    actions["Jobs"].trigger()
    assert window.tabs.currentWidget() is window._jobs_panel


def test_the_github_token_state_is_read_off_the_event_loop_and_shown(
    open_window, emulator, loop, monkeypatch
):
    import threading

    from desktop_registry.sources.credentials import TokenStore

    threads: list[threading.Thread] = []
    real_status = TokenStore.status

    def watched_status(self):
        threads.append(threading.current_thread())
        return real_status(self)

    monkeypatch.setattr(TokenStore, "status", watched_status)
    monkeypatch.setenv("GH_TOKEN", "github_pat_from_the_environment")
    window = open_window(emulator.url)
    until(loop, lambda: "token from env" in window.status.github.text())
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert "github_pat" not in window.status.github.text()
