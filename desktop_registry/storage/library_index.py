"""The library index on disk: replace its entries, read them back, and search them (FTS5 + bm25).

Holds no rules about what belongs in the library; services/library/catalog.py decides and rebuilds it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text

from desktop_registry.domain.library import LibraryEntry, LibraryQuery, LibraryResult
from desktop_registry.storage.database import Database
from desktop_registry.storage.library_tables import LibraryEntryRow, LibraryMetaRow
from desktop_registry.storage.tables import MODELS as _MODELS
from desktop_registry.storage.tables import PERF as _PERF

ENTRIES = cast(Table, LibraryEntryRow.__table__)
META = cast(Table, LibraryMetaRow.__table__)

_TERM = re.compile(r"[^\s\"]+")
# bm25 column weights: name, family, description, tags.
_BM25 = "bm25(library_fts, 10.0, 4.0, 1.0, 3.0)"


def _spaced(values: Iterable[str]) -> str:
    return " " + " ".join(values) + " "


def _row(entry: LibraryEntry) -> dict[str, Any]:
    size = entry.size_class
    return {
        "key": entry.key,
        "name": entry.name,
        "family": entry.family,
        "description": entry.description,
        "tags": " ".join(entry.tags),
        "categories": _spaced(c.value for c in entry.categories),
        "capabilities": _spaced(entry.capabilities),
        "parameter_count": entry.parameter_count,
        "size_class": size.value if size else None,
        "installed": entry.installed,
        "remote": entry.remote,
        "origin": entry.origin.value,
        "performance_score": entry.performance_score,
        "payload": entry.model_dump(mode="json", exclude_defaults=True),
    }


def _relevance(score: float, name: str, terms: Sequence[str]) -> float:
    """bm25 (lower is better) → 0..1, with a bonus when the name itself starts with the query."""
    strength = max(0.0, -score)
    value = 1.0 - math.exp(-strength / 4.0)
    lowered = name.lower()
    query = " ".join(terms).lower()
    if query and lowered.split(":")[0] == query:
        value = 0.7 + 0.3 * value
    elif query and lowered.startswith(query):
        value = 0.5 + 0.5 * value
    return round(min(1.0, value), 2)


class LibraryIndex:
    """Rows of `library_entries` in domain types; one transaction per rebuild."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- writes ---------------------------------------------------------------------------
    def replace(self, entries: Sequence[LibraryEntry], meta: dict[str, str] | None = None) -> int:
        """Swap the whole index for `entries` in one transaction (readers see old or new)."""
        rows = [_row(e) for e in entries]
        with self.db.transaction() as conn:
            conn.execute(delete(ENTRIES))
            for start in range(0, len(rows), 2000):
                conn.execute(insert(ENTRIES), rows[start : start + 2000])
            for key, value in (meta or {}).items():
                conn.execute(delete(META).where(META.c.key == key))
                conn.execute(insert(META).values(key=key, value=value))
        return len(rows)

    def meta(self, key: str) -> str | None:
        with self.db.reading() as conn:
            value = conn.execute(select(META.c.value).where(META.c.key == key)).scalar()
        return None if value is None else str(value)

    def registry_fingerprint(self) -> str:
        """Changes whenever a registry model or a recorded metric is added, changed or removed."""
        with self.db.reading() as conn:
            count, latest = conn.execute(
                select(func.count(), func.max(_MODELS.c.updated_at)).select_from(_MODELS)
            ).one()
            perf = conn.execute(select(func.count(), func.max(_PERF.c.id))).one()
        return json.dumps([count, str(latest), perf[0], perf[1]])

    # ----- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())

    def get(self, key: str) -> LibraryEntry | None:
        with self.db.reading() as conn:
            payload = conn.execute(select(ENTRIES.c.payload).where(ENTRIES.c.key == key)).scalar()
        return None if payload is None else LibraryEntry.model_validate(payload)

    def find_by_name(self, name: str) -> list[LibraryEntry]:
        with self.db.reading() as conn:
            payloads = conn.execute(select(ENTRIES.c.payload).where(ENTRIES.c.name == name))
            return [LibraryEntry.model_validate(p) for (p,) in payloads]

    def all(self) -> list[LibraryEntry]:
        with self.db.reading() as conn:
            rows = conn.execute(select(ENTRIES.c.payload).order_by(ENTRIES.c.name)).scalars()
            return [LibraryEntry.model_validate(p) for p in rows]

    def search(self, query: LibraryQuery) -> list[LibraryResult]:
        """Ranked matches for the text (bm25, name weighted most), narrowed by every filter."""
        terms = [t.replace('"', "") for t in _TERM.findall(query.text)]
        long_terms = [t for t in terms if len(t) >= 3]
        where: list[str] = []
        params: dict[str, Any] = {}
        for i, term in enumerate(t for t in terms if len(t) < 3):
            where.append(
                f"(e.name LIKE :short{i} OR e.family LIKE :short{i} OR e.tags LIKE :short{i} "
                f"OR e.description LIKE :short{i})"
            )
            params[f"short{i}"] = f"%{term}%"
        if query.category is not None:
            where.append("e.categories LIKE :category")
            params["category"] = f"% {query.category.value} %"
        if query.capability:
            where.append("e.capabilities LIKE :capability")
            params["capability"] = f"% {query.capability} %"
        if query.size_class is not None:
            where.append("e.size_class = :size_class")
            params["size_class"] = query.size_class.value
        if query.min_performance is not None:
            where.append("e.performance_score >= :min_perf")
            params["min_perf"] = query.min_performance
        if query.max_parameters is not None:
            where.append("e.parameter_count <= :max_params")
            params["max_params"] = query.max_parameters
        if query.installed is not None:
            where.append("e.installed = :installed")
            params["installed"] = query.installed
        if query.remote is not None:
            where.append("e.remote = :remote")
            params["remote"] = query.remote
        window = min(max(query.limit * 3, 60), 5000)
        params["window"] = window
        if long_terms:
            params["match"] = " AND ".join(f'"{t}"' for t in long_terms)
            sql = (
                f"SELECT e.payload, e.name, {_BM25} AS score, e.installed FROM library_fts "
                "JOIN library_entries e ON e.id = library_fts.rowid "
                "WHERE library_fts MATCH :match"
                + "".join(f" AND {w}" for w in where)
                + " ORDER BY score LIMIT :window"
            )
        else:
            sql = (
                "SELECT e.payload, e.name, 0.0 AS score, e.installed FROM library_entries e"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY e.installed DESC, e.remote, e.name LIMIT :window"
            )
        with self.db.reading() as conn:
            rows = conn.execute(text(sql), params).all()
        results: list[tuple[float, bool, int, str]] = []
        for position, (payload, name, score, installed) in enumerate(rows):
            relevance = _relevance(float(score), str(name), long_terms) if long_terms else 1.0
            results.append((relevance, bool(installed), position, payload))
        if long_terms:  # equally relevant: what the user already has comes first
            results.sort(key=lambda r: (-r[0], not r[1], r[2]))
        return [
            LibraryResult(entry=LibraryEntry.model_validate_json(payload), relevance=relevance)
            for relevance, _installed, _pos, payload in results[: query.limit]
        ]
