"""The status bar's GitHub Models budget: requests left of the limit, and when one frees up.

Reads the serving service's read-only snapshot on a timer; hidden until a request was answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from desktop_registry.domain.rate_limits import RateLimitSnapshot

if TYPE_CHECKING:
    from desktop_registry.ui.main_window import MainWindow


def describe(snapshot: RateLimitSnapshot) -> str:
    """`gpt-4.1: 12/15 requests left · resets 14:32:05` (local time)."""
    model = snapshot.model.rsplit("/", 1)[-1]
    left = "?" if snapshot.remaining is None else str(snapshot.remaining)
    text = f"{model}: {left}/{snapshot.limit if snapshot.limit is not None else '?'} requests left"
    if snapshot.resets_at is not None:
        text += f" · resets {snapshot.resets_at.astimezone().strftime('%H:%M:%S')}"
    return text


class RateLimitLabel(QLabel):
    """Sits beside the GitHub Models token label in `window`'s status bar."""

    def __init__(self, window: MainWindow, interval_ms: int = 2000) -> None:
        super().__init__("")
        self.window_ = window
        self.setContentsMargins(8, 0, 8, 0)
        self.setVisible(False)
        window.status.insertPermanentWidget(2, self)  # after "Ollama …" and "GitHub Models: …"
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(interval_ms)

    def refresh(self) -> None:
        # The window builds serving at the first chat (that imports the SDKs, seconds); before
        # that nothing here has called GitHub Models, so there is nothing to show.
        serving = self.window_.serving_if_built()
        self.show_snapshot(serving.rate_limit() if serving is not None else None)

    def show_snapshot(self, snapshot: RateLimitSnapshot | None) -> None:
        if snapshot is None or (snapshot.limit is None and snapshot.remaining is None):
            self.setVisible(False)
            return
        self.setText(describe(snapshot))
        observed = snapshot.observed_at.astimezone().strftime("%H:%M:%S")
        self.setToolTip(
            f"{snapshot.source} · {snapshot.model}: requests left in the current "
            f"{snapshot.window_s:g}s window, as of the reply at {observed}."
        )
        self.setVisible(True)
