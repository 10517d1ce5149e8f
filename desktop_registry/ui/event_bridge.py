"""The window's one adapter to the services' event hub: hub events become Qt signals.

Signals are delivered on the UI thread whichever thread published; bursts of registry writes
(an evaluation records a metric per row) reach the views as one refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, SignalInstance

from desktop_registry.services.events import EventHub, Topic

COALESCE_MS = 50  # registry writes this close together refresh the views once


class EventBridge(QObject):
    models_changed = Signal()
    settings_changed = Signal(object)  # set of setting names
    job_progress = Signal(object)  # a JobUpdate
    model_served = Signal(object)  # a model id: what is loaded in memory may have changed
    _models_written = Signal()  # from any thread; queued onto the UI thread

    def __init__(self, hub: EventHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self.models_changed.emit)
        self._models_written.connect(self._timer.start, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = [
            hub.subscribe(Topic.MODELS_CHANGED, self._written),
            hub.subscribe(Topic.SETTINGS_CHANGED, self._relay(self.settings_changed)),
            hub.subscribe(Topic.JOB_PROGRESS, self._relay(self.job_progress)),
            hub.subscribe(Topic.MODEL_SERVED, self._relay(self.model_served)),
        ]

    def _written(self, _payload: object) -> None:
        if QThread.currentThread() is self.thread():
            self._timer.start()  # on the UI thread already: flush() can deliver it at once
        else:
            self._models_written.emit()

    @staticmethod
    def _relay(signal: SignalInstance) -> Callable[[object], None]:
        return lambda payload: signal.emit(payload)

    def flush(self) -> None:
        """Deliver a pending models_changed now (before acting on what was just written)."""
        if self._timer.isActive():
            self._timer.stop()
            self.models_changed.emit()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._timer.stop()
