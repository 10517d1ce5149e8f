"""The registry's model list read with the standard library's sqlite3, for the CLI's `list`.

A cold `list` must answer as fast as `ollama list`; SQLAlchemy and pydantic take most of a
second to import. Answers only from a file already at the schema this code knows (else None, and
the caller takes the full path, which migrates); never writes, never imports SQLAlchemy. Its
filters are the repository's (tests/integration/test_quick_list.py holds the two side by side).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def schema_heads(folder: Path = MIGRATIONS) -> set[str] | None:
    """The migrations' head revisions, read from their files; None if one cannot be read plainly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        files = sorted(folder.glob("*.py"))
        for path in files:
            if path.name == "__init__.py":
                continue
            text = path.read_text(encoding="utf-8")
            revision, down = _REVISION.search(text), _DOWN.search(text)
            if revision is None or down is None:
                return None
            revisions.add(revision.group(1))
            parents.update(_QUOTED.findall(down.group(1)))
    except OSError:
        return None
    heads = revisions - parents
    return heads or None


@dataclass(frozen=True)
class ListedModel:
    """What `list` prints of one model."""

    name: str
    source: str
    category: str
    category_source: str
    capabilities: list[str] = field(default_factory=list)
    parameter_size: str | None = None
    size_bytes: int | None = None
    status: str = ""


def list_models(
    db_path: Path,
    *,
    category: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    capability: str | None = None,
    status: str | None = None,
) -> list[ListedModel] | None:
    """Models ordered as the repository orders them, or None when this path cannot answer."""
    if not db_path.is_file():
        return None
    heads = schema_heads()
    if heads is None:
        return None
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        stored = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        if stored != heads:
            return None  # older (or newer) schema: the full path migrates or explains
        where: list[str] = []
        params: list[Any] = []
        if category:
            where.append("instr(category_keys, ?) > 0")
            params.append(f" {category} ")
        if capability:
            where.append("id IN (SELECT model_id FROM model_capabilities WHERE capability = ?)")
            params.append(capability)
        for column, value in (("kind", kind), ("source", source), ("status", status)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (
            "SELECT name, source, category, category_source, capabilities, details, size_bytes, "
            "status FROM models"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY name, version, source"
        )
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None  # locked by a migration, a table missing: the full path says what is wrong
    finally:
        conn.close()
    listed = []
    for name, src, cat, cat_source, caps, details, size, state in rows:
        try:
            capabilities = json.loads(caps) if caps else []
            facts = json.loads(details) if details else {}
        except ValueError:
            return None
        listed.append(
            ListedModel(
                name=name,
                source=src,
                category=cat,
                category_source=cat_source,
                capabilities=[str(c) for c in capabilities]
                if isinstance(capabilities, list)
                else [],
                parameter_size=facts.get("parameter_size") if isinstance(facts, dict) else None,
                size_bytes=size,
                status=state,
            )
        )
    return listed
