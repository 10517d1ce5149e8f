"""The registry's change history: one appended row per thing that happened to a model or slot.

Never rewrites or deletes a history row; a row outlives its model (model_id becomes NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from desktop_registry.domain.models import utcnow
from desktop_registry.storage.change_hook import ChangeHookStore
from desktop_registry.storage.tables import HISTORY

HistoryRows = list[dict[str, Any]]


def history_row(
    action: str,
    *,
    model_id: int | None,
    slot: str | None = None,
    detail: dict[str, Any] | None = None,
    actor: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> dict[str, Any]:
    """The values of one `change_history` row (`at` defaults to now)."""
    return {
        "model_id": model_id,
        "slot": slot,
        "action": action,
        "detail": detail or {},
        "actor": actor,
        "reason": reason,
        "at": at or utcnow(),
    }


class ModelHistory(ChangeHookStore):
    """`add_history` / `history` over `change_history`."""

    def add_history(
        self,
        action: str,
        *,
        model_id: int | None = None,
        slot: str | None = None,
        detail: dict[str, Any] | None = None,
        actor: str = "",
        reason: str = "",
        conn: Connection | None = None,
    ) -> None:
        """Append one history row; with `conn`, inside the caller's transaction.

        With `conn` the caller owns the commit, so `on_change` is the caller's to announce.
        """
        values = history_row(
            action, model_id=model_id, slot=slot, detail=detail, actor=actor, reason=reason
        )
        if conn is not None:
            conn.execute(insert(HISTORY).values(**values))
            return
        with self._writing() as own:
            own.execute(insert(HISTORY).values(**values))

    def history(self, *, model_id: int | None = None, slot: str | None = None) -> HistoryRows:
        query = select(HISTORY)
        if model_id is not None:
            query = query.where(HISTORY.c.model_id == model_id)
        if slot is not None:
            query = query.where(HISTORY.c.slot == slot)
        with self.db.reading() as conn:
            return [dict(r) for r in conn.execute(query.order_by(HISTORY.c.id)).mappings()]
