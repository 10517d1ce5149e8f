"""Sync one llama.cpp server: its model(s), with the context size, slots and template it reports.

Categories come only from what the server reports (embeddings answer, vision modality, a
template that takes tools) and are marked as reported; never guesses from the model's name, and a
server that is down leaves its rows as they were (sync raises, nothing is touched).
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from desktop_registry.domain import (
    Capability,
    CategorySource,
    ModelDetails,
    ModelRecord,
    ModelStatus,
    Source,
    SyncReport,
    categories_for_capabilities,
)
from desktop_registry.services.registry.server_facts import parameter_size, server_facts
from desktop_registry.sources.llamacpp import (
    LlamaCppSource,
    ServedModel,
    ServerHealth,
    ServerProps,
    SlotState,
)
from desktop_registry.storage.repository import ModelRepository

ENGINE_TAG = "engine:llamacpp"


def capabilities_reported(props: ServerProps, embeddings: bool) -> list[str]:
    caps = [Capability.COMPLETION.value]
    if embeddings:
        caps.append(Capability.EMBEDDING.value)
    if props.modalities.vision:
        caps.append(Capability.VISION.value)
    if props.supports_tools:
        caps.append(Capability.TOOLS.value)
    return caps


def record_from_server(
    endpoint: str,
    server_url: str,
    served: ServedModel,
    props: ServerProps,
    *,
    embeddings: bool,
    slots: list[SlotState] | None,
) -> ModelRecord:
    from desktop_registry.services.sync.remote import endpoint_serving

    capabilities = capabilities_reported(props, embeddings)
    categories = categories_for_capabilities(capabilities)
    meta = served.meta
    context = props.context_per_slot or (slots[0].n_ctx if slots else None)
    facts: dict[str, Any] = {
        "id": served.id,
        "path": props.model_path,
        "ctx": context,
        "slots": props.total_slots,
        "caps": capabilities,
        "template": hashlib.sha256(props.chat_template.encode()).hexdigest()[:16],
        "meta": meta.model_dump(),
    }
    return ModelRecord(
        name=f"{endpoint}/{served.id}",
        source=Source.OPENAI_COMPATIBLE,
        provider=endpoint,
        serving=endpoint_serving(server_url),
        category=categories[0],
        categories=categories,
        category_source=CategorySource.SERVER,
        capabilities=capabilities,
        endpoint=server_url,
        status=ModelStatus.AVAILABLE,
        digest=hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest(),
        size_bytes=meta.size,
        details=ModelDetails(
            format="gguf",
            parameter_count=meta.n_params,
            parameter_size=parameter_size(meta.n_params),
            quantization_level=(props.model_ftype or meta.ftype) or None,
            context_length=context,
            trained_context_length=meta.n_ctx_train,
            embedding_length=meta.n_embd,
            engine="llamacpp",
            slots=props.total_slots,
            model_path=props.model_path or None,
        ),
        template=props.chat_template,
        description=f"{served.id} on the llama.cpp server {endpoint}",
        tags=[ENGINE_TAG],
    )


def serving_fields(
    health: ServerHealth, props: ServerProps | None, slots: list[SlotState] | None
) -> dict[str, Any]:
    """What the inspector shows as the server's state: loading/ready, busy slots, context."""
    busy = sum(1 for slot in slots if slot.is_processing) if slots is not None else 0
    return {
        "loaded": health.ready and not (props.is_sleeping if props else False),
        "healthy": health.ready,
        "last_health_check": datetime.now(UTC),
        "concurrent_requests": busy,
        "context_length": props.context_per_slot if props else None,
        "last_error": "" if health.ready else f"loading: {health.detail}",
    }


class LlamaCppSync:
    """`/health` → `/props` → `/v1/models` → `/slots` → registry rows named `<endpoint>/<id>`."""

    def __init__(self, source: LlamaCppSource, repository: ModelRepository) -> None:
        self.source = source
        self.repository = repository

    async def run(self) -> SyncReport:
        from desktop_registry.services.sync.remote import apply_listing

        started = time.perf_counter()
        name = self.source.name
        report = SyncReport(source=f"{Source.OPENAI_COMPATIBLE.value}:{name}")
        health = await self.source.health()  # unreachable → raises; nothing is touched
        prefix = f"{name}/"
        known = {
            k: v
            for k, v in self.repository.known_models(Source.OPENAI_COMPATIBLE.value).items()
            if k.startswith(prefix)
        }
        if not health.ready:
            # Still loading its model: say so on the rows we have, list nothing as missing.
            for row in known.values():
                self.repository.set_serving_status(row.id, **serving_fields(health, None, None))
            report.unchanged = len(known)
            report.duration_s = time.perf_counter() - started
            return report
        props = await self.source.props()
        served = await self.source.served_models()
        slots = await self.source.slots()
        records = []
        for model in served:
            embeddings = await self.source.serves_embeddings(model.id)
            records.append(
                record_from_server(
                    name,
                    self.source.server_url,
                    model,
                    props,
                    embeddings=embeddings,
                    slots=slots,
                )
            )
        apply_listing(self.repository, records, known, report, source_label=report.source)
        stored = self.repository.known_models(Source.OPENAI_COMPATIBLE.value)
        for record in records:
            if record.name in stored:
                self.repository.set_serving_status(
                    stored[record.name].id, **serving_fields(health, props, slots)
                )
        counts: dict[str, int] = {}
        for record in records:
            counts[record.category.value] = counts.get(record.category.value, 0) + 1
        report.per_category = counts
        report.duration_s = time.perf_counter() - started
        return report


async def refresh_status(
    source: LlamaCppSource, repository: ModelRepository, record: ModelRecord
) -> list[tuple[str, str]]:
    """Read the server's state now (health, slots), store it, and return the inspector's rows."""
    health = await source.health()
    props = await source.props() if health.ready else None
    slots = await source.slots() if health.ready else None
    fields = serving_fields(health, props, slots)
    if record.id is not None:
        repository.set_serving_status(record.id, **fields)
    return server_facts(record, fields)
