"""The window's layout at its default size: the splitter keeps the sizes a user chose across tab
switches and restarts, no pane drops below a readable width, and the tabs fit without arrows."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

from desktop_registry.ui.inspector import ModelInspector
from desktop_registry.ui.model_tree import ModelBrowser
from desktop_registry.ui.work_tabs import WorkTabs


def tab_index(window, title: str) -> int:
    return next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == title)


def test_splitter_sizes_are_kept_across_tab_switches_and_restarts(open_window, emulator):
    window = open_window(emulator.url)
    window.resize(1280, 800)
    QApplication.processEvents()
    window.splitter.setSizes([300, 640, 320])
    window.splitter.splitterMoved.emit(300, 1)  # what a drag of the handle sends
    QApplication.processEvents()
    chosen = window.splitter.sizes()
    for title in ("Library", "Compare", "Slots", "Home", "Library"):
        window.tabs.setCurrentIndex(tab_index(window, title))
        QApplication.processEvents()
        assert window.splitter.sizes() == chosen, f"after opening {title}"
    window.close()
    again = open_window(emulator.url)
    again.resize(1280, 800)
    QApplication.processEvents()
    assert again.splitter.sizes() == chosen


def test_no_pane_can_be_dragged_or_restored_below_a_readable_width(open_window, emulator):
    window = open_window(emulator.url)
    window.resize(1280, 800)
    QApplication.processEvents()
    window.tabs.setCurrentIndex(tab_index(window, "Library"))
    window.splitter.setSizes([10, 2000, 10])
    QApplication.processEvents()
    tree, _tabs, inspector = window.splitter.sizes()
    assert tree >= ModelBrowser.MIN_WIDTH
    assert inspector >= ModelInspector.MIN_WIDTH
    window.splitter.setSizes([2000, 10, 10])
    QApplication.processEvents()
    assert window.splitter.sizes()[1] >= WorkTabs.MIN_WIDTH
    # The Library panel itself fits in the narrowest work area (nothing is cut off).
    library = window.tabs.widget(tab_index(window, "Library"))
    assert library.minimumSizeHint().width() <= WorkTabs.MIN_WIDTH


def test_the_tabs_fit_at_the_default_width_with_a_chat_and_jobs_open(open_window, emulator):
    window = open_window(emulator.url)
    window.resize(1280, 800)
    QApplication.processEvents()
    window.tabs.open(QWidget(), "Chat · hf.co/bartowski/Qwen2.5-Coder-7B-Instruct-GGUF")
    window.show_jobs()
    QApplication.processEvents()
    bar = window.tabs.tabBar()
    needed = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
    assert needed <= bar.width(), "tabs overflow into scroll arrows"
    assert all(bar.tabText(i) for i in range(bar.count()))
