"""The model library: the curated catalog merged with installed and remote registry models, searchable.

Never pulls, calls or deletes a model; it reads the catalog and the registry and rebuilds its own index,
and a read never fails because another process is writing the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from desktop_registry.domain import ModelDetails, ModelRecord, ModelStatus, Serving, Source
from desktop_registry.domain.library import (
    EntryOrigin,
    LibraryCategory,
    LibraryEntry,
    LibraryQuery,
    LibraryResult,
    library_categories,
    parse_parameter_size,
)
from desktop_registry.errors import NotFoundError, StorageError, UserInputError
from desktop_registry.resources_path import resource
from desktop_registry.storage import ModelRepository
from desktop_registry.storage.library_index import LibraryIndex

CATALOG_FORMAT = "desktop-registry-library/1"
_SCORE_HINTS = ("score", "accuracy", "pass_rate", "passrate", "quality", "f1", "exact_match")
# A rebuild that meets another process's write lock waits SQLite's busy timeout, then tries once more.
REBUILD_RETRY_DELAY_S = 0.2


def shipped_catalog_path() -> Path:
    """resources/library/catalog.json: a source checkout, an installed copy or a bundle."""
    return resource("library", "catalog.json")


def performance_score(performance: Mapping[str, float]) -> float | None:
    """0–1 from recorded benchmark metrics that are scores (accuracy, pass rate …); None if none."""
    values: list[float] = []
    for metric, value in performance.items():
        name = metric.lower()
        if not any(h in name for h in _SCORE_HINTS):
            continue
        if 0.0 <= value <= 1.0:
            values.append(value)
        elif 1.0 < value <= 100.0 and (name.endswith("_pct") or "percent" in name):
            values.append(value / 100.0)
    return round(sum(values) / len(values), 4) if values else None


def entry_from_catalog(raw: Mapping[str, Any]) -> LibraryEntry:
    arch = raw.get("architecture") or {}
    count = raw.get("parameter_count") or parse_parameter_size(raw.get("parameter_size"))
    details = ModelDetails(
        family=raw.get("family") or None,
        architecture=raw.get("family") or None,
        parameter_size=raw.get("parameter_size") or None,
        parameter_count=count,
        quantization_level=raw.get("quantization") or None,
        context_length=raw.get("context_length"),
        block_count=arch.get("block_count"),
        head_count=arch.get("head_count"),
        head_count_kv=arch.get("head_count_kv"),
        key_length=arch.get("key_length"),
        value_length=arch.get("key_length"),
        embedding_length=arch.get("embedding_length"),
        has_projector=bool(raw.get("has_projector")),
    )
    remote = bool(raw.get("remote"))
    return LibraryEntry(
        key=str(raw["name"]),
        name=str(raw["name"]),
        family=str(raw.get("family") or ""),
        group=str(raw.get("group") or str(raw["name"]).split(":")[0]),
        description=str(raw.get("description") or ""),
        capabilities=list(raw.get("capabilities") or []),
        categories=[LibraryCategory(c) for c in raw.get("categories") or []]
        or library_categories(raw.get("capabilities") or [], tags=raw.get("tags") or []),
        tags=[str(t) for t in raw.get("tags") or []],
        parameter_count=count,
        active_parameter_count=raw.get("active_parameter_count"),
        parameter_size=str(raw.get("parameter_size") or ""),
        size_bytes=raw.get("size_bytes"),
        context_length=raw.get("context_length"),
        quantization=str(raw.get("quantization") or ""),
        license=str(raw.get("license") or ""),
        origin=EntryOrigin.CATALOG,
        remote=remote,
        details=details,
    )


def read_catalog(path: Path) -> tuple[list[LibraryEntry], dict[str, str]]:
    """Entries and alias → name from a catalog file; a clear UserInputError when it is unusable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"No library catalog at {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(f"The library catalog {path} is not readable JSON: {exc}") from None
    models = doc.get("models") if isinstance(doc, dict) else doc
    if not isinstance(models, list) or not models:
        raise UserInputError(
            f"{path} has no models: expected {{'format': '{CATALOG_FORMAT}', 'models': [...]}}."
        )
    entries: list[LibraryEntry] = []
    aliases: dict[str, str] = {}
    for i, raw in enumerate(models):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise UserInputError(f"{path}: model #{i + 1} has no name.")
        try:
            entries.append(entry_from_catalog(raw))
        except (ValidationError, ValueError, TypeError) as exc:
            raise UserInputError(f"{path}: model {raw.get('name')!r} is invalid: {exc}") from None
        for alias in raw.get("aliases") or []:
            aliases[str(alias)] = str(raw["name"])
    return entries, aliases


