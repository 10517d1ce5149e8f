"""The serving interface: chat, embed, status and health checks for any registered model.

Routes by `ModelRecord.source` to a backend; callers never care where a model runs.
Never swallows a failure: serving-status rows record it and the error propagates.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from desktop_registry.domain import ModelRecord, Source
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.domain.models import utcnow
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.storage.repository import ModelRepository


class ChatBackend(Protocol):
    """What a source must offer to be served (OllamaSource, the remote adapters).

    `chat` is an async generator function: called without await, iterated with `async for`.
    """

    def chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[ChatChunk]: ...

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]: ...


class ServingService:
    """One front door for inference; `backends` maps a source to the adapter that serves it."""

    def __init__(self, repository: ModelRepository, backends: Mapping[Source, ChatBackend]) -> None:
        self.repository = repository
        self.backends = dict(backends)
        self._in_flight: dict[int, int] = {}

    def register_backend(self, source: Source, backend: ChatBackend) -> None:
        self.backends[source] = backend

    def backend_for(self, record: ModelRecord) -> ChatBackend:
        backend = self.backends.get(record.source)
        if backend is None:
            raise UserInputError(
                f"{record.name} comes from {record.source.value}, which is not set up for "
                "serving here. Check Settings."
            )
        return backend

    def resolve(self, model: ModelRecord | str) -> ModelRecord:
        return model if isinstance(model, ModelRecord) else self.repository.resolve(model)

    @staticmethod
    def served_name(record: ModelRecord) -> str:
        """The name the backend knows the model by."""
        return record.ollama_name or record.github_models_id or record.name

    async def chat(
        self,
        model: ModelRecord | str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a reply. The caller keeps what arrived if the stream breaks."""
        record = self.resolve(model)
        backend = self.backend_for(record)
        merged_options = {**_generation_options(record.parameters), **dict(options or {})}
        self._begin(record)
        failed: str = ""
        try:
            stream = backend.chat(
                self.served_name(record),
                list(messages),
                options=merged_options or None,
                think=think,
                tools=tools,
            )
            async for chunk in stream:
                yield chunk
        except RegistryError as exc:
            failed = str(exc)
            raise
        finally:
            self._end(record, failed)

    async def embed(
        self, model: ModelRecord | str, inputs: str | Sequence[str]
    ) -> list[list[float]]:
        record = self.resolve(model)
        backend = self.backend_for(record)
        self._begin(record)
        failed = ""
        try:
            return await backend.embed(self.served_name(record), inputs)
        except RegistryError as exc:
            failed = str(exc)
            raise
        finally:
            self._end(record, failed)

    async def health_check(self, model: ModelRecord | str) -> bool:
        """A one-token chat (or one embedding) to see whether the model answers at all."""
        record = self.resolve(model)
        started = time.perf_counter()
        try:
            if "embedding" in record.capabilities and "completion" not in record.capabilities:
                await self.embed(record, "ping")
            else:
                async for _ in self.chat(
                    record, [ChatMessage(role="user", content="ping")], options={"num_predict": 1}
                ):
                    pass
        except RegistryError as exc:
            self._record_health(record, ok=False, error=str(exc))
            return False
        self._record_health(record, ok=True, error="", latency_s=time.perf_counter() - started)
        return True

    def status(self, model: ModelRecord | str) -> dict[str, Any]:
        record = self.resolve(model)
        assert record.id is not None
        status = self.repository.serving_status(record.id) or {}
        return {**status, "in_flight": self._in_flight.get(record.id, 0)}

    def list_serving(self) -> list[dict[str, Any]]:
        """Models with requests in flight right now."""
        out = []
        for model_id, count in self._in_flight.items():
            if count:
                out.append({"model_id": model_id, "in_flight": count})
        return out

    # ----- bookkeeping ---------------------------------------------------------------
    def _begin(self, record: ModelRecord) -> None:
        if record.id is None:
            return
        self._in_flight[record.id] = self._in_flight.get(record.id, 0) + 1

    def _end(self, record: ModelRecord, error: str) -> None:
        if record.id is None:
            return
        self._in_flight[record.id] = max(0, self._in_flight.get(record.id, 1) - 1)
        current = self.repository.serving_status(record.id) or {}
        fields: dict[str, Any] = {
            "total_requests": int(current.get("total_requests") or 0) + 1,
            "concurrent_requests": self._in_flight[record.id],
        }
        if error:
            fields["failed_requests"] = int(current.get("failed_requests") or 0) + 1
            fields["last_error"] = error
        self.repository.set_serving_status(record.id, **fields)

    def _record_health(
        self, record: ModelRecord, *, ok: bool, error: str, latency_s: float | None = None
    ) -> None:
        if record.id is None:
            return
        self.repository.set_serving_status(
            record.id, healthy=ok, last_health_check=utcnow(), last_error=error
        )


# Generation options a model's own `parameters` may carry (Ollama names); the rest is recipe.
GENERATION_OPTIONS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "repeat_penalty",
        "repeat_last_n",
        "num_ctx",
        "num_predict",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
    }
)


def _generation_options(parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in parameters.items() if k in GENERATION_OPTIONS}
