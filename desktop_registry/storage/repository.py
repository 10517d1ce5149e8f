"""The model registry's reads and writes, in domain types (`ModelRepository`, the one entry point).

Every write is one short transaction; nothing here knows where models come from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from desktop_registry.domain import Category, ModelRecord
from desktop_registry.domain.models import ModelStatus, utcnow
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.storage import model_queries
from desktop_registry.storage.model_history import HistoryRows, ModelHistory, history_row
from desktop_registry.storage.model_metrics import Metrics, ModelMetrics, latest_performance
from desktop_registry.storage.serving_status import ModelServingStatus
from desktop_registry.storage.tables import CAPS, HISTORY, MODELS, PERF, SERVING

# Other modules import the table handles and these aliases from here.
__all__ = [
    "CAPS",
    "HISTORY",
    "MODELS",
    "PERF",
    "SERVING",
    "DuplicateKeys",
    "HistoryRows",
    "KnownModel",
    "Metrics",
    "ModelRepository",
    "Records",
]

# Aliases: the repository's `list` method shadows the builtin inside the class body.
Records = list[ModelRecord]
DuplicateKeys = list[tuple[str, str, str]]

_MUTABLE_FIELDS = set(ModelRecord.model_fields) - {"id", "created_at", "performance"}
# Below SQLite's oldest limit of 999 bound parameters per statement.
_CHUNK = 900


@dataclass(frozen=True)
class KnownModel:
    """What sync needs to know about a stored model to decide whether to refetch it."""

    id: int
    name: str
    digest: str
    status: str
    has_dependants: bool
    kind: str = "base"


def _row_values(record: ModelRecord, now: datetime) -> dict[str, Any]:
    return {
        "name": record.name,
        "version": record.version,
        "source": record.source.value,
        "provider": record.provider,
        "serving": record.serving.value,
        "kind": record.kind.value,
        "category": record.category.value,
        "categories": [c.value for c in record.categories] or [record.category.value],
        "category_source": record.category_source.value,
        "capabilities": list(record.capabilities),
        "parameters": record.parameters,
        "endpoint": record.endpoint,
        "status": record.status.value,
        "digest": record.digest,
        "size_bytes": record.size_bytes,
        "family": record.details.family or "",
        "details": record.details.model_dump(exclude_defaults=True),
        "parent_id": record.parent_id,
        "ollama_name": record.ollama_name,
        "github_models_id": record.github_models_id,
        "description": record.description,
        "tags": list(record.tags),
        "search_text": model_queries.search_text(record),
        "category_keys": model_queries.category_keys(
            record.category, record.capabilities, record.categories
        ),
        "template": record.template,
        "system": record.system,
        "license": record.license,
        "modified_at": record.modified_at,
        "updated_at": now,
    }


def _new_row_values(record: ModelRecord, now: datetime) -> dict[str, Any]:
    return {**_row_values(record, now), "created_at": record.created_at or now}


def _write_capabilities(conn: Connection, models: Sequence[tuple[int, Iterable[str]]]) -> None:
    """Replace the capability rows of each (model id, capabilities) given."""
    ids = [model_id for model_id, _ in models]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(CAPS).where(CAPS.c.model_id.in_(ids[start : start + _CHUNK])))
    rows = [
        {"model_id": model_id, "capability": c}
        for model_id, caps in models
        for c in sorted(set(caps))
    ]
    if rows:
        conn.execute(insert(CAPS), rows)


def _set_status(conn: Connection, ids: Sequence[int], status: ModelStatus, now: datetime) -> None:
    if ids:
        conn.execute(
            update(MODELS)
            .where(MODELS.c.id.in_(list(ids)))
            .values(status=status.value, updated_at=now)
        )


class ModelRepository(ModelMetrics, ModelHistory, ModelServingStatus):
    """register / get / list / update / delete over the `models` table and its satellites.

    `ModelRepository(db, on_change=None)`. Performance metrics, change history and serving
    status come from the mixins beside this module. Each public write calls `on_change()` once
    after it commits (see `ChangeHookStore`); reads never do.
    """

    # ----- writes -----------------------------------------------------------------
    def register(self, record: ModelRecord) -> ModelRecord:
        with self._writing() as conn:
            model_id = self._insert(conn, record)
        return self.get(model_id)

    def _insert(self, conn: Connection, record: ModelRecord) -> int:
        try:
            result = conn.execute(insert(MODELS).values(**_new_row_values(record, utcnow())))
        except IntegrityError as exc:
            raise UserInputError(
                f"A model named {record.name!r} (version {record.version}, source "
                f"{record.source.value}) is already registered."
            ) from exc
        key = result.inserted_primary_key
        assert key is not None
        model_id = int(key[0])
        _write_capabilities(conn, [(model_id, record.capabilities)])
        return model_id

    def update(self, model_id: int, **changes: Any) -> ModelRecord:
        unknown = set(changes) - _MUTABLE_FIELDS
        if unknown:
            raise UserInputError(f"Unknown model field(s): {', '.join(sorted(unknown))}")
        current = self.get(model_id)
        merged = current.model_copy(update=changes)
        merged = ModelRecord.model_validate(merged.model_dump())
        with self._writing() as conn:
            conn.execute(
                update(MODELS)
                .where(MODELS.c.id == model_id)
                .values(**_row_values(merged, utcnow()))
            )
            _write_capabilities(conn, [(model_id, merged.capabilities)])
        return self.get(model_id)

    def delete(self, model_id: int, *, force: bool = False) -> None:
        """Delete a model; refused while variants derive from it unless `force` detaches them."""
        with self._writing() as conn:
            children = (
                conn.execute(select(MODELS.c.name).where(MODELS.c.parent_id == model_id))
                .scalars()
                .all()
            )
            if children and not force:
                raise UserInputError(
                    f"{len(children)} model(s) derive from this one ({', '.join(children[:5])}). "
                    "Delete them first, or confirm to keep them without their parent."
                )
            if children:
                conn.execute(
                    update(MODELS).where(MODELS.c.parent_id == model_id).values(parent_id=None)
                )
            result = conn.execute(delete(MODELS).where(MODELS.c.id == model_id))
            if result.rowcount == 0:
                raise NotFoundError(f"No model with id {model_id} in the registry.")

    def apply_sync(
        self,
        *,
        upserts: Sequence[ModelRecord],
        mark_missing: Sequence[int] = (),
        mark_available: Sequence[int] = (),
        history: Sequence[tuple[int | None, str, dict[str, Any]]] = (),
    ) -> dict[str, int]:
        """Write one source's sync result in a single transaction (all of it, or nothing).

        Records with an id are updated, others inserted; returns name → id for upserts.
        """
        ids: dict[str, int] = {}
        now = utcnow()
        with self._writing() as conn:
            inserts, updates = self._split_upserts(conn, upserts)
            if inserts:
                result = conn.execute(
                    insert(MODELS).returning(MODELS.c.id, sort_by_parameter_order=True),
                    [_new_row_values(record, now) for record in inserts],
                )
                for record, model_id in zip(inserts, result.scalars(), strict=True):
                    ids[record.name] = int(model_id)
            if updates:
                rows = []
                for record in updates:
                    rows.append({**_row_values(record, now), "b_id": record.id})
                    ids[record.name] = int(record.id or 0)
                conn.execute(
                    update(MODELS)
                    .where(MODELS.c.id == bindparam("b_id"))
                    .values({k: bindparam(k) for k in rows[0] if k != "b_id"}),
                    rows,
                )
            if upserts:
                _write_capabilities(conn, [(ids[r.name], r.capabilities) for r in upserts])
            _set_status(conn, mark_missing, ModelStatus.MISSING, now)
            _set_status(conn, mark_available, ModelStatus.AVAILABLE, now)
            if history:
                conn.execute(
                    insert(HISTORY),
                    [
                        history_row(action, model_id=model_id, detail=detail, actor="sync", at=now)
                        for model_id, action, detail in history
                    ],
                )
        return ids

    def _split_upserts(
        self, conn: Connection, upserts: Sequence[ModelRecord]
    ) -> tuple[Records, Records]:
        """(to insert, to update): a record without an id is an update when its key is stored."""
        inserts: Records = []
        updates: Records = [r for r in upserts if r.id is not None]
        new = [r for r in upserts if r.id is None]
        existing = self._existing_ids(conn, new) if new else {}
        for record in new:
            key = (record.name, record.version, record.source.value)
            if key in existing:
                updates.append(record.model_copy(update={"id": existing[key]}))
            else:
                inserts.append(record)
        return inserts, updates

    def _existing_ids(
        self, conn: Connection, records: Sequence[ModelRecord]
    ) -> dict[tuple[str, str, str], int]:
        sources = {r.source.value for r in records}
        rows = conn.execute(
            select(MODELS.c.id, MODELS.c.name, MODELS.c.version, MODELS.c.source).where(
                MODELS.c.source.in_(sources)
            )
        )
        return {(r.name, r.version, r.source): r.id for r in rows}

    # ----- reads ------------------------------------------------------------------
    def get(self, model_id: int) -> ModelRecord:
        with self.db.reading() as conn:
            return self._read_one(conn, model_id)

    def _read_one(self, conn: Connection, model_id: int) -> ModelRecord:
        record = model_queries.records_by_id(conn, [model_id]).get(model_id)
        if record is None:
            raise NotFoundError(f"No model with id {model_id} in the registry.")
        record.performance = latest_performance(conn, [model_id]).get(model_id, {})
        return record

    def find(
        self, name: str, *, source: str | None = None, version: str | None = None
    ) -> ModelRecord | None:
        query = select(MODELS.c.id).where(MODELS.c.name == name)
        if source:
            query = query.where(MODELS.c.source == source)
        if version:
            query = query.where(MODELS.c.version == version)
        with self.db.reading() as conn:
            model_id = conn.execute(query.order_by(MODELS.c.id).limit(1)).scalar()
            return None if model_id is None else self._read_one(conn, int(model_id))

    def resolve(self, name: str) -> ModelRecord:
        """A model by the name a user types: exact, then Ollama's implied `:latest`, then id."""
        candidates = [name] if ":" in name else [name, f"{name}:latest"]
        for candidate in candidates:
            found = self.find(candidate)
            if found is not None:
                return found
        with self.db.reading() as conn:
            row = conn.execute(
                select(MODELS.c.id).where(
                    or_(MODELS.c.github_models_id == name, MODELS.c.ollama_name == name)
                )
            ).first()
        if row is not None:
            return self.get(int(row.id))
        if ":" not in name:
            # "qwen3" finds "qwen3:8b" when that is the only tag of it.
            with self.db.reading() as conn:
                tagged = conn.execute(
                    select(MODELS.c.id, MODELS.c.name)
                    .where(MODELS.c.name.startswith(f"{name}:", autoescape=True))
                    .order_by(MODELS.c.name)
                    .limit(6)
                ).all()
            if len(tagged) == 1:
                return self.get(int(tagged[0].id))
            if tagged:
                raise UserInputError(
                    f"{name!r} could mean {', '.join(r.name for r in tagged[:5])}. Give the tag too."
                )
        if name.isdigit():
            return self.get(int(name))
        raise NotFoundError(
            f"No model named {name!r} in the registry. Run `desktop-registry-cli sync`, "
            "or `desktop-registry-cli list` to see the names."
        )

    def _filtered(
        self,
        query: Select[Any],
        *,
        category: str | None,
        kind: str | None,
        source: str | None,
        text_filter: str | None,
        capability: str | None,
        status: str | None,
        parent_id: int | None,
        candidates: Sequence[int] | None = None,
    ) -> Select[Any]:
        if category:
            # Primary category, or one its capabilities imply (see `category_keys`).
            key = f" {Category(category).value} "
            query = query.where(func.instr(MODELS.c.category_keys, key) > 0)
        if capability:
            query = query.where(
                MODELS.c.id.in_(select(CAPS.c.model_id).where(CAPS.c.capability == capability))
            )
        if kind:
            query = query.where(MODELS.c.kind == kind)
        if source:
            query = query.where(MODELS.c.source == source)
        if status:
            query = query.where(MODELS.c.status == status)
        if parent_id is not None:
            query = query.where(MODELS.c.parent_id == parent_id)
        if text_filter and text_filter.strip():
            query = model_queries.text_condition(query, text_filter, candidates)
        return query

    def list(
        self,
        *,
        category: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        text: str | None = None,
        capability: str | None = None,
        status: str | None = None,
        parent_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Records:
        """Matching models ordered by name; `limit`/`offset` page through them.

        A page walks the name-ordered list index and stops when it is full, unless a text
        filter has a term narrow enough that sorting its search hits is quicker.
        """
        filters: dict[str, Any] = {
            "category": category,
            "kind": kind,
            "source": source,
            "capability": capability,
            "status": status,
            "parent_id": parent_id,
        }
        order = (MODELS.c.name, MODELS.c.version, MODELS.c.source)
        with self.db.reading() as conn:
            candidates = (
                model_queries.search_candidates(conn, text) if limit is not None and text else None
            )
            if limit is not None and candidates is None:
                ids = model_queries.page_in_name_order(
                    conn, **filters, text_filter=text, limit=limit, offset=offset
                )
            else:
                # Sort and page on ids alone, then read the wide rows of the page only.
                query = self._filtered(
                    select(MODELS.c.id), **filters, text_filter=text, candidates=candidates
                ).order_by(*order)
                if limit is not None:
                    query = query.limit(limit).offset(offset)
                ids = list(conn.execute(query).scalars())
            records = model_queries.records_by_id(conn, ids)
            perf = latest_performance(conn, ids)
        for model_id, metrics in perf.items():
            if model_id in records:
                records[model_id].performance = metrics
        return [records[i] for i in ids if i in records]

    def count(self, **filters: Any) -> int:
        query = self._filtered(
            select(func.count()).select_from(MODELS),
            category=filters.get("category"),
            kind=filters.get("kind"),
            source=filters.get("source"),
            text_filter=filters.get("text"),
            capability=filters.get("capability"),
            status=filters.get("status"),
            parent_id=filters.get("parent_id"),
        )
        with self.db.reading() as conn:
            return int(conn.execute(query).scalar_one())

    def known_models(self, source: str) -> dict[str, KnownModel]:
        """name → (id, digest, status, has dependants) for one source, for incremental sync."""
        dependants = (
            select(MODELS.c.parent_id).where(MODELS.c.parent_id.is_not(None)).scalar_subquery()
        )
        query = select(
            MODELS.c.id,
            MODELS.c.name,
            MODELS.c.digest,
            MODELS.c.status,
            MODELS.c.id.in_(dependants).label("has_dependants"),
            MODELS.c.kind,
        ).where(MODELS.c.source == source)
        with self.db.reading() as conn:
            return {
                r.name: KnownModel(r.id, r.name, r.digest, r.status, bool(r.has_dependants), r.kind)
                for r in conn.execute(query)
            }

    def category_counts(self, *, source: str | None = None) -> dict[str, int]:
        """How many models sit under each category, counting a model under every category it has."""
        query = select(MODELS.c.categories)
        if source:
            query = query.where(MODELS.c.source == source)
        counts: dict[str, int] = {}
        with self.db.reading() as conn:
            for (categories,) in conn.execute(query):
                for cat in categories or []:
                    counts[cat] = counts.get(cat, 0) + 1
        return dict(sorted(counts.items()))

    def primary_category_counts(
        self, *, source: str | None = None, status: str | None = None
    ) -> dict[str, int]:
        query = select(MODELS.c.category, func.count()).group_by(MODELS.c.category)
        if source:
            query = query.where(MODELS.c.source == source)
        if status:
            query = query.where(MODELS.c.status == status)
        with self.db.reading() as conn:
            return {str(category): int(n) for category, n in conn.execute(query)}

    def duplicate_keys(self) -> DuplicateKeys:
        query = (
            select(MODELS.c.name, MODELS.c.version, MODELS.c.source)
            .group_by(MODELS.c.name, MODELS.c.version, MODELS.c.source)
            .having(func.count() > 1)
        )
        with self.db.reading() as conn:
            return [(r.name, r.version, r.source) for r in conn.execute(query)]
