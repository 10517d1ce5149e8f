"""The main window: category tree, tabbed work area (home, chats, jobs, panels), inspector.

Shows state and sends intents to services on the qasync loop; never blocks it, never shows a
traceback (errors go to the status bar or a dialog). Its parts live beside it: window_menus.py
(menu bar), work_tabs.py (tabs), model_actions.py (the selected model's commands) and
source_status.py (Ollama banner, GitHub token, last sync). What the tabs, panels and dialogs it
opens may use of it is named in window_api.py.
"""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.app import AppContext
from desktop_registry.domain.entries import ModelEntry
from desktop_registry.domain.jobs import JobState
from desktop_registry.errors import RegistryError
from desktop_registry.services.jobs.service import JobUpdate
from desktop_registry.ui.event_bridge import EventBridge
from desktop_registry.ui.home_view import HomeView
from desktop_registry.ui.inspector import ModelInspector
from desktop_registry.ui.model_actions import ModelActions
from desktop_registry.ui.model_tree import ModelBrowser
from desktop_registry.ui.rate_limit_status import RateLimitLabel
from desktop_registry.ui.source_status import Banner, SourceStatus
from desktop_registry.ui.status_bar import WindowStatusBar
from desktop_registry.ui.suite_import import accept_window_drops
from desktop_registry.ui.tasks import TaskRunner
from desktop_registry.ui.theme import apply_theme
from desktop_registry.ui.window_menus import build_menus
from desktop_registry.ui.work_tabs import WorkTabs

# Tabs and dialogs are imported when first opened: the window must show fast.
if TYPE_CHECKING:
    from desktop_registry.services.serving.service import ServingService
    from desktop_registry.ui.chat_pane import ChatPane
    from desktop_registry.ui.conversation_list import ConversationList
    from desktop_registry.ui.jobs_view import JobsPanel
    from desktop_registry.ui.pull_dialog import PullDialog
    from desktop_registry.ui.settings_dialog import SettingsDialog
    from desktop_registry.ui.side_by_side_chat import SideBySideChat
    from desktop_registry.ui.window_api import OllamaServer