def _registry_entry(record: ModelRecord) -> LibraryEntry:
    remote = record.serving is Serving.REMOTE
    origin = {
        Source.OLLAMA: EntryOrigin.OLLAMA,
        Source.GITHUB_MODELS: EntryOrigin.GITHUB_MODELS,
        Source.OPENAI_COMPATIBLE: EntryOrigin.OPENAI_COMPATIBLE,
        Source.MLFLOW: EntryOrigin.MLFLOW,
    }[record.source]
    d = record.details
    count = d.parameter_count or parse_parameter_size(d.parameter_size)
    key = record.name if record.source is Source.OLLAMA else f"{record.source.value}:{record.name}"
    if record.provider:
        key = f"{record.source.value}:{record.provider}:{record.name}"
    return LibraryEntry(
        key=key,
        name=record.name,
        family=d.family or "",
        group=record.name.split(":")[0],
        description=record.description,
        capabilities=list(record.capabilities),
        categories=library_categories(
            record.capabilities,
            tags=record.tags,
            registry_categories=[c.value for c in record.categories],
            remote=remote,
        ),
        tags=list(record.tags),
        parameter_count=count,
        parameter_size=d.parameter_size or "",
        size_bytes=record.size_bytes,
        context_length=d.context_length,
        quantization=d.quantization_level or "",
        license=record.license.splitlines()[0][:200] if record.license else "",
        origin=origin,
        remote=remote,
        installed=record.status is ModelStatus.AVAILABLE and not remote,
        model_id=record.id,
        details=d,
        performance=dict(record.performance),
        performance_score=performance_score(record.performance),
    )


def _merge(catalog: LibraryEntry, record: ModelRecord) -> LibraryEntry:
    """The catalog's description and priors, with what the installed model really reports."""
    mine = _registry_entry(record)
    details = catalog.details.model_copy(
        update={k: v for k, v in record.details.model_dump(exclude_defaults=True).items() if v}
    )
    return catalog.model_copy(
        update={
            "installed": mine.installed,
            "model_id": record.id,
            "size_bytes": record.size_bytes or catalog.size_bytes,
            "quantization": mine.quantization or catalog.quantization,
            "capabilities": mine.capabilities or catalog.capabilities,
            "details": details,
            "performance": mine.performance,
            "performance_score": mine.performance_score,
        }
    )


