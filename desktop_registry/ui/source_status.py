"""How the window's sources stand: Ollama reachable or not (banner + status bar), the GitHub token
and rate limits, the last successful sync. Reads and shows; never syncs or changes settings."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from desktop_registry.domain.jobs import JobState
from desktop_registry.errors import RegistryError

if TYPE_CHECKING:
    from desktop_registry.ui.main_window import MainWindow

TOKEN_ORIGIN = {"env": "token from env", "keyring": "token in keyring", "file": "token in file"}


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


class SourceStatus:
    """Checks the sources for `window` (a MainWindow) and writes the answers to its banner and
    status bar."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.ollama_ok: bool | None = None
        self.ollama_version: str | None = None  # the version Ollama last reported (Help → About)

    async def check_ollama(self) -> bool:
        window = self.window
        url = window.ctx.settings.ollama_url
        try:
            info = await window.ollama().version()
        except RegistryError as exc:
            self.ollama_ok = False
            window.status.set_ollama(False, "Ollama: not reachable")
            window.banner.text.setText(
                f"<b>Ollama is not running at {url}.</b> Install it from ollama.com and start "
                "it (<code>ollama serve</code>), or point Settings at the right address. "
                f"Remote models still work.<br><small>{exc}</small>"
            )
            window.banner.setVisible(True)
            self._mark_ollama(offline=True)
            return False
        self.ollama_ok = True
        self.ollama_version = window.ctx.ollama_version = info.version
        self._mark_ollama(offline=False)
        window.banner.setVisible(False)
        window.status.set_ollama(True, f"Ollama {info.version} · {url}")
        return True

    def _mark_ollama(self, *, offline: bool) -> None:
        """Local Ollama models read as unavailable (tree and inspector) while it is down."""
        self.window.browser.set_source_offline("ollama", offline)
        self.window.inspector.set_source_offline("ollama", offline)

    def retry_ollama(self) -> None:
        self.window.status.set_ollama(False, "Ollama: checking…")
        self.window.tasks.spawn(self.check_ollama(), "checking Ollama")

    def show_github(self) -> None:
        """Refresh the GitHub Models part of the status bar. Finding the keyring backend loads
        its plugins (a quarter of a second, more with a desktop keyring), so the token lookup
        runs in a worker thread, never on the event loop."""
        self.window.tasks.spawn(self._show_github(), "reading the GitHub token state")

    async def _show_github(self) -> None:
        ctx, status = self.window.ctx, self.window.status
        try:
            source = await asyncio.to_thread(lambda: ctx.token_store().status().source)
        except RegistryError as exc:
            status.set_github(f"GitHub Models: {exc}")
            return
        limiter = ctx.rate_limiter()
        limits = "free-plan limits"
        if limiter.retries or limiter.waited_s:
            limits = f"waited {limiter.waited_s:.0f}s for limits, {limiter.retries} retries"
        status.set_github(f"GitHub Models: {TOKEN_ORIGIN.get(source, 'no token')} · {limits}")

    def show_last_sync(self) -> None:
        for job in self.window.ctx.jobs().list(limit=200):
            if job.kind == "sync" and job.state is JobState.SUCCEEDED and job.finished_at:
                finished = job.finished_at.astimezone().strftime("%Y-%m-%d %H:%M")
                self.window.status.set_last_sync(finished)
                return
