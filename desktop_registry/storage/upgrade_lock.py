"""An OS file lock beside the registry that lets one program at a time upgrade its schema.

Never held longer than one upgrade; never deletes the lock file (another program may hold it).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop_registry.errors import StorageError

WAIT_S = 120.0  # a first upgrade takes a second or two; a slow disk may take longer


def lock_path(registry: Path) -> Path:
    return registry.with_name(f".{registry.name}.upgrade-lock")


@contextmanager
def upgrade_lock(registry: Path, wait_s: float = WAIT_S) -> Iterator[None]:
    """Hold the upgrade lock of `registry` (waiting up to `wait_s` for another program).

    SQLite's own locking is not enough for Alembic: its first upgrade reads, then writes, and a
    second program doing the same at once gets "database is locked" instead of waiting.
    The OS drops the lock when its holder exits, so a crashed upgrade never blocks the next.
    """
    path = lock_path(registry)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise StorageError(
                    f"Another Desktop Registry has been upgrading the registry at {registry} for "
                    f"over {wait_s:.0f} s. Close other Desktop Registry windows and commands, "
                    "then try again; the registry is left as it is."
                )
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks bytes from the current position
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
