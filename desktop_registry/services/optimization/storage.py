"""Optuna's RDB storage as the app opens it: a SQLite file by default, any SQLAlchemy URL else.

Never shows a password (URLs are shown without it) and never leaves a dead worker's trial
RUNNING forever: it is marked FAIL and queued again (RetryFailedTrialCallback).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import socket
import sqlite3
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import optuna
import sqlalchemy
from optuna.storages import RDBStorage

from desktop_registry.errors import SourceUnreachableError, UserInputError
from desktop_registry.services.jobs.service import _process_started, owner_alive

HEARTBEAT_S = 5  # a running trial says it is alive this often …
GRACE_S = 30  # … and one silent this long, from any machine, is taken as dead
MAX_RETRY = 3
WORKER_ATTR = "worker"  # trial user attr: {"host", "pid", "started"} of the process running it


def _retry_callback() -> Any:
    """Optuna 4.9 renamed RetryFailedTrialCallback; both queue a dead trial's params again."""
    kind = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    kind = kind or optuna.storages.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kind(max_retry=MAX_RETRY)


_CALLBACK_ARG = (
    "heartbeat_stale_trial_callback"
    if "heartbeat_stale_trial_callback" in inspect.signature(RDBStorage.__init__).parameters
    else "failed_trial_callback"
)


def default_storage_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'optuna.db'}"


def public_url(url: str) -> str:
    """The URL a user may see and copy: no user:password, no query (tokens live there)."""
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.query:
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.netloc.rsplit("@", 1)[0].split(":")[0] if "@" in parts.netloc else ""
        netloc = f"{user}@{host}" if user else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return url


def open_storage(url: str) -> RDBStorage:
    """The study database, created (with Optuna's own schema) on first use."""
    if "://" not in url:
        raise UserInputError(
            f"storage {public_url(url)!r}: give an SQLAlchemy URL such as "
            "sqlite:////path/optuna.db or postgresql://user@host/db."
        )
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_ahead_log(path)
        # Several workers on one file: wait for the writer instead of failing at once.
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 30}}
    elif url.startswith("postgresql"):
        url = _postgres_driver(url)
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    try:
        storage = RDBStorage(
            url,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
            **{_CALLBACK_ARG: _retry_callback()},
            **kwargs,
        )
    except ImportError as exc:
        raise UserInputError(
            f"storage {public_url(url)}: the database driver is not installed ({exc.name}); "
            "for PostgreSQL install psycopg2-binary (or psycopg)."
        ) from None
    except Exception as exc:  # SQLAlchemy's OperationalError and friends
        first = str(exc).replace(url, public_url(url)).splitlines()[0][:300]
        raise SourceUnreachableError(
            f"Optuna storage {public_url(url)} cannot be opened: {first}", source="optuna"
        ) from None
    if url.startswith("sqlite"):
        sqlalchemy.event.listen(storage.engine, "connect", _fast_commits)
        storage.engine.dispose()  # pooled connections made before the listener: reopen them
    return storage


def _write_ahead_log(path: Path) -> None:
    """WAL (it stays set in the file): readers never block the writer, and with
    synchronous=NORMAL a commit needs no fsync, so a trial's bookkeeping costs ~1 ms, not ~100."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _fast_commits(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_driver(url: str) -> str:
    """`postgresql://` with whichever driver is installed (SQLAlchemy 2.1 assumes psycopg 3)."""
    if not url.startswith("postgresql://"):
        return url
    for module, dialect in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return url.replace("postgresql://", f"postgresql+{dialect}://", 1)
    return url


def this_worker() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _process_started(pid)}


def reclaim_dead_trials(study: optuna.Study) -> list[int]:
    """Mark FAIL (and queue a retry of) every RUNNING trial whose worker is gone.

    On this machine a dead pid is known at once; elsewhere the heartbeat's grace period says so.
    Returns the numbers of the trials reclaimed."""
    storage = study._storage
    host = socket.gethostname()
    retry = _retry_callback()
    reclaimed: list[int] = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None:  # killed between ask and tagging (a few ms): give it the grace period
            start = trial.datetime_start
            if start is None or (datetime.now() - start).total_seconds() < GRACE_S:
                continue
        elif worker.get("host") != host or owner_alive(worker.get("pid"), worker.get("started")):
            continue
        try:
            failed = storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker reclaimed it first
        if failed:
            reclaimed.append(trial.number)
            retry(study, storage.get_trial(trial._trial_id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # other machines' workers, by heartbeat
    return reclaimed