class LibraryService:
    """Catalog + registry → one searchable library, rebuilt when either changes."""

    def __init__(
        self,
        index: LibraryIndex,
        models: ModelRepository,
        *,
        catalog_path: Path | None = None,
        imported_catalog_path: Path | None = None,
    ) -> None:
        self.index = index
        self.models = models
        self.catalog_path = catalog_path or shipped_catalog_path()
        self.imported_catalog_path = imported_catalog_path
        self._aliases: dict[str, str] = {}
        # Why the last read answered from an index older than the catalog/registry (None: it was current).
        self.stale_reason: str | None = None

    # ----- catalog --------------------------------------------------------------------------
    def active_catalog_path(self) -> Path:
        imported = self.imported_catalog_path
        return imported if imported is not None and imported.is_file() else self.catalog_path

    def catalog(self) -> list[LibraryEntry]:
        entries, self._aliases = read_catalog(self.active_catalog_path())
        return entries

    def import_catalog(self, path: Path) -> int:
        """Replace the catalog with a user's file (validated first: a bad file changes nothing)."""
        entries, _aliases = read_catalog(path)
        if self.imported_catalog_path is None:
            raise UserInputError("This library has no place to keep an imported catalog.")
        target = self.imported_catalog_path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(path.read_bytes())
        os.replace(tmp, target)
        self.refresh(force=True)
        return len(entries)

    # ----- index ----------------------------------------------------------------------------
    def _catalog_stamp(self) -> str:
        path = self.active_catalog_path()
        try:
            data = path.read_bytes()
        except OSError:
            return "missing"
        return f"{path}:{hashlib.sha1(data, usedforsecurity=False).hexdigest()}"

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the index when the catalog or the registry changed; True when it rebuilt."""
        stamp = self._catalog_stamp()
        fingerprint = self.index.registry_fingerprint()
        if (
            not force
            and self.index.meta("catalog") == stamp
            and self.index.meta("registry") == fingerprint
        ):
            return False
        entries = self.build_entries()
        self.index.replace(entries, {"catalog": stamp, "registry": fingerprint})
        return True

    def build_entries(self, records: Sequence[ModelRecord] | None = None) -> list[LibraryEntry]:
        catalog = self.catalog()
        by_name = {e.name: e for e in catalog}
        merged: dict[str, LibraryEntry] = {e.key: e for e in catalog}
        for record in records if records is not None else self.models.list():
            if record.status is ModelStatus.MISSING and record.source is not Source.OLLAMA:
                continue
            name = self._aliases.get(record.name, record.name)
            base = by_name.get(name) if record.source is Source.OLLAMA else None
            if base is not None:
                merged[base.key] = _merge(merged[base.key], record)
            else:
                entry = _registry_entry(record)
                merged[entry.key] = entry
        return list(merged.values())

    def _refresh_before_read(self) -> bool:
        """Bring the index up to date for a read, best effort; False when it could not be rebuilt.

        Rebuilding writes the registry file. When another process holds its write lock past SQLite's
        busy timeout (and one more try), the read goes on with the index as last built and
        `stale_reason` says so: a read never fails because someone else is writing.
        """
        for attempt in range(2):
            try:
                self.refresh()
            except StorageError as exc:
                error = exc
                if attempt == 0:
                    time.sleep(REBUILD_RETRY_DELAY_S)
                continue
            self.stale_reason = None
            return True
        self.stale_reason = (
            f"The library list may be out of date: its index could not be updated ({error}). "
            "Another program may be writing the registry; try again in a moment."
        )
        return False

    def _indexed_or_built(self) -> list[LibraryEntry] | None:
        """None when the index can answer; the entries built in memory when it was never written."""
        if self._refresh_before_read() or self.index.count():
            return None
        return self.build_entries()

    # ----- queries --------------------------------------------------------------------------
    def search(self, query: LibraryQuery) -> list[LibraryResult]:
        built = self._indexed_or_built()
        if built is not None:
            return search_entries(built, query)
        return self.index.search(query)

    def entries(self) -> list[LibraryEntry]:
        built = self._indexed_or_built()
        if built is not None:
            return sorted(built, key=lambda e: e.name)
        return self.index.all()

    def get(self, name: str) -> LibraryEntry:
        """An entry by the name a user types: key, name, alias (`llama3.1` → `llama3.1:8b`)."""
        built = self._indexed_or_built()
        if not self._aliases:
            self.catalog()
        for candidate in (name, self._aliases.get(name), self._aliases.get(f"{name}:latest")):
            if not candidate:
                continue
            if built is not None:
                found = next((e for e in built if candidate in (e.key, e.name)), None)
            else:
                found = self.index.get(candidate) or next(
                    iter(self.index.find_by_name(candidate)), None
                )
            if found is not None:
                return found
        raise NotFoundError(
            f"{name!r} is not in the library. Try `desktop-registry-cli library search {name}`."
        )

    def siblings(self, entry: LibraryEntry) -> list[LibraryEntry]:
        """Other sizes of the same model, smallest first.

        Only reads: the index as last built (the lookup that found `entry` refreshed it), the
        catalog for sizes the index does not hold yet. It never takes the registry's write lock.
        """
        same: list[LibraryEntry] = []
        for candidate in self.catalog():
            if candidate.group != entry.group or candidate.key == entry.key or candidate.remote:
                continue
            same.append(self.index.get(candidate.key) or candidate)
        return sorted(same, key=lambda e: e.parameter_count or 0)


def search_entries(entries: Sequence[LibraryEntry], query: LibraryQuery) -> list[LibraryResult]:
    """The plain-text fallback of the index search: every word and every filter must match.

    Used only while the index has never been written and cannot be (the registry is locked
    elsewhere); results are not ranked by relevance, installed and local models come first.
    """
    words = [w.lower() for w in query.text.split()]
    found: list[LibraryEntry] = []
    for e in entries:
        haystack = " ".join([e.name, e.family, e.description, *e.tags]).lower()
        size = e.size_class
        if (
            all(w in haystack for w in words)
            and (query.category is None or query.category in e.categories)
            and (not query.capability or query.capability in e.capabilities)
            and (query.size_class is None or size is query.size_class)
            and (
                query.min_performance is None
                or (e.performance_score or 0.0) >= query.min_performance
            )
            and (
                query.max_parameters is None
                or (e.parameter_count is not None and e.parameter_count <= query.max_parameters)
            )
            and (query.installed is None or e.installed is query.installed)
            and (query.remote is None or e.remote is query.remote)
        ):
            found.append(e)
    found.sort(key=lambda e: (not e.installed, e.remote, e.name))
    return [LibraryResult(entry=e, relevance=1.0) for e in found[: query.limit]]
