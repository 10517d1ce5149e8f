"""The main window: category tree, tabbed work area (home, chats, jobs, panels), inspector.

Shows state and sends intents to services on the qasync loop; never blocks it, never shows a
traceback (errors go to the status bar or a dialog).
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.app import AppContext
from desktop_registry.domain.jobs import JobState
from desktop_registry.errors import RegistryError
from desktop_registry.services.jobs import JobUpdate
from desktop_registry.storage.model_index import ModelEntry, ModelIndex
from desktop_registry.storage.repository import MODELS
from desktop_registry.ui import panels
from desktop_registry.ui.home_view import HomeView
from desktop_registry.ui.inspector import ModelInspector
from desktop_registry.ui.model_tree import ModelBrowser
from desktop_registry.ui.status_bar import WindowStatusBar
from desktop_registry.ui.tasks import TaskRunner
from desktop_registry.ui.theme import apply_theme


class Banner(QFrame):
    """A strip across the top for a problem the user can fix (Ollama not running)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.retry = QPushButton("Retry")
        self.settings = QPushButton("Settings…")
        row = QHBoxLayout(self)
        row.addWidget(self.text, 1)
        row.addWidget(self.retry)
        row.addWidget(self.settings)
        self.setVisible(False)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, prefs: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.prefs = prefs or QSettings()
        self.closed = asyncio.Event()
        self.tasks = TaskRunner(self.report)
        self.entries: list[ModelEntry] = []
        self._serving: Any = None
        self._ollama: Any = None
        self.ollama_ok: bool | None = None
        self.setWindowTitle("Desktop Registry")
        self.resize(1280, 780)

        self.banner = Banner()
        self.browser = ModelBrowser()
        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.inspector = ModelInspector()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.inspector)
        self.splitter.setSizes([330, 600, 350])
        self.splitter.setStretchFactor(1, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status = WindowStatusBar()
        self.setStatusBar(self.status)

        self.home = HomeView(self)
        self.tabs.addTab(self.home, "Home")
        self._jobs_panel: Any = None
        self._panels: dict[int, str] = {}
        self._fixed_tab(0)
        for title, target in panels.PANEL_FACTORIES:
            placeholder = QLabel(f"{title} opens when you select this tab.")
            index = self.tabs.addTab(placeholder, title)
            self._panels[index] = target
            self._fixed_tab(index)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tabs.tabCloseRequested.connect(self._close_tab)

        self._menus()
        self.browser.model_selected.connect(self.show_model)
        self.inspector.chat_requested.connect(self.chat_with)
        self.inspector.copy_requested.connect(self._copy)
        self.inspector.delete_requested.connect(
            lambda i: self.tasks.spawn(self.delete_model(i), "deleting a model")
        )
        self.inspector.unload_requested.connect(
            lambda i: self.tasks.spawn(self.unload_model(i), "unloading a model")
        )
        self.inspector.model_link.connect(self.browser.select_model)
        self.inspector.experiment_requested.connect(self.new_experiment)
        self.banner.retry.clicked.connect(self.retry_ollama)
        self.banner.settings.clicked.connect(self.open_settings)
        self._unsubscribe = ctx.jobs().subscribe(self._on_job)
        self._restore_state()

    def _fixed_tab(self, index: int) -> None:
        """Home and feature panels stay: no close button on their tabs."""
        bar = self.tabs.tabBar()
        for side in (bar.ButtonPosition.RightSide, bar.ButtonPosition.LeftSide):
            button = bar.tabButton(index, side)
            if button is not None:
                button.resize(0, 0)
                bar.setTabButton(index, side, None)

    # ----- menus -------------------------------------------------------------------------
    def _action(self, menu: Any, text: str, slot: Any, shortcut: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Settings…", self.open_settings, "Ctrl+,")
        file.addSeparator()
        self._action(file, "&Quit", self.close, "Ctrl+Q")
        registry = bar.addMenu("&Registry")
        self._action(registry, "&Sync all sources", self.sync, "Ctrl+R")
        self._action(registry, "&Pull a model…", self.open_pull, "Ctrl+P")
        self._action(registry, "&Refresh", self.refresh_all, "F5")
        chat = bar.addMenu("&Chat")
        self._action(chat, "&New chat", lambda: self.chat_with(None), "Ctrl+N")
        self._action(chat, "&Compare models…", self.open_compare, "Ctrl+Shift+N")
        self._action(chat, "&Open a saved chat…", self.open_saved_chat, "Ctrl+O")
        view = bar.addMenu("&View")
        self._action(view, "&Filter models", self.focus_filter, "Ctrl+F")
        self._action(view, "&Jobs", self.show_jobs, "Ctrl+J")
        theme = view.addMenu("&Theme")
        for mode in ("system", "light", "dark"):
            self._action(theme, mode.capitalize(), lambda m=mode: self.set_theme(m))

    # ----- state -------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.prefs.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.prefs.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _save_state(self) -> None:
        self.prefs.setValue("window/geometry", self.saveGeometry())
        self.prefs.setValue("window/splitter", self.splitter.saveState())
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
        self.tasks.spawn(self.check_ollama(), "checking Ollama")
        # Status-bar details (keyring, job history) wait until the populated window is painted.
        QTimer.singleShot(0, self._show_last_sync)
        QTimer.singleShot(0, self._show_github)

    def report(self, message: str) -> None:
        self.status.showMessage(message, 15000)

    # ----- services ----------------------------------------------------------------------
    def serving(self) -> Any:
        if self._serving is None:
            self._serving = self.ctx.serving()
        return self._serving

    def ollama(self) -> Any:
        if self._ollama is None:
            self._ollama = self.ctx.ollama()
        return self._ollama

    async def check_ollama(self) -> bool:
        url = self.ctx.settings.ollama_url
        try:
            info = await self.ollama().version()
        except RegistryError as exc:
            self.ollama_ok = False
            self.status.set_ollama(False, "Ollama: not reachable")
            self.banner.text.setText(
                f"<b>Ollama is not running at {url}.</b> Install it from ollama.com and start "
                "it (<code>ollama serve</code>), or point Settings at the right address. "
                f"Remote models still work.<br><small>{exc}</small>"
            )
            self.banner.setVisible(True)
            return False
        self.ollama_ok = True
        self.banner.setVisible(False)
        self.status.set_ollama(True, f"Ollama {info.version} · {url}")
        return True

    def retry_ollama(self) -> None:
        self.status.set_ollama(False, "Ollama: checking…")
        self.tasks.spawn(self.check_ollama(), "checking Ollama")

    def _show_github(self) -> None:
        try:
            source = self.ctx.token_store().status().source
        except RegistryError as exc:
            self.status.set_github(f"GitHub Models: {exc}")
            return
        token = {"env": "token from env", "keyring": "token in keyring", "file": "token in file"}
        limiter = self.ctx.rate_limiter()
        limits = "free-plan limits"
        if limiter.retries or limiter.waited_s:
            limits = f"waited {limiter.waited_s:.0f}s for limits, {limiter.retries} retries"
        self.status.set_github(f"GitHub Models: {token.get(source, 'no token')} · {limits}")

    def _show_last_sync(self) -> None:
        for job in self.ctx.jobs().list(limit=200):
            if job.kind == "sync" and job.state is JobState.SUCCEEDED and job.finished_at:
                self.status.set_last_sync(job.finished_at.astimezone().strftime("%Y-%m-%d %H:%M"))
                return

    # ----- models ------------------------------------------------------------------------
    def refresh_models(self) -> None:
        try:
            self.entries = ModelIndex(self.ctx.db).entries()
            lineage = self._lineage()
        except RegistryError as exc:
            self.report(str(exc))
            return
        self.browser.set_entries(self.entries, lineage)
        self.home.refresh()

    def _lineage(self) -> dict[int, int]:
        """variant id → base id, for every registry model that has a parent (one light query)."""
        sql = f"SELECT id, parent_id FROM {MODELS.name} WHERE parent_id IS NOT NULL"
        with self.ctx.db.reading() as conn:
            return {int(row[0]): int(row[1]) for row in conn.exec_driver_sql(sql)}

    def refresh_all(self) -> None:
        self.refresh_models()
        self.retry_ollama()
        self._show_github()
        if self._jobs_panel is not None:
            self._jobs_panel.reload()
        model_id = self.browser.selected_id()
        if model_id is not None:
            self.show_model(model_id)

    def focus_filter(self) -> None:
        self.browser.filter_box.setFocus()
        self.browser.filter_box.selectAll()

    def show_model(self, model_id: int) -> None:
        try:
            record = self.ctx.models.get(model_id)
            parent = self.ctx.models.get(record.parent_id) if record.parent_id else None
            variants = self.ctx.models.list(parent_id=model_id)
            measured = len(self.ctx.models.performance(model_id)) if record.performance else 0
        except RegistryError as exc:
            self.report(str(exc))
            return
        self.inspector.show_model(
            record, parent=parent, variants=variants, performance_rows=measured
        )
        if record.is_local and record.source.value == "ollama":
            self.tasks.spawn(self._memory_state(model_id), "reading loaded models")
        if record.is_local:
            self.tasks.spawn(
                self.inspector.check_compatibility(self.ctx, record), "estimating memory"
            )

    async def _memory_state(self, model_id: int) -> None:
        record = self.inspector.record
        try:
            loaded = await self.ollama().loaded_models()
        except RegistryError as exc:
            if self.inspector.record is record:
                self.inspector.show_memory(None, error=str(exc).split(" — ")[0])
            return
        if self.inspector.record is None or self.inspector.record.id != model_id:
            return
        name = self.inspector.record.ollama_name or self.inspector.record.name
        match = next((m for m in loaded if m.name == name), None)
        self.inspector.show_memory(match)

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    async def delete_model(self, model_id: int) -> None:
        record = self.ctx.models.get(model_id)
        where = "from Ollama's disk and the registry" if record.is_local else "from the registry"
        if not self.confirm("Delete model", f"Delete {record.name} {where}?"):
            return
        variants = self.ctx.models.list(parent_id=model_id)
        force = False
        if variants:
            names = ", ".join(v.name for v in variants[:5])
            if not self.confirm(
                "Variants depend on this model",
                f"{len(variants)} model(s) derive from {record.name} ({names}). Delete it "
                "anyway and keep them without their parent?",
            ):
                return
            force = True
        if record.is_local and record.source.value == "ollama":
            await self.ollama().delete(record.ollama_name or record.name)
        self.ctx.models.delete(model_id, force=force)
        self.inspector.clear()
        self.refresh_models()
        self.report(f"Deleted {record.name}.")

    async def unload_model(self, model_id: int) -> None:
        record = self.ctx.models.get(model_id)
        await self.ollama().unload(record.ollama_name or record.name)
        self.report(f"Unloaded {record.name} from memory.")
        await self._memory_state(model_id)

    def new_experiment(self, model_id: int) -> Any:
        """The "New experiment…" dialog for a base; the tree shows the variant when it closes."""
        from desktop_registry.ui.experiment_dialog import open_experiment_dialog

        try:
            base = self.ctx.models.get(model_id)
        except RegistryError as exc:
            self.report(str(exc))
            return None
        dialog = open_experiment_dialog(self.ctx, self, base)
        dialog.finished.connect(lambda _result: self._experiment_closed(dialog))
        return dialog

    def _experiment_closed(self, dialog: Any) -> None:
        created = dialog.created
        if created is None or created.id is None:
            return
        self.refresh_models()
        self.browser.select_model(created.id)
        self.report(f"Created {created.name} from {dialog.base.name}.")

    def _copy(self, name: str) -> None:
        QGuiApplication.clipboard().setText(name)
        self.report(f"Copied {name}")

    # ----- jobs --------------------------------------------------------------------------
    def sync(self) -> None:
        try:
            self.ctx.jobs().submit("sync", {}, "Sync all sources")
        except RegistryError as exc:
            self.report(str(exc))
            return
        self.report("Syncing every configured source…")

    def _on_job(self, update: JobUpdate) -> None:
        running = set(self.ctx.jobs().running_here())
        if update.state.finished:
            running.discard(update.job_id)  # its task is finishing right now
        self.status.set_jobs(len(running))
        if update.state is JobState.SUCCEEDED and update.kind in ("sync", "pull"):
            self.refresh_models()
            if update.kind == "sync":
                self._show_last_sync()
            self.report(update.message or f"{update.kind} finished")
        elif update.state in (JobState.FAILED, JobState.INTERRUPTED):
            self.report(update.line or f"A {update.kind} job {update.state.value}.")

    def show_jobs(self) -> None:
        if self._jobs_panel is None:
            from desktop_registry.ui.jobs_view import JobsPanel

            self._jobs_panel = JobsPanel(self)
            self.tabs.addTab(self._jobs_panel, "Jobs")
        self.tabs.setCurrentWidget(self._jobs_panel)

    def open_pull(self, name: str = "") -> Any:
        from desktop_registry.ui.pull_dialog import PullDialog

        dialog = PullDialog(self, name)
        dialog.show()
        return dialog

    # ----- chats -------------------------------------------------------------------------
    def chat_with(self, model_id: int | None) -> Any:
        from desktop_registry.ui.chat_pane import ChatPane

        name = ""
        if model_id is not None:
            name = self.ctx.models.get(model_id).name
        pane = ChatPane(self, name)
        self.tabs.addTab(pane, f"Chat · {name}" if name else "Chat")
        self.tabs.setCurrentWidget(pane)
        pane.input.prompt.setFocus()
        return pane

    def open_compare(self, names: list[str] | None = None) -> Any:
        from desktop_registry.ui.chat_compare import CompareView

        view = CompareView(self, names)
        self.tabs.addTab(view, "Compare")
        self.tabs.setCurrentWidget(view)
        return view

    def open_saved_chat(self) -> None:
        chats = self.ctx.conversations().list()
        if not chats:
            self.report("No saved chats yet.")
            return
        labels = [f"#{c.id} {c.title}  ({', '.join(c.models)})" for c in chats]
        chosen, ok = QInputDialog.getItem(self, "Open a saved chat", "Chat", labels, 0, False)
        if ok:
            self.open_conversation(chats[labels.index(chosen)].id or 0)

    def open_conversation(self, conversation_id: int) -> Any:
        conversation = self.ctx.conversations().get(conversation_id)
        if len(conversation.models) > 1:
            view = self.open_compare(conversation.models)
        else:
            view = self.chat_with(None)
            self.tabs.setTabText(self.tabs.indexOf(view), f"Chat · {conversation.title}")
        view.load(conversation)
        return view

    # ----- tabs and panels ---------------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        target = self._panels.pop(index, None)
        if target is None:
            return
        title = self.tabs.tabText(index)
        module, _, factory = target.partition(":")
        try:
            widget = getattr(importlib.import_module(module), factory)(self.ctx, self)
        except Exception as exc:  # a broken panel must not take the window down
            widget = QLabel(f"The {title} panel could not open: {type(exc).__name__}: {exc}")
            widget.setObjectName("error")
            widget.setWordWrap(True)
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tabs.blockSignals(True)
        old = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, title)
        self._fixed_tab(index)
        self.tabs.setCurrentIndex(index)
        self.tabs.blockSignals(False)
        if old is not None:
            old.deleteLater()

    def _panel_widgets(self) -> list[Any]:
        closable = (self._jobs_panel, self.home)
        out = []
        for i in range(self.tabs.count()):
            w = self.tabs.widget(i)
            if w not in closable and not hasattr(w, "stop"):
                out.append(w)
        return out

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.home or index in self._panels or widget in self._panel_widgets():
            return
        stop = getattr(widget, "stop", None)
        if callable(stop):
            stop()
        if widget is self._jobs_panel:
            self._jobs_panel = None
        # Panels from PANEL_FACTORIES stay: only chats and the jobs tab close.
        self.tabs.removeTab(index)
        self._panels = {(i - 1 if i > index else i): t for i, t in self._panels.items()}
        if widget is not None:
            widget.deleteLater()

    # ----- settings and theme ------------------------------------------------------------
    def open_settings(self) -> Any:
        from desktop_registry.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.show()
        return dialog

    def apply_settings(self, *, ollama_url: str, data_dir: str, theme: str) -> None:
        if ollama_url != self.ctx.settings.ollama_url:
            self.ctx.settings.ollama_url = ollama_url
            self.prefs.setValue("ollama_url", ollama_url)
            self._serving = None
            self._ollama = None
            self.retry_ollama()
        if data_dir != str(self.ctx.settings.home):
            self.prefs.setValue("data_dir", data_dir)
            self.report("The new data directory is used from the next start.")
        self.set_theme(theme)
        self._show_github()

    def set_theme(self, mode: str) -> None:
        self.prefs.setValue("theme", mode)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, mode)

    # ----- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_state()
        self._unsubscribe()
        self.closed.set()
        super().closeEvent(event)

    async def aclose(self) -> None:
        """Stop running work (jobs become interrupted, resumable next start) and close sources."""
        await self.ctx.jobs().shutdown()
        for task in list(self.tasks.tasks):
            task.cancel()
        await self.tasks.idle()
        await self.ctx.aclose()
