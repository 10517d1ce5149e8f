"""Registry write transactions that tell a subscriber, once each commits, that the registry changed.

Never calls the subscriber inside a transaction or after a failed write, and never lets it raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from desktop_registry.storage.database import Database

log = logging.getLogger(__name__)


class ChangeHookStore:
    """One database and its optional `on_change`; `_writing()` is a transaction that announces itself."""

    def __init__(self, db: Database, on_change: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_change = on_change

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """`db.transaction()`, then `on_change()` once it has committed (not if anything raised)."""
        with self.db.transaction() as conn:
            yield conn
        self._changed()

    def _changed(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change()
        except Exception:
            log.exception("The registry's change hook failed; the write itself was kept.")
