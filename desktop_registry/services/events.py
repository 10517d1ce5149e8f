"""The event hub: services say what changed (models, settings, a job), front ends listen.

Qt-free and synchronous: a listener runs on the thread that published, so the window's one Qt
adapter (ui/event_bridge.py) hops to the UI thread. A failing listener never breaks a publisher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class Topic(StrEnum):
    MODELS_CHANGED = "models_changed"  # payload: None (the registry was written)
    SETTINGS_CHANGED = "settings_changed"  # payload: the set of setting names that changed
    JOB_PROGRESS = "job_progress"  # payload: a jobs.service.JobUpdate
    MODEL_SERVED = "model_served"  # payload: the model id a chat or embedding just used


Listener = Callable[[Any], None]


class EventHub:
    """Publish/subscribe by topic; subscribe returns the function that unsubscribes."""

    def __init__(self) -> None:
        self._listeners: dict[Topic, list[Listener]] = {}
        self._lock = threading.Lock()

    def subscribe(self, topic: Topic, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.setdefault(topic, []).append(listener)

        def unsubscribe() -> None:
            with self._lock:
                listeners = self._listeners.get(topic, [])
                if listener in listeners:
                    listeners.remove(listener)

        return unsubscribe

    def publish(self, topic: Topic, payload: Any = None) -> None:
        with self._lock:
            listeners = list(self._listeners.get(topic, ()))
        for listener in listeners:
            try:
                listener(payload)
            except Exception:  # a broken view must not undo a committed sync
                log.exception("a %s listener failed", topic.value)
