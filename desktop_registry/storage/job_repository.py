"""Reads and writes of the `jobs` and `conversations` tables, in domain types.

Every write is one short transaction; nothing here runs a job or knows what a kind does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, Text, delete, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from desktop_registry.domain.conversations import Conversation, SavedMessage
from desktop_registry.domain.jobs import JobRecord, JobState
from desktop_registry.domain.models import utcnow
from desktop_registry.errors import NotFoundError
from desktop_registry.storage.database import Database
from desktop_registry.storage.jobs_tables import ConversationRow, JobRow

JOBS = cast(Table, JobRow.__table__)
CONVERSATIONS = cast(Table, ConversationRow.__table__)
MAX_LOG_LINES = 500  # a job's log keeps its newest lines; older ones are summarised away

Jobs = list[JobRecord]
Conversations = list[Conversation]


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _job(row: Mapping[str, Any] | RowMapping) -> JobRecord:
    return JobRecord.model_validate(dict(row))


class JobRepository:
    """The persisted job table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, kind: str, params: Mapping[str, Any], title: str = "") -> JobRecord:
        now = utcnow()
        with self.db.transaction() as conn:
            result = conn.execute(
                insert(JOBS).values(
                    kind=kind,
                    title=title or kind,
                    state=JobState.QUEUED.value,
                    params=dict(params),
                    progress=None,
                    message="Waiting to start",
                    log=[],
                    result={},
                    error="",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
        return self.get(int(key[0]))

    def get(self, job_id: int) -> JobRecord:
        with self.db.reading() as conn:
            row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"No job with id {job_id}.")
        return _job(row)

    def list(self, *, states: Sequence[JobState] = (), limit: int = 200) -> Jobs:
        query = select(JOBS).order_by(JOBS.c.id.desc()).limit(limit)
        if states:
            query = query.where(JOBS.c.state.in_([s.value for s in states]))
        with self.db.reading() as conn:
            return [_job(r) for r in conn.execute(query).mappings()]

    def update(self, job_id: int, **fields: Any) -> None:
        fields = {k: (v.value if isinstance(v, JobState) else v) for k, v in fields.items()}
        fields["updated_at"] = utcnow()
        with self.db.transaction() as conn:
            result = conn.execute(update(JOBS).where(JOBS.c.id == job_id).values(**fields))
            if result.rowcount == 0:
                raise NotFoundError(f"No job with id {job_id}.")

    def append_log(self, job_id: int, lines: Sequence[str], **fields: Any) -> None:
        """Add log lines (and set other fields) in one transaction."""
        with self.db.transaction() as conn:
            current = conn.execute(select(JOBS.c.log).where(JOBS.c.id == job_id)).scalar_one()
            log = [*(current or []), *lines]
            if len(log) > MAX_LOG_LINES:
                dropped = len(log) - MAX_LOG_LINES + 1
                log = [f"… {dropped} earlier lines not kept", *log[-(MAX_LOG_LINES - 1) :]]
            values = {k: (v.value if isinstance(v, JobState) else v) for k, v in fields.items()}
            conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(log=log, updated_at=utcnow(), **values)
            )

    def claim(self, job_id: int, pid: int, started: float | None) -> bool:
        """Mark a queued/interrupted/failed/cancelled job running for this process, atomically."""
        runnable = [
            JobState.QUEUED.value,
            JobState.INTERRUPTED.value,
            JobState.FAILED.value,
            JobState.CANCELLED.value,
        ]
        now = utcnow()
        with self.db.transaction() as conn:
            attempts = conn.execute(
                select(JOBS.c.attempts).where(JOBS.c.id == job_id)
            ).scalar_one_or_none()
            if attempts is None:
                raise NotFoundError(f"No job with id {job_id}.")
            result = conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.state.in_(runnable))
                .values(
                    state=JobState.RUNNING.value,
                    owner_pid=pid,
                    owner_started=started,
                    attempts=attempts + 1,
                    error="",
                    started_at=now,
                    finished_at=None,
                    updated_at=now,
                )
            )
            return result.rowcount == 1

    def owned_unfinished(self) -> Jobs:
        """Jobs a process claimed and has not finished: candidates for `interrupted`."""
        return self.list(states=(JobState.RUNNING, JobState.QUEUED), limit=10_000)


class ConversationRepository:
    """Saved chats: one row each, messages as JSON."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, conversation: Conversation) -> Conversation:
        now = utcnow()
        values = {
            "title": conversation.title,
            "models": list(conversation.models),
            "options": dict(conversation.options),
            "system": conversation.system,
            "messages": [m.model_dump(mode="json") for m in conversation.messages],
            "updated_at": now,
        }
        with self.db.transaction() as conn:
            if conversation.id is None:
                result = conn.execute(insert(CONVERSATIONS).values(created_at=now, **values))
                key = result.inserted_primary_key
                assert key is not None
                conversation_id = int(key[0])
            else:
                conversation_id = conversation.id
                done = conn.execute(
                    update(CONVERSATIONS)
                    .where(CONVERSATIONS.c.id == conversation_id)
                    .values(**values)
                )
                if done.rowcount == 0:
                    raise NotFoundError(f"No saved conversation with id {conversation_id}.")
        return self.get(conversation_id)

    def get(self, conversation_id: int) -> Conversation:
        with self.db.reading() as conn:
            row = (
                conn.execute(select(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"No saved conversation with id {conversation_id}.")
        return Conversation(
            id=row["id"],
            title=row["title"],
            models=row["models"] or [],
            options=row["options"] or {},
            system=row["system"],
            messages=[SavedMessage.model_validate(m) for m in row["messages"] or []],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def list(self, limit: int = 200) -> Conversations:
        """Newest first, without their messages (titles for a picker)."""
        return self._summaries(None, limit)

    def search(self, text: str, limit: int = 200) -> Conversations:
        """Newest first, those whose title or any message holds `text` (any case), without
        their messages."""
        # Messages are stored as JSON text: look for the needle as JSON writes it (non-ASCII
        # letters and quotes escaped), the title as typed.
        in_title, in_json = _like(text), _like(json.dumps(text)[1:-1])
        return self._summaries(
            CONVERSATIONS.c.title.ilike(in_title, escape="\\")
            | sql_cast(CONVERSATIONS.c.messages, Text).ilike(in_json, escape="\\"),
            limit,
        )

    def _summaries(self, where: ColumnElement[bool] | None, limit: int) -> Conversations:
        query = select(
            CONVERSATIONS.c.id,
            CONVERSATIONS.c.title,
            CONVERSATIONS.c.models,
            CONVERSATIONS.c.created_at,
            CONVERSATIONS.c.updated_at,
        )
        if where is not None:
            query = query.where(where)
        query = query.order_by(CONVERSATIONS.c.updated_at.desc()).limit(limit)
        with self.db.reading() as conn:
            return [
                Conversation(
                    id=r.id,
                    title=r.title,
                    models=r.models or [],
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
                for r in conn.execute(query)
            ]

    def rename(self, conversation_id: int, title: str) -> None:
        with self.db.transaction() as conn:
            done = conn.execute(
                update(CONVERSATIONS)
                .where(CONVERSATIONS.c.id == conversation_id)
                .values(title=title, updated_at=utcnow())
            )
            if done.rowcount == 0:
                raise NotFoundError(f"No saved conversation with id {conversation_id}.")

    def delete(self, conversation_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id))
