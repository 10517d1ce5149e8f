"""The window's work area: Home and the feature panels stay, chats and Jobs open and close.

Feature panels are built the first time their tab is shown (start-up stays fast); a panel that
fails to build shows why in its tab instead of taking the window down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QWidget

from desktop_registry.ui import panels

if TYPE_CHECKING:
    from desktop_registry.ui.jobs_view import JobsPanel
    from desktop_registry.ui.main_window import MainWindow

MAX_TITLE = 19  # characters of a chat's tab title; the whole title is its tooltip


class WorkTabs(QTabWidget):
    MIN_WIDTH = 420  # the fixed tabs and a chat's tab fit; no panel can force the area wider

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.setTabsClosable(True)
        self.setDocumentMode(True)
        self.setUsesScrollButtons(True)
        # Short fixed titles are never elided ("Ho…" helps nobody); long chat titles are
        # shortened one by one in set_title, and the bar scrolls when tabs do not fit.
        self.setElideMode(Qt.TextElideMode.ElideNone)
        self.jobs_panel: JobsPanel | None = None
        self._panels: dict[int, panels.PanelFactory] = {}  # tab index → factory, not built yet

    def add_fixed(self, widget: QWidget, title: str) -> int:
        index = self.addTab(widget, title)
        self._fixed_tab(index)
        return index

    def add_panels(self) -> None:
        """One placeholder tab per feature panel; the panel replaces it when first selected."""
        for title, target in panels.PANELS:
            placeholder = QLabel(f"{title} opens when you select this tab.")
            index = self.add_fixed(placeholder, title)
            self._panels[index] = target
        self.currentChanged.connect(self._tab_changed)
        self.tabCloseRequested.connect(self._close_tab)

    def open(self, widget: QWidget, title: str) -> QWidget:
        """A closable tab (a chat, a comparison), shown at once."""
        self.addTab(widget, "")
        self.set_title(widget, title)
        self.setCurrentWidget(widget)
        return widget

    def set_title(self, widget: QWidget, title: str) -> None:
        index = self.indexOf(widget)
        short = _short_title(title)
        short = short if len(short) <= MAX_TITLE else short[: MAX_TITLE - 1].rstrip() + "…"
        self.setTabText(index, short)
        self.setTabToolTip(index, title if short != title else "")

    def show_jobs(self) -> JobsPanel:
        if self.jobs_panel is None:
            from desktop_registry.ui.jobs_view import JobsPanel

            self.jobs_panel = JobsPanel(self.window_)
            self.addTab(self.jobs_panel, "Jobs")
        self.setCurrentWidget(self.jobs_panel)
        return self.jobs_panel

    def _fixed_tab(self, index: int) -> None:
        """Home and feature panels stay: no close button on their tabs."""
        bar = self.tabBar()
        for side in (bar.ButtonPosition.RightSide, bar.ButtonPosition.LeftSide):
            button = bar.tabButton(index, side)
            if button is not None:
                button.resize(0, 0)
                bar.setTabButton(index, side, None)

    def _tab_changed(self, index: int) -> None:
        factory = self._panels.pop(index, None)
        if factory is None:
            return
        title = self.tabText(index)
        try:
            widget = factory(self.window_.ctx, self.window_)
        except Exception as exc:  # a broken panel must not take the window down
            widget = QLabel(f"The {title} panel could not open: {type(exc).__name__}: {exc}")
            widget.setObjectName("error")
            widget.setWordWrap(True)
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.blockSignals(True)
        old = self.widget(index)
        self.removeTab(index)
        self.insertTab(index, widget, title)
        self._fixed_tab(index)
        self.setCurrentIndex(index)
        self.blockSignals(False)
        if old is not None:
            old.deleteLater()

    def _panel_widgets(self) -> list[QWidget | None]:
        closable = (self.jobs_panel, self.window_.home)
        out = []
        for i in range(self.count()):
            w = self.widget(i)
            if w not in closable and not hasattr(w, "stop"):
                out.append(w)
        return out

    def _close_tab(self, index: int) -> None:
        widget = self.widget(index)
        if widget is self.window_.home or index in self._panels or widget in self._panel_widgets():
            return
        stop = getattr(widget, "stop", None)
        if callable(stop):
            stop()
        if widget is self.jobs_panel:
            self.jobs_panel = None
        # Panels from panels.PANELS stay: only chats and the jobs tab close.
        self.removeTab(index)
        self._panels = {(i - 1 if i > index else i): t for i, t in self._panels.items()}
        if widget is not None:
            widget.deleteLater()


def _short_title(title: str) -> str:
    """'Chat · hf.co/bartowski/Qwen2.5-Coder-7B' → 'Chat · Qwen2.5-Coder-7B': the model's own name
    is what tells tabs apart; its registry path is in the tooltip."""
    kind, sep, name = title.partition(" · ")
    if not sep or "/" not in name:
        return title
    return f"{kind}{sep}{name.rstrip('/').rsplit('/', 1)[-1]}"
