"""Sync remote catalogs (GitHub Models, OpenAI-compatible endpoints) into the registry.

Never deletes a model: one transaction per source, and what a source stops listing is marked missing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from desktop_registry.domain import (
    Capability,
    Category,
    CategorySource,
    ModelDetails,
    ModelRecord,
    ModelStatus,
    Serving,
    Source,
    SourceSyncError,
    SyncReport,
    categories_for_capabilities,
    category_for_remote_provider,
)
from desktop_registry.domain.categories import categories_for_catalog_tags, guess_capabilities
from desktop_registry.errors import SourceError, SourceUnreachableError
from desktop_registry.sources.github_models import CatalogEntry, parse_catalog
from desktop_registry.sources.openai_json import RemoteModelInfo
from desktop_registry.storage.repository import KnownModel, ModelRepository


class CatalogSource(Protocol):
    name: str
    base_url: str

    async def catalog(self) -> list[CatalogEntry]: ...

    def remember_tiers(self, entries: list[CatalogEntry]) -> None: ...


class ModelListSource(Protocol):
    name: str
    base_url: str

    async def list_models(self) -> list[RemoteModelInfo]: ...


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----- the offline copy of the catalog ----------------------------------------------------
class CatalogCache:
    """The last catalog fetched, as JSON in the data dir, so the registry works offline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tiers: dict[str, str] | None = None

    def save(self, entries: Sequence[CatalogEntry], url: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "url": url,
            "fetched_at": datetime.now(UTC).isoformat(),
            "entries": [e.model_dump(mode="json", exclude_none=True) for e in entries],
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        tmp.replace(self.path)
        self._tiers = None

    def load(self) -> tuple[list[CatalogEntry], str] | None:
        """(entries, fetched_at) or None when there is no readable cache."""
        if not self.path.is_file():
            return None
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
            return parse_catalog(body.get("entries")), str(body.get("fetched_at", ""))
        except (ValueError, AttributeError, SourceError):
            return None

    def tier_of(self, model_id: str) -> str | None:
        if self._tiers is None:
            loaded = self.load()
            self._tiers = {e.id.lower(): e.rate_limit_tier for e in (loaded[0] if loaded else [])}
        return self._tiers.get(model_id.lower()) or None


# ----- mapping -----------------------------------------------------------------------------
def catalog_capabilities(entry: CatalogEntry) -> list[str]:
    """Catalog fields → the capability values every source shares (Ollama's names)."""
    outputs = {m.lower() for m in entry.supported_output_modalities}
    inputs = {m.lower() for m in entry.supported_input_modalities}
    features = {c.lower() for c in entry.capabilities}
    tags = {t.lower() for t in entry.tags}
    if "embeddings" in outputs or "embedding" in outputs:
        return [Capability.EMBEDDING.value]
    caps = [Capability.COMPLETION]
    if "tool-calling" in features or "tools" in features:
        caps.append(Capability.TOOLS)
    if "image" in inputs:
        caps.append(Capability.VISION)
    if "reasoning" in tags or "reasoning" in features:
        caps.append(Capability.THINKING)
    if "audio" in inputs:
        caps.append(Capability.AUDIO)
    if "image" in outputs:
        caps.append(Capability.IMAGE)
    return [c.value for c in caps]


def record_from_catalog(entry: CatalogEntry, inference_url: str) -> ModelRecord:
    capabilities = catalog_capabilities(entry)
    primary = category_for_remote_provider(entry.id)
    # The provider decides the primary (cloud) category; what the catalog says the model is
    # for (embeddings, vision, coding …) stays on the record as further categories.
    extra = [
        c
        for c in [
            *categories_for_capabilities(capabilities),
            *categories_for_catalog_tags(entry.tags),
        ]
        if c is not Category.GENERAL
    ]
    limits = entry.limits
    return ModelRecord(
        name=entry.id,
        version=entry.version or "latest",
        source=Source.GITHUB_MODELS,
        provider=entry.provider,
        serving=Serving.REMOTE,
        category=primary,
        categories=[primary, *[c for c in dict.fromkeys(extra) if c is not primary]],
        category_source=CategorySource.CATALOG,
        capabilities=capabilities,
        endpoint=inference_url,
        status=ModelStatus.LISTED,
        digest=_digest(entry.model_dump(mode="json")),
        details=ModelDetails(
            family=entry.publisher or None,
            context_length=limits.max_input_tokens if limits else None,
            max_output_tokens=limits.max_output_tokens if limits else None,
        ),
        github_models_id=entry.id,
        description=entry.summary or entry.name,
        tags=[*entry.tags, *([f"tier:{entry.rate_limit_tier}"] if entry.rate_limit_tier else [])],
    )


def endpoint_serving(base_url: str) -> Serving:
    host = (urlparse(base_url).hostname or "").lower()
    return Serving.LOCAL if host in ("localhost", "127.0.0.1", "::1") else Serving.REMOTE


def record_from_endpoint_model(info: RemoteModelInfo, endpoint: str, base_url: str) -> ModelRecord:
    """`/v1/models` says only the id, so capabilities are guessed from the name (and marked so)."""
    capabilities = [c.value for c in guess_capabilities(name=info.id)]
    categories = categories_for_capabilities(capabilities)
    return ModelRecord(
        name=f"{endpoint}/{info.id}",
        source=Source.OPENAI_COMPATIBLE,
        provider=endpoint,
        serving=endpoint_serving(base_url),
        category=categories[0],
        categories=categories,
        category_source=CategorySource.HEURISTIC,
        capabilities=capabilities,
        endpoint=base_url,
        status=ModelStatus.AVAILABLE,
        digest=_digest({"id": info.id, "owned_by": info.owned_by, "base_url": base_url}),
        description=f"{info.id} on {endpoint}" + (f" ({info.owned_by})" if info.owned_by else ""),
    )


# ----- applying a listing ------------------------------------------------------------------
def apply_listing(
    repository: ModelRepository,
    records: Sequence[ModelRecord],
    known: dict[str, KnownModel],
    report: SyncReport,
    *,
    source_label: str,
) -> None:
    """Upsert what changed, keep status that calls have earned, mark the rest missing."""
    upserts: list[ModelRecord] = []
    history: list[tuple[int | None, str, dict[str, object]]] = []
    seen: set[str] = set()
    for record in records:
        if record.name in seen:
            continue
        seen.add(record.name)
        stored = known.get(record.name)
        if stored is None:
            report.added.append(record.name)
            upserts.append(record)
            continue
        was_missing = stored.status == ModelStatus.MISSING.value
        if stored.digest == record.digest and not was_missing:
            report.unchanged += 1
            continue
        # A model that answered before keeps its earned status across catalog changes.
        status = record.status if was_missing else ModelStatus(stored.status)
        upserts.append(record.model_copy(update={"id": stored.id, "status": status}))
        if was_missing:
            report.restored.append(record.name)
            history.append((stored.id, "restored", {"source": source_label}))
        else:
            report.updated.append(record.name)
            history.append(
                (stored.id, "digest_changed", {"from": stored.digest, "to": record.digest})
            )
    missing = [
        m for name, m in known.items() if name not in seen and m.status != ModelStatus.MISSING.value
    ]
    report.missing = [m.name for m in missing]
    history.extend((m.id, "missing", {"source": source_label}) for m in missing)
    repository.apply_sync(upserts=upserts, mark_missing=[m.id for m in missing], history=history)


class GitHubModelsSync:
    """GitHub catalog → registry; falls back to the cached catalog when GitHub cannot be reached."""

    def __init__(
        self, source: CatalogSource, repository: ModelRepository, cache: CatalogCache
    ) -> None:
        self.source = source
        self.repository = repository
        self.cache = cache

    async def run(self) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(source=Source.GITHUB_MODELS.value)
        try:
            entries = await self.source.catalog()
            self.cache.save(entries, self.source.base_url)
        except SourceError as exc:
            cached = self.cache.load()
            if cached is None:
                raise
            entries, fetched_at = cached
            self.source.remember_tiers(entries)
            report.errors.append(
                SourceSyncError(
                    source=report.source,
                    message=f"{exc} Using the catalog cached at {fetched_at}.",
                )
            )
            if isinstance(exc, SourceUnreachableError):
                # Offline: the cache only fills gaps; never mark models missing from an old copy.
                known = self.repository.known_models(report.source)
                records = [record_from_catalog(e, self.source.base_url) for e in entries]
                fresh = [r for r in records if r.name not in known]
                if fresh:
                    self.repository.apply_sync(upserts=fresh)
                    report.added = [r.name for r in fresh]
                report.unchanged = len(records) - len(fresh)
                return self._finish(report, started)
        records = [record_from_catalog(e, self.source.base_url) for e in entries]
        known = self.repository.known_models(report.source)
        apply_listing(self.repository, records, known, report, source_label=report.source)
        return self._finish(report, started)

    def _finish(self, report: SyncReport, started: float) -> SyncReport:
        report.per_category = self.repository.primary_category_counts(source=report.source)
        report.duration_s = time.perf_counter() - started
        return report


class EndpointSync:
    """One OpenAI-compatible endpoint's `/v1/models` → registry records named `<endpoint>/<id>`."""

    def __init__(self, source: ModelListSource, repository: ModelRepository) -> None:
        self.source = source
        self.repository = repository

    async def run(self) -> SyncReport:
        started = time.perf_counter()
        name = self.source.name
        report = SyncReport(source=f"{Source.OPENAI_COMPATIBLE.value}:{name}")
        models = await self.source.list_models()  # unreachable → raises; nothing is touched
        records = [record_from_endpoint_model(m, name, self.source.base_url) for m in models]
        prefix = f"{name}/"
        known = {
            k: v
            for k, v in self.repository.known_models(Source.OPENAI_COMPATIBLE.value).items()
            if k.startswith(prefix)
        }
        apply_listing(self.repository, records, known, report, source_label=report.source)
        counts: dict[str, int] = {}
        for record in records:
            counts[record.category.value] = counts.get(record.category.value, 0) + 1
        report.per_category = counts
        report.duration_s = time.perf_counter() - started
        return report
