"""Opens the registry's SQLite file (WAL, foreign keys on) and upgrades its schema.

Never holds a transaction open longer than one unit of work; never touches other files.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError

from desktop_registry.errors import StorageError
from desktop_registry.storage.upgrade_lock import upgrade_lock

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def check_migrations_present() -> None:
    """Refuse to go on without the schema's migrations: with none, Alembic would believe an
    empty file is current and the app would run on a registry with no tables."""
    versions = MIGRATIONS_DIR / "versions"
    if not (MIGRATIONS_DIR / "env.py").is_file() or not any(versions.glob("*.py")):
        raise StorageError(
            f"This copy of Desktop Registry is incomplete: its database migrations are missing "
            f"(looked in {MIGRATIONS_DIR}). Reinstall the app (or rebuild the bundle with "
            "packaging.spec); no registry was created or changed."
        )


# `revision = "0008"`, `down_revision: str | None = "0007"`, `down_revision = ("0003", "0004")`.
# Read as text, not with ast.parse: CPython 3.11's AST constructor can raise SystemError
# ("recursion depth mismatch") in a process that earlier recovered from a RecursionError.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def head_revisions() -> set[str]:
    """Every head: features add migrations on their own branches; all of them are applied.

    Read from the migration files' `revision`/`down_revision` assignments, so that an
    up-to-date database opens without importing Alembic (a tenth of a second at start-up).
    """
    check_migrations_present()
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            ids = _QUOTED.findall(value)
            if name == "revision" and ids:
                revisions.add(ids[0])
            elif name == "down_revision":
                parents.update(ids)
    return revisions - parents


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy manage transactions itself (pysqlite's implicit BEGIN defeats SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    # A write transaction takes the write lock up front (waiting up to busy_timeout): one that
    # read first and asked for the lock later would fail at once if another writer holds it.
    write = connection.get_execution_options().get("registry_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """One registry file. `upgrade()` brings its schema to the newest revision."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(f"sqlite:///{self.path}")
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)

    @classmethod
    def open(cls, path: Path | str, *, upgrade: bool = True) -> Database:
        db = cls(path)
        if upgrade:
            db.upgrade()
        return db

    def current_revision(self) -> str | None:
        """The single current revision (None for an empty file); see `current_heads` for branches."""
        heads = self.current_heads()
        return max(heads) if heads else None

    def current_heads(self) -> set[str]:
        try:
            with self.engine.connect() as conn:
                exists = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
                ).first()
                if not exists:
                    return set()
                return {
                    str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))
                }
        except OperationalError as exc:
            if _is_busy(exc):  # another program holds it: the file is fine, say so
                raise StorageError(
                    f"The registry at {self.path} is busy in another Desktop Registry window or "
                    "command; try again in a moment (the file is left as it is)."
                ) from None
            raise _unreadable(self.path, exc) from None
        except DatabaseError as exc:
            raise _unreadable(self.path, exc) from None

    def upgrade(self, revision: str = "heads") -> None:
        """Apply pending migrations in one transaction (a failed upgrade leaves the old schema).

        Two programs upgrading the same file (two first starts at once on a new data dir) take
        turns on a lock file beside it; the second finds the schema current and does nothing.
        """
        wanted = head_revisions()
        if revision in ("head", "heads"):
            revision = "heads"
            with suppress(StorageError):  # busy: the locked path below waits its turn
                if self.current_heads() == wanted:
                    return
        with upgrade_lock(self.path):
            if revision == "heads" and self.current_heads() == wanted:
                return  # the other program upgraded it while we waited
            self._run_alembic(revision)

    def _run_alembic(self, revision: str) -> None:
        from alembic import command
        from alembic.util.exc import CommandError

        config = _alembic_config()
        try:
            with self.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        except CommandError:
            # The file names a revision this app has not got: a newer Desktop Registry wrote it.
            stored = ", ".join(sorted(self.current_heads()))
            raise StorageError(
                f"The registry at {self.path} was written by a newer Desktop Registry (schema "
                f"{stored}; this one knows {', '.join(sorted(head_revisions()))}). Update the app, "
                "or point DESKTOP_REGISTRY_HOME at another data folder; the file is left as it is."
            ) from None
        except OperationalError as exc:
            raise StorageError(
                f"Could not upgrade the registry at {self.path}: {exc.orig}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One short write transaction; rolled back whole on any error."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(registry_write=True)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StorageError(
                f"The registry at {self.path} could not be written: {exc.orig}"
            ) from None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _is_busy(exc: OperationalError) -> bool:
    text_ = str(exc.orig).lower()
    return "locked" in text_ or "busy" in text_


def _unreadable(path: Path, exc: DatabaseError) -> StorageError:
    return StorageError(
        f"The registry at {path} cannot be read ({exc.orig}). "
        "Move the file aside and sync again to rebuild it."
    )
