"""Runs the window's coroutines on the qasync loop and turns their failures into messages.

Never blocks the UI thread and never lets an exception escape as a traceback dialog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from desktop_registry.errors import RegistryError

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRunner:
    """Keeps references to running tasks (so they are not collected) and reports failures."""

    def __init__(
        self, report: Callable[[str], None], tasks: set[asyncio.Task[Any]] | None = None
    ) -> None:
        self.report = report
        self.tasks: set[asyncio.Task[Any]] = set() if tasks is None else tasks

    def reporting_to(self, report: Callable[[str], None]) -> TaskRunner:
        """The same runner (shutdown still waits for its tasks) with failures shown elsewhere:
        a panel's or a dialog's own message line, where the user is looking."""
        return TaskRunner(report, self.tasks)

    def spawn(self, coro: Coroutine[Any, Any, T], what: str = "") -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what))
        return task

    def _done(self, task: asyncio.Task[Any], what: str) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, RegistryError):
            self.report(str(exc))
        else:
            log.error("unexpected error %s", what, exc_info=exc)
            self.report(
                f"Something went wrong{' while ' + what if what else ''}: "
                f"{type(exc).__name__}: {exc}"
            )

    async def idle(self) -> None:
        """Wait for every task started so far (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
