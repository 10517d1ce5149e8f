"""How the registry's model lists are found and read: text search, paging, row decoding.

Pure query helpers over one open connection; `ModelRepository` composes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, column, text

from desktop_registry.domain import Category, ModelRecord
from desktop_registry.domain.categories import CAPABILITY_CATEGORIES
from desktop_registry.storage.tables import MODELS

FTS_TERM = re.compile(r"[^\s\"]+")


def search_text(record: ModelRecord) -> str:
    """What short filter terms are matched against (the same text the trigram index holds)."""
    return " ".join(
        [record.name, record.details.family or "", record.description, json.dumps(record.tags)]
    ).lower()


def category_keys(
    primary: Category | str, capabilities: Iterable[str], also: Iterable[Category | str] = ()
) -> str:
    """ " a b ": the categories a model is listed under, as the list filters match them: the
    primary, those its capabilities imply, and any others its record lists (a catalog's tags,
    e.g. a cloud model tagged coding is also listed under code)."""
    caps = set(capabilities)
    keys = {Category(primary).value} | {
        category.value for cap, category in CAPABILITY_CATEGORIES if cap.value in caps
    }
    keys |= {Category(category).value for category in also}
    return " " + " ".join(sorted(keys)) + " "


_JSON_COLUMNS = {"capabilities": "[]", "parameters": "{}", "details": "{}", "tags": "[]"}
_TIME_COLUMNS = ("modified_at", "created_at", "updated_at")


def _record_json_sql() -> str:
    """SQL building each model row's `ModelRecord` JSON inside SQLite (one C call per row).

    pydantic then validates the text in one pass: no per-column Python decoding. Times are
    stored as naive UTC, so they get a "Z"; an empty category list falls back to the primary.
    """
    parts: list[str] = []
    for name in ModelRecord.model_fields:
        if name == "performance":
            continue
        if name == "categories":
            value = (
                "CASE WHEN categories IS NULL OR categories = '[]' THEN json_array(category) "
                "ELSE json(categories) END"
            )
        elif name in _JSON_COLUMNS:
            value = f"json(coalesce({name}, '{_JSON_COLUMNS[name]}'))"
        elif name in _TIME_COLUMNS:
            value = f"{name} || 'Z'"
        else:
            value = name
        parts.append(f"'{name}', {value}")
    return "SELECT id, json_object(" + ", ".join(parts) + ") FROM models WHERE id IN "


_RECORD_JSON_SQL = _record_json_sql()


def records_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, ModelRecord]:
    out: dict[int, ModelRecord] = {}
    for start in range(0, len(ids), 900):
        chunk = tuple(ids[start : start + 900])
        sql = _RECORD_JSON_SQL + "(" + ",".join("?" * len(chunk)) + ")"
        for model_id, document in conn.exec_driver_sql(sql, chunk):
            out[int(model_id)] = ModelRecord.model_validate_json(document)
    return out


def fts_query(text_filter: str) -> str | None:
    """An FTS5 trigram MATCH expression for the terms of 3+ characters (None if there are none)."""
    terms = [t.replace('"', "") for t in FTS_TERM.findall(text_filter)]
    long_terms = [t for t in terms if len(t) >= 3]
    if not long_terms:
        return None
    return " AND ".join(f'"{t}"' for t in long_terms)


def text_condition(
    query: Select[Any], text_filter: str, candidates: Sequence[int] | None = None
) -> Select[Any]:
    """Every term must occur in name, family, description or tags (case-insensitive substring).

    Without `candidates`, terms of 3+ characters go through the trigram index. With them (ids
    the index gave for one term, see `search_candidates`), every term is checked on those
    rows' `search_text`. Short terms are always checked with LIKE on `search_text`.
    """
    if candidates is not None:
        query = query.where(MODELS.c.id.in_(list(candidates)))
    else:
        match = fts_query(text_filter)
        if match is not None:
            found = text("SELECT rowid FROM models_fts WHERE models_fts MATCH :fts_match")
            query = query.where(
                MODELS.c.id.in_(found.bindparams(fts_match=match).columns(column("rowid")))
            )
    for term in FTS_TERM.findall(text_filter):
        if len(term) >= 3 and candidates is None:
            continue
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(MODELS.c.search_text.like(f"%{escaped}%", escape="\\"))
    return query


# A text term whose search-index hits reach this many is "broad": a page of its matches is
# found faster by walking the name-ordered list index than by sorting every hit. (Below
# SQLite's oldest limit of 999 bound parameters, so the hits themselves can be bound.)
BROAD_HITS = 800


def search_candidates(conn: Connection, text_filter: str) -> list[int] | None:
    """The trigram index's ids for the narrowest 3+ character term, if it has < BROAD_HITS.

    None when there is no such term, or every term is broad. Each term is looked up on its
    own with a LIMIT, so a broad one costs little; the other terms are checked afterwards on
    the candidates (`text_condition`).
    """
    probe = "SELECT rowid FROM models_fts WHERE models_fts MATCH ? LIMIT ?"
    narrowest: list[int] | None = None
    for term in dict.fromkeys(t.lower() for t in FTS_TERM.findall(text_filter) if len(t) >= 3):
        ids = [int(r[0]) for r in conn.exec_driver_sql(probe, (f'"{term}"', BROAD_HITS))]
        if len(ids) < BROAD_HITS and (narrowest is None or len(ids) < len(narrowest)):
            narrowest = ids
            if not ids:
                break
    return narrowest


def page_in_name_order(
    conn: Connection,
    *,
    category: str | None,
    kind: str | None,
    source: str | None,
    text_filter: str | None,
    capability: str | None,
    status: str | None,
    parent_id: int | None,
    limit: int,
    offset: int,
) -> list[int]:
    """One page of ids, walking `ix_models_list` in name order and stopping when it is full.

    Every condition is checked on the index itself (`category_keys`, `search_text`), never on
    the wide model rows; SQLAlchemy renders no SQLite index hints, so the SQL is written here.
    Same matches as the search index: every term is a case-insensitive substring.
    """
    where: list[str] = []
    params: list[Any] = []
    if category:
        where.append("instr(category_keys, ?) > 0")
        params.append(f" {Category(category).value} ")
    for name, value in (("kind", kind), ("source", source), ("status", status)):
        if value:
            where.append(f"{name} = ?")
            params.append(value)
    if parent_id is not None:
        where.append("parent_id = ?")
        params.append(parent_id)
    if capability:
        where.append("id IN (SELECT model_id FROM model_capabilities WHERE capability = ?)")
        params.append(capability)
    for term in FTS_TERM.findall(text_filter or ""):
        term = term.lower()
        if term:
            where.append("instr(search_text, ?) > 0")
            params.append(term)
    sql = (
        "SELECT id FROM models INDEXED BY ix_models_list"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY name, version, source LIMIT ? OFFSET ?"
    )
    return [int(r[0]) for r in conn.exec_driver_sql(sql, (*params, limit, offset))]