def settle_heap() -> None:
    """Once the window is up, freeze what is alive (modules, widgets, the registry's entries all
    live as long as the window), so a later full collection walks only what was made since.
    Unfrozen, a full collection of a large heap stops the event loop for 100 ms and more —
    mid-stream in a chat. No collection first: that would cost start-up the same 100 ms."""
    gc.freeze()


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, prefs: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.prefs = prefs or QSettings()
        self.closed = asyncio.Event()
        self.tasks = TaskRunner(self.report)
        self.entries: list[ModelEntry] = []
        self._serving: ServingService | None = None
        self._chat_list: ConversationList | None = None
        self.sources = SourceStatus(self)
        self.model_actions = ModelActions(self)
        self.setWindowTitle("Desktop Registry")
        self.resize(1280, 780)

        self.banner = Banner()
        self.browser = ModelBrowser()
        self.tabs = WorkTabs(self)
        self.inspector = ModelInspector()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.inspector)
        self.splitter.setSizes([290, 680, 290])  # the work area fits every fixed tab, a chat, Jobs
        self.splitter.setStretchFactor(1, 1)
        # Each pane keeps a readable width whatever tab opens (a wide panel never squeezes the
        # tree or the inspector), and the sizes a user drags are kept at once.
        self.splitter.setChildrenCollapsible(False)
        self.tabs.setMinimumWidth(WorkTabs.MIN_WIDTH)
        self.inspector.setMinimumWidth(ModelInspector.MIN_WIDTH)
        self.splitter.splitterMoved.connect(lambda *_: self._save_splitter())
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status = WindowStatusBar()
        self.setStatusBar(self.status)
        self.rate_limits = RateLimitLabel(self)  # GitHub Models requests left, in the status bar

        self.home = HomeView(self)
        self.tabs.add_fixed(self.home, "Home")
        self.tabs.add_panels()

        build_menus(self)
        accept_window_drops(self)  # a .prompt.yml dropped on the window is imported
        self.browser.model_selected.connect(self.show_model)
        self.inspector.chat_requested.connect(self.chat_with)
        self.inspector.model_link.connect(self.browser.select_model)
        self.model_actions.connect(self.inspector)
        self.banner.retry.clicked.connect(self.retry_ollama)
        self.banner.settings.clicked.connect(self.open_settings)
        # Changes are pushed: registry writes, settings and job progress arrive as signals.
        self.events = EventBridge(ctx.events, self)
        self.events.models_changed.connect(self._models_changed)
        self.events.job_progress.connect(self._on_job)
        self.events.model_served.connect(self.model_actions.model_served)  # "In memory" refresh
        ctx.jobs()  # job progress is published from here on
        self._restore_state()

    @property
    def _jobs_panel(self) -> JobsPanel | None:
        """The Jobs tab while it is open, else None."""
        return self.tabs.jobs_panel

    # ----- state -------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.prefs.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.prefs.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _save_splitter(self) -> None:
        self.prefs.setValue("window/splitter", self.splitter.saveState())

    def _save_state(self) -> None:
        self.prefs.setValue("window/geometry", self.saveGeometry())
        self._save_splitter()
        self.prefs.sync()

    def start(self) -> None:
        """After show(): fill the tree, mark dead jobs interrupted, check Ollama in the background."""
        self.refresh_models()
        try:
            interrupted = self.ctx.jobs().recover()
        except RegistryError as exc:
            self.report(str(exc))
            interrupted = []
        if interrupted:
            self.report(
                f"{len(interrupted)} job(s) were interrupted last time — see Jobs to resume."
            )
        self.tasks.spawn(self.sources.check_ollama(), "checking Ollama")
        # Status-bar details (keyring, job history) wait until the populated window is painted.
        QTimer.singleShot(0, self.sources.show_last_sync)
        QTimer.singleShot(0, self.sources.show_github)
        QTimer.singleShot(0, settle_heap)

    def report(self, message: str) -> None:
        self.status.showMessage(message, 15000)

    # ----- services ----------------------------------------------------------------------
    def serving(self) -> ServingService:
        if self._serving is None:
            self._serving = self.ctx.serving()
        return self._serving

    def serving_if_built(self) -> ServingService | None:
        """The serving service once a chat has built it (building it imports the SDKs), else None."""
        return self._serving

    def ollama(self) -> OllamaServer:
        return self.ctx.ollama()  # built once per context, rebuilt when the URL changes

    def retry_ollama(self) -> None:
        self.sources.retry_ollama()

    # ----- models ------------------------------------------------------------------------
    def refresh_models(self) -> None:
        try:
            registry = self.ctx.registry()
            self.entries = registry.entries()
            lineage = registry.parent_links()
        except RegistryError as exc:
            self.report(str(exc))
            return
        self.browser.set_entries(self.entries, lineage)
        self.home.refresh()

    def _models_changed(self) -> None:
        """The registry was written (a sync, a pull, a new variant, a deletion …)."""
        self.refresh_models()
        model_id = self.browser.selected_id()
        if model_id is not None and any(entry.id == model_id for entry in self.entries):
            self.show_model(model_id)

    def refresh_all(self) -> None:
        self.refresh_models()
        self.retry_ollama()
        self.sources.show_github()
        if self._jobs_panel is not None:
            self._jobs_panel.reload()
        model_id = self.browser.selected_id()
        if model_id is not None:
            self.show_model(model_id)

    def focus_filter(self) -> None:
        self.browser.filter_box.setFocus()
        self.browser.filter_box.selectAll()

    def show_model(self, model_id: int) -> None:
        self.model_actions.show(model_id)

    # ----- jobs --------------------------------------------------------------------------
    def sync(self) -> None:
        try:
            self.ctx.jobs().submit("sync", {}, "Sync all sources")
        except RegistryError as exc:
            self.report(str(exc))
            return
        self.report("Syncing every configured source…")

    def _on_job(self, update: JobUpdate) -> None:
        if update.state.finished:
            self.events.flush()  # what the job wrote is in the tree before anyone says "done"
        running = set(self.ctx.jobs().running_here())
        if update.state.finished:
            running.discard(update.job_id)  # its task is finishing right now
        self.status.set_jobs(len(running))
        if update.state is JobState.SUCCEEDED and update.kind in ("sync", "pull"):
            if update.kind == "sync":
                self.sources.show_last_sync()
            self.report(update.message or f"{update.kind} finished")
        elif update.state in (JobState.FAILED, JobState.INTERRUPTED):
            self.report(update.line or f"A {update.kind} job {update.state.value}.")

    def show_jobs(self) -> None:
        self.tabs.show_jobs()

    def open_pull(self, name: str = "") -> PullDialog:
        from desktop_registry.ui.pull_dialog import PullDialog

        dialog = PullDialog(self, name)
        dialog.show()
        return dialog

    def open_pull_dialog(self, name: str) -> PullDialog:
        """The Library panel's Pull button: the same dialog, the model's name filled in."""
        return self.open_pull(name)

    # ----- chats -------------------------------------------------------------------------
    def chat_with(self, model_id: int | None) -> ChatPane:
        from desktop_registry.ui.chat_pane import ChatPane

        name = ""
        if model_id is not None:
            name = self.ctx.registry().get(model_id).name
        pane = ChatPane(self, name)
        name = name or pane.picker.model_name()
        self.tabs.open(pane, f"Chat · {name}" if name else "Chat")
        pane.model_changed.connect(lambda model: self.tabs.set_title(pane, f"Chat · {model}"))
        pane.branched.connect(self.open_conversation)
        pane.input.prompt.setFocus()
        return pane

    def new_chat(self) -> ChatPane:
        """Ctrl+N: a chat on the model selected in the tree (else the picker's first)."""
        return self.chat_with(self.browser.selected_id())

    def open_compare(self, names: list[str] | None = None) -> SideBySideChat:
        from desktop_registry.ui.side_by_side_chat import SideBySideChat

        view = SideBySideChat(self, names)
        self.tabs.open(view, "Compare chat")  # not "Compare": that is the model comparison panel
        return view

    def open_saved_chat(self) -> ConversationList:
        """The Chats tab: saved conversations to search, open, rename, delete and export."""
        from desktop_registry.ui.conversation_list import ConversationList

        if self._chat_list is None or self.tabs.indexOf(self._chat_list) < 0:
            self._chat_list = ConversationList(self)
            self._chat_list.open_requested.connect(self.open_conversation)
            self.tabs.open(self._chat_list, "Chats")
        self._chat_list.refresh()
        self.tabs.setCurrentWidget(self._chat_list)
        return self._chat_list

    def open_conversation(self, conversation_id: int) -> ChatPane | SideBySideChat:
        conversation = self.ctx.conversations().get(conversation_id)
        view: ChatPane | SideBySideChat
        if len(conversation.models) > 1:
            view = self.open_compare(conversation.models)
        else:
            view = self.chat_with(None)
            self.tabs.set_title(view, f"Chat · {conversation.title}")
        view.load(conversation)
        return view

    # ----- settings and theme ------------------------------------------------------------
    def open_settings(self) -> SettingsDialog:
        from desktop_registry.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.show()
        return dialog

    def apply_settings(self, *, ollama_url: str, data_dir: str, theme: str) -> None:
        """Save through the settings store (settings.json, which the CLI reads too) and apply."""
        store = self.ctx.settings_store()
        before = self.ctx.settings.ollama_url
        try:
            changes: dict[str, str] = {}
            # Also when the file has it already but this window still uses another URL.
            if ollama_url != store.get("ollama_url").value or ollama_url != before:
                changes["ollama_url"] = ollama_url
            if data_dir != str(store.get("home").value):
                changes["home"] = data_dir
            change = store.set_many(changes)
        except RegistryError as exc:
            self.report(str(exc))
            return
        if self.ctx.settings.ollama_url != before:
            self._serving = None
            self.retry_ollama()
        if change.notes:
            self.report(" ".join(change.notes))
        self.set_theme(theme)
        self.sources.show_github()

    def set_theme(self, mode: str) -> None:
        """Save the theme through the settings store and apply the one in effect (an
        environment variable, DESKTOP_REGISTRY_THEME, wins over the saved choice)."""
        applied = mode
        try:
            store = self.ctx.settings_store()
            if mode != store.get("theme").value or mode != self.ctx.settings.theme:
                change = store.set("theme", mode)
                if change.notes:
                    self.report(" ".join(change.notes))
            applied = self.ctx.settings.theme
        except RegistryError as exc:
            self.report(str(exc))  # still shown for this session
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, applied)

    # ----- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_state()
        self.events.close()
        self.closed.set()
        super().closeEvent(event)

    async def aclose(self) -> None:
        """Stop running work (jobs become interrupted, resumable next start) and close sources."""
        await self.ctx.jobs().shutdown()
        for task in list(self.tasks.tasks):
            task.cancel()
        await self.tasks.idle()
        await self.ctx.aclose()
        gc.unfreeze()  # what the window kept alive may now be collected
