"""Reads and writes of slots, their versions and activation history, in plain data types.

A switch is one SQLite transaction (deactivate, activate, history row): a kill at any moment
leaves the old state or the new one, never zero or two active versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from desktop_registry.domain.models import utcnow
from desktop_registry.domain.versions import Slot, SlotChange, SlotVersion
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.storage.database import Database
from desktop_registry.storage.repository import HISTORY, MODELS
from desktop_registry.storage.versions_tables import SlotRow, SlotVersionRow

SLOTS = cast(Table, SlotRow.__table__)
VERSIONS = cast(Table, SlotVersionRow.__table__)
ACTIVATIONS = ("slot_switch", "slot_rollback")  # the history actions that move "active"


def _slot(row: RowMapping) -> Slot:
    return Slot(**{k: row[k] for k in ("id", "name", "capability", "description", "created_at")})


class SlotRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- slots --------------------------------------------------------------------------
    def create_slot(self, name: str, capability: str, description: str = "") -> Slot:
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    insert(SLOTS).values(
                        name=name,
                        capability=capability,
                        description=description,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise UserInputError(f"A slot named {name!r} already exists.") from None
        return self.slot(name)

    def slot(self, name: str) -> Slot:
        with self.db.reading() as conn:
            row = conn.execute(select(SLOTS).where(SLOTS.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(
                f"No slot named {name!r}. `desktop-registry-cli slot list` shows the slots."
            )
        return _slot(row)

    def slots(self) -> list[Slot]:
        with self.db.reading() as conn:
            return [_slot(r) for r in conn.execute(select(SLOTS).order_by(SLOTS.c.name)).mappings()]

    # ----- versions -----------------------------------------------------------------------
    def _versions_query(self) -> Any:
        return select(VERSIONS, MODELS.c.name.label("model_name")).join(
            MODELS, MODELS.c.id == VERSIONS.c.model_id
        )

    @staticmethod
    def _version(row: RowMapping) -> SlotVersion:
        return SlotVersion(**{k: row[k] for k in SlotVersion.model_fields})

    def versions(self, slot_id: int) -> list[SlotVersion]:
        query = self._versions_query().where(VERSIONS.c.slot_id == slot_id).order_by(VERSIONS.c.id)
        with self.db.reading() as conn:
            return [self._version(r) for r in conn.execute(query).mappings()]

    def version(self, slot_id: int, version: str) -> SlotVersion | None:
        query = self._versions_query().where(
            VERSIONS.c.slot_id == slot_id, VERSIONS.c.version == version
        )
        with self.db.reading() as conn:
            row = conn.execute(query).mappings().first()
        return self._version(row) if row else None

    def active(self, slot_id: int) -> SlotVersion | None:
        query = self._versions_query().where(VERSIONS.c.slot_id == slot_id, VERSIONS.c.active)
        with self.db.reading() as conn:
            row = conn.execute(query).mappings().first()
        return self._version(row) if row else None

    def add_version(
        self,
        slot: Slot,
        *,
        model_id: int,
        version: str,
        config: dict[str, Any],
        checkpoint_digest: str,
        actor: str,
    ) -> SlotVersion:
        """Add a version; the first version of an empty slot becomes its active one."""
        try:
            with self.db.transaction() as conn:
                has_active = conn.execute(
                    select(VERSIONS.c.id).where(VERSIONS.c.slot_id == slot.id, VERSIONS.c.active)
                ).first()
                conn.execute(
                    insert(VERSIONS).values(
                        slot_id=slot.id,
                        model_id=model_id,
                        version=version,
                        config=config,
                        checkpoint_digest=checkpoint_digest,
                        active=has_active is None,
                        mlflow_version="",
                        created_at=utcnow(),
                    )
                )
                self._history(
                    conn, slot.name, "slot_version_added", model_id, actor, "", {"to": version}
                )
        except IntegrityError:
            raise UserInputError(f"Slot {slot.name!r} already has a version {version}.") from None
        found = self.version(slot.id, version)
        assert found is not None
        return found

    def set_mlflow_version(self, version_id: int, mlflow_version: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                update(VERSIONS)
                .where(VERSIONS.c.id == version_id)
                .values(mlflow_version=mlflow_version)
            )

    def activate(
        self,
        slot: Slot,
        *,
        expected_active: SlotVersion | None,
        target: SlotVersion,
        action: str,
        actor: str,
        reason: str,
        detail: dict[str, Any],
    ) -> SlotChange:
        """Move "active" to `target` and append the history row, in one transaction."""
        with self.db.transaction() as conn:
            current = conn.execute(
                select(VERSIONS.c.id).where(VERSIONS.c.slot_id == slot.id, VERSIONS.c.active)
            ).scalar()
            if current != (expected_active.id if expected_active else None):
                raise UserInputError(
                    f"Slot {slot.name!r} changed while this switch was prepared; look again."
                )
            conn.execute(
                update(VERSIONS)
                .where(VERSIONS.c.slot_id == slot.id, VERSIONS.c.active)
                .values(active=False)
            )
            conn.execute(update(VERSIONS).where(VERSIONS.c.id == target.id).values(active=True))
            full = {
                "from": expected_active.version if expected_active else None,
                "to": target.version,
                **detail,
            }
            change_id = self._history(conn, slot.name, action, target.model_id, actor, reason, full)
        return next(c for c in self.history(slot.name, actions=(action,)) if c.id == change_id)

    # ----- history ------------------------------------------------------------------------
    @staticmethod
    def _history(
        conn: Connection,
        slot: str,
        action: str,
        model_id: int | None,
        actor: str,
        reason: str,
        detail: dict[str, Any],
    ) -> int:
        result = conn.execute(
            insert(HISTORY).values(
                model_id=model_id,
                slot=slot,
                action=action,
                detail=detail,
                actor=actor,
                reason=reason,
                at=utcnow(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def history(self, slot: str, *, actions: Sequence[str] = ACTIVATIONS) -> list[SlotChange]:
        query = (
            select(HISTORY)
            .where(HISTORY.c.slot == slot, HISTORY.c.action.in_(list(actions)))
            .order_by(HISTORY.c.id)
        )
        with self.db.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            SlotChange(
                id=r["id"],
                slot=r["slot"],
                action=r["action"],
                from_version=(r["detail"] or {}).get("from"),
                to_version=(r["detail"] or {}).get("to"),
                model_id=r["model_id"],
                actor=r["actor"],
                reason=r["reason"],
                at=r["at"],
                detail=r["detail"] or {},
            )
            for r in rows
        ]
