"""The window's status bar: Ollama reachability and version, GitHub token and limits, last sync, jobs.

Only displays what it is told; the window does the checking.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from desktop_registry.ui.theme import BADGE


class WindowStatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self.ollama = QLabel("Ollama: checking…")
        self.github = QLabel("GitHub Models: —")
        self.last_sync = QLabel("Last sync: never")
        self.jobs = QLabel("No jobs running")
        for label in (self.ollama, self.github, self.last_sync, self.jobs):
            label.setContentsMargins(8, 0, 8, 0)
            self.addPermanentWidget(label)

    def set_ollama(self, ok: bool, text: str) -> None:
        colour = BADGE["local"] if ok else BADGE["error"]
        self.ollama.setText(f"<span style='color:{colour}'>●</span> {text}")

    def set_github(self, text: str) -> None:
        self.github.setText(text)

    def set_last_sync(self, text: str) -> None:
        self.last_sync.setText(f"Last sync: {text}")

    def set_jobs(self, running: int) -> None:
        self.jobs.setText(f"{running} job(s) running" if running else "No jobs running")
