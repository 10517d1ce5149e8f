"""The serving interface: chat, embed, status and health checks for any registered model.

Routes by `ModelRecord.source` to a backend; callers never care where a model runs.
Never swallows a failure: serving-status rows record it and the error propagates.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from desktop_registry.domain import ModelRecord, ModelStatus, Source
from desktop_registry.domain.chat import ChatChunk, ChatMessage, ChatUsage
from desktop_registry.domain.models import utcnow
from desktop_registry.domain.rate_limits import RateLimitSnapshot
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.events import EventHub, Topic
from desktop_registry.sources.openai_compatible import ModelUnavailableError
from desktop_registry.storage.repository import ModelRepository


class ChatBackend(Protocol):
    """What a source must offer to be served (OllamaSource, the remote adapters).

    `chat` is an async generator function: called without await, iterated with `async for`.
    `response_format` is OpenAI's shape (`{"type": "json_schema", "json_schema": {…}}` or
    `{"type": "json_object"}`); an adapter translates it for its own protocol.
    """

    def chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]: ...

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]: ...


@runtime_checkable
class RateLimitReporting(Protocol):
    """A remote backend that knows its request budget (GitHubModelsSource)."""

    def rate_limit(self, model: str | None = None) -> RateLimitSnapshot | None: ...


class ServingService:
    """One front door for inference; `backends` maps a source to the adapter that serves it.

    OpenAI-compatible endpoints register one backend each, keyed by (source, endpoint name).
    """

    def __init__(
        self,
        repository: ModelRepository,
        backends: Mapping[Source, ChatBackend],
        events: EventHub | None = None,
    ) -> None:
        self.repository = repository
        self.events = events  # told when a model has served (it may be loaded in memory now)
        self.backends = dict(backends)
        self.provider_backends: dict[tuple[Source, str], ChatBackend] = {}
        self._in_flight: dict[int, int] = {}

    def register_backend(self, source: Source, backend: ChatBackend, provider: str = "") -> None:
        if provider:
            self.provider_backends[(source, provider)] = backend
        else:
            self.backends[source] = backend

    def backend_for(self, record: ModelRecord) -> ChatBackend:
        backend = self.provider_backends.get((record.source, record.provider)) or self.backends.get(
            record.source
        )
        if backend is None:
            where = f"{record.source.value}" + (f" ({record.provider})" if record.provider else "")
            raise UserInputError(
                f"{record.name} comes from {where}, which is not set up for serving here. "
                "Check Settings."
            )
        return backend

    def resolve(self, model: ModelRecord | str) -> ModelRecord:
        return model if isinstance(model, ModelRecord) else self.repository.resolve(model)

    def rate_limit(
        self, source: Source = Source.GITHUB_MODELS, model: str | None = None
    ) -> RateLimitSnapshot | None:
        """Requests left, the limit and its reset for `source`'s model (default: the last one
        called); None before any request was answered, or where the source reports no limits."""
        backend = self.backends.get(source)
        if isinstance(backend, RateLimitReporting):
            return backend.rate_limit(model)
        return None

    @staticmethod
    def served_name(record: ModelRecord) -> str:
        """The name the backend knows the model by."""
        if record.source is Source.OPENAI_COMPATIBLE and record.provider:
            prefix = f"{record.provider}/"
            if record.name.startswith(prefix):
                return record.name[len(prefix) :]
        return record.ollama_name or record.github_models_id or record.name

    async def chat(
        self,
        model: ModelRecord | str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        stream: bool = True,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a reply. The caller keeps what arrived if the stream breaks.

        stream=False asks a backend that can (OpenAI-compatible servers) for one whole reply;
        the chunks are the same, the reply just arrives at once.

        The last chunk has done=True and usage with tokens in/out, TTFT and tokens/s, whatever
        the source: figures a backend does not give are filled from this call's own timing.
        `response_format` (OpenAI's shape) asks for JSON output; see ChatBackend.
        """
        started = time.perf_counter()
        record = self.resolve(model)
        backend = self.backend_for(record)
        merged_options = {**_generation_options(record.parameters), **dict(options or {})}
        extra: dict[str, Any] = {}
        if response_format is not None:
            extra["response_format"] = response_format
        self._begin(record)
        failed: RegistryError | None = None
        first_at: float | None = None
        pieces = 0
        try:
            single = getattr(backend, "reply", None) if not stream else None
            if single is not None:
                chunks: AsyncIterator[ChatChunk] = _each(
                    await single(
                        self.served_name(record),
                        list(messages),
                        options=merged_options or None,
                        tools=tools,
                        **extra,
                    )
                )
            else:
                chunks = backend.chat(
                    self.served_name(record),
                    list(messages),
                    options=merged_options or None,
                    think=think,
                    tools=tools,
                    **extra,
                )
            async for chunk in chunks:
                if chunk.done:
                    chunk = _complete_usage(chunk, started, first_at, pieces)
                elif chunk.content or chunk.thinking or chunk.tool_calls:
                    pieces += 1
                    if first_at is None:
                        first_at = time.perf_counter()
                yield chunk
        except RegistryError as exc:
            failed = exc
            raise
        finally:
            self._end(record, failed)

    async def embed(
        self, model: ModelRecord | str, inputs: str | Sequence[str]
    ) -> list[list[float]]:
        record = self.resolve(model)
        backend = self.backend_for(record)
        self._begin(record)
        failed: RegistryError | None = None
        try:
            return await backend.embed(self.served_name(record), inputs)
        except RegistryError as exc:
            failed = exc
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
        """Models with requests in flight right now, with their name and source."""
        out = []
        for model_id, count in self._in_flight.items():
            if count:
                record = self.repository.get(model_id)
                out.append(
                    {
                        "model_id": model_id,
                        "name": record.name,
                        "source": record.source.value,
                        "provider": record.provider,
                        "in_flight": count,
                    }
                )
        return out

    # ----- bookkeeping ---------------------------------------------------------------
    def _begin(self, record: ModelRecord) -> None:
        if record.id is None:
            return
        self._in_flight[record.id] = self._in_flight.get(record.id, 0) + 1

    def _end(self, record: ModelRecord, error: RegistryError | None) -> None:
        if record.id is None:
            return
        self._in_flight[record.id] = max(0, self._in_flight.get(record.id, 1) - 1)
        current = self.repository.serving_status(record.id) or {}
        fields: dict[str, Any] = {
            "total_requests": int(current.get("total_requests") or 0) + 1,
            "concurrent_requests": self._in_flight[record.id],
        }
        if error is not None:
            fields["failed_requests"] = int(current.get("failed_requests") or 0) + 1
            fields["last_error"] = str(error)
        self.repository.set_serving_status(record.id, **fields)
        if self.events is not None:
            self.events.publish(Topic.MODEL_SERVED, record.id)
        # Listed is not callable: a remote model becomes available once it has answered,
        # and unavailable when its source refuses this account.
        if error is None and record.status is ModelStatus.LISTED:
            self.repository.update(record.id, status=ModelStatus.AVAILABLE)
        elif isinstance(error, ModelUnavailableError) and record.status in (
            ModelStatus.LISTED,
            ModelStatus.AVAILABLE,
        ):
            self.repository.update(record.id, status=ModelStatus.UNAVAILABLE)

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


def _complete_usage(
    chunk: ChatChunk, started: float, first_at: float | None, pieces: int
) -> ChatChunk:
    """Fill the timing a backend left out, from what the service itself saw."""
    usage = chunk.usage or ChatUsage()
    now = time.perf_counter()
    if first_at is None and (chunk.content or chunk.thinking or chunk.tool_calls):
        first_at = now
    changes: dict[str, Any] = {}
    if usage.ttft_s is None and first_at is not None:
        changes["ttft_s"] = first_at - started
    if usage.wall_s is None:
        changes["wall_s"] = now - started
    if usage.tokens_per_s is None and first_at is not None and now > first_at:
        count = usage.completion_tokens or pieces
        if count:
            changes["tokens_per_s"] = count / (now - first_at)
    if not changes and chunk.usage is not None:
        return chunk
    return chunk.model_copy(update={"usage": usage.model_copy(update=changes)})


async def _each(chunks: Sequence[ChatChunk]) -> AsyncIterator[ChatChunk]:
    for chunk in chunks:
        yield chunk
