"""Any OpenAI-compatible server (LM Studio, llama.cpp, vLLM, Ollama's /v1) through the `openai` SDK.

Never leaks SDK exceptions or raw JSON upward, and never puts an API key in a message.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import openai

from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    RegistryError,
    SourceError,
    SourceProtocolError,
    SourceUnreachableError,
    StreamInterruptedError,
    UserInputError,
)
from desktop_registry.sources.openai_json import (
    ListingShapeError,
    decode_json,
    parse_model_list,
    read_bounded,
)
from desktop_registry.sources.openai_json import (
    RemoteModelInfo as RemoteModelInfo,  # the listing's type, imported from here by services
)
from desktop_registry.sources.openai_reading import content_type, kept_note, reading
from desktop_registry.sources.openai_replies import (
    MAX_REPLY_BYTES,
    SseReader,
    parse_chunk,
    parse_embeddings,
)
from desktop_registry.sources.openai_stream import (
    StreamNormaliser,
    estimate_tokens,
    message_dict,
    request_options,
)
from desktop_registry.sources.request_gate import (
    OpenGate,
    PermitLike,
)
from desktop_registry.sources.request_gate import (
    RequestGate as RequestGate,
)

SecretProvider = Callable[[], str | None]


class ModelUnavailableError(NotFoundError):
    """The server lists the model but will not serve it to this account."""


def openai_sdk() -> Any:
    """The openai SDK, imported on first use: it takes half a second, and a chat with a
    local model (or the window opening) must not pay for it."""
    import openai as sdk

    return sdk


def _detail(exc: openai.APIStatusError) -> tuple[str, str]:
    """(code, message) from an OpenAI-style error body."""
    body = exc.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]
    if isinstance(body, Mapping):
        return str(body.get("code") or ""), str(body.get("message") or body.get("details") or "")
    message = str(exc.message or "")
    if message.startswith("Error code:"):  # the SDK's stand-in for a body that was not JSON
        try:
            message = f"{exc.status_code} {HTTPStatus(exc.status_code).phrase}, no details"
        except ValueError:
            message = f"status {exc.status_code}, no details"
    return "", message


class OpenAICompatibleSource:
    """One configured server; `name` is the user's name for it and prefixes its models."""

    label = "OpenAI-compatible server"

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        api_key: SecretProvider | None = None,
        gate: RequestGate | None = None,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key or (lambda: None)
        self.gate: RequestGate = gate or OpenGate()
        self._timeouts = (timeout_s, connect_timeout_s)
        self._client: openai.AsyncOpenAI | None = None
        self._client_key: str | None = None
        self._retired: list[openai.AsyncOpenAI] = []

    # ----- the SDK client ------------------------------------------------------------------
    def _secret(self) -> str | None:
        return self._api_key()

    def client(self) -> openai.AsyncOpenAI:
        """The SDK client for the current key (a new key builds a new client)."""
        key = self._secret()
        if self._client is None or key != self._client_key:
            if self._client is not None:
                self._retired.append(self._client)
            sdk = openai_sdk()
            # max_retries=0: our gate decides when to retry, so limits are never hit twice.
            self._client = sdk.AsyncOpenAI(
                base_url=self.base_url,
                api_key=key or "not-needed",
                max_retries=0,
                timeout=sdk.Timeout(self._timeouts[0], connect=self._timeouts[1]),
            )
            self._client_key = key
        return self._client

    async def aclose(self) -> None:
        for client in [*self._retired, *([self._client] if self._client else [])]:
            await client.close()
        self._retired.clear()
        self._client = None

    @property
    def timeout_s(self) -> float:
        return self._timeouts[0]

    def key_for(self, model: str) -> tuple[str, str | None]:
        """The rate-limit key and tier of a model."""
        return f"{self.name}/{model}", None

    def scrub(self, text: str) -> str:
        secret = self._secret()
        return text.replace(secret, "***") if secret else text

    # ----- error translation -------------------------------------------------------------
    def unreachable_message(self) -> str:
        return (
            f"{self.label} {self.name!r} is not answering at {self.base_url}. Start it, or "
            "check its address in Settings."
        )

    def status_error(self, exc: openai.APIStatusError, model: str, what: str) -> RegistryError:
        _code, message = _detail(exc)
        message = self.scrub(message) or f"status {exc.status_code}"
        status = exc.status_code
        if status in (401, 403):
            return AuthenticationError(
                f"{self.label} {self.name!r} rejected the API key ({message}). "
                "Update the key for this endpoint in Settings.",
                status=status,
                source=self.name,
            )
        if status == 404:
            return NotFoundError(f"{self.label} {self.name!r} has no model {model!r} ({message}).")
        if status == 429:
            return self.rate_limit_error(exc, message)
        if status in (400, 413, 422):
            return UserInputError(f"{self.label} {self.name!r} refused {what}: {message}")
        return SourceError(
            f"{self.label} {self.name!r} answered {status} to {what}: {message}",
            status=status,
            source=self.name,
        )

    def rate_limit_error(self, exc: openai.APIStatusError, message: str) -> RegistryError:
        retry = exc.response.headers.get("retry-after")
        try:
            wait = float(retry) if retry else None
        except ValueError:
            wait = None
        return RateLimitedError(
            f"{self.label} {self.name!r} asked us to slow down: {message}",
            retry_after_s=wait,
            source=self.name,
        )

    def not_openai(self, what: str, detail: str) -> SourceProtocolError:
        return SourceProtocolError(
            f"{self.label} {self.name!r} sent a reply to {what} that is not OpenAI's format: "
            f"{detail}. Is the address right?",
            source=self.name,
        )

    @contextmanager
    def errors(self, what: str, model: str = "", *, streaming: bool = False) -> Iterator[None]:
        openai = openai_sdk()
        try:
            yield
        except RegistryError:
            raise
        except openai.APITimeoutError as exc:
            raise SourceError(
                f"{self.label} {self.name!r} did not answer {what} in time. Try again, or raise "
                "the timeout in Settings.",
                source=self.name,
            ) from exc
        except openai.APIConnectionError:
            if streaming:
                raise StreamInterruptedError(
                    f"The connection to {self.name!r} dropped during {what}. Whatever had "
                    "arrived is kept; try again.",
                    source=self.name,
                ) from None
            raise SourceUnreachableError(self.unreachable_message(), source=self.name) from None
        except openai.APIStatusError as exc:
            raise self.status_error(exc, model, what) from None
        except openai.APIError as exc:  # an error object inside a stream that had begun
            raise StreamInterruptedError(
                f"{self.name!r} reported an error during {what}: {self.scrub(str(exc.message))}. "
                "Whatever had arrived is kept.",
                source=self.name,
            ) from None
        except (json.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
            raise SourceProtocolError(
                f"{self.label} {self.name!r} sent a reply to {what} that is not OpenAI's format "
                f"({type(exc).__name__}). Is the address right?",
                source=self.name,
            ) from None

    # ----- listing -----------------------------------------------------------------------
    async def list_models(self) -> list[RemoteModelInfo]:
        """Every model the server lists; a reply that is not a model list is its error."""
        what = "listing models"
        with self.errors(what):
            async with self.client().models.with_streaming_response.list() as response:
                try:
                    data = await read_bounded(response.iter_bytes())
                    models, _skipped = parse_model_list(decode_json(data))
                except ListingShapeError as exc:
                    raise self.not_openai(what, str(exc)) from None
        return models

    # ----- inference ---------------------------------------------------------------------
    def request_fields(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """The request fields for the app's generation options (a server kind may add its own)."""
        return request_options(options)

    def prepare(self, model: str) -> None:
        """Raise before any request when the model cannot be called (e.g. no token)."""

    async def chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a reply; the last chunk has done=True with usage, TTFT and tokens/s.

        `response_format` is sent as is (`json_schema` / `json_object`, OpenAI's shape).
        """
        started = time.perf_counter()
        self.prepare(model)
        what = f"a chat with {model}"
        request: dict[str, Any] = {
            "model": model,
            "messages": [message_dict(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.request_fields(options),
        }
        if tools:
            request["tools"] = [dict(t) for t in tools]
        if response_format:
            request["response_format"] = dict(response_format)
        client = self.client()

        async def attempt(permit: PermitLike) -> Any:
            with self.errors(what, model):
                response = await client.chat.completions.with_streaming_response.create(
                    **request
                ).__aenter__()
            permit.settle(response.headers)
            return response

        key, tier = self.key_for(model)
        granted = await self.gate.run(
            key,
            tier,
            attempt,
            tokens=estimate_tokens(messages),
            output_tokens=int(request.get("max_tokens") or 0),
        )
        response = granted.value
        normaliser = StreamNormaliser(started)
        reader = SseReader()
        try:
            with reading(self, what, normaliser, reader, response):
                if content_type(response) == "application/json":
                    # A server that ignores `stream: true` answers one whole completion.
                    body = decode_json(
                        await read_bounded(response.iter_bytes(), MAX_REPLY_BYTES, "a chat reply"),
                        "a chat reply",
                    )
                    chunk = normaliser.feed(parse_chunk(body, whole=True))
                    if chunk is not None:
                        yield chunk
                else:
                    async for payload in reader.payloads(response.iter_bytes()):
                        chunk = normaliser.feed(parse_chunk(payload))
                        if chunk is not None:
                            yield chunk
        finally:
            granted.permit.release()
            await response.close()
        if not normaliser.finished and normaliser.completion_tokens is None:
            if not reader.events:
                raise self.not_openai(
                    what,
                    f"no chat stream came (content type {content_type(response) or 'none'}, "
                    f"{reader.received} bytes)",
                )
            raise StreamInterruptedError(
                f"{self.name!r} stopped replying before {model} finished. {kept_note(normaliser)}",
                source=self.name,
            )
        yield normaliser.finish()

    async def reply(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> list[ChatChunk]:
        """One non-streamed reply (`stream: false`), as the chunks `chat` would have yielded."""
        started = time.perf_counter()
        self.prepare(model)
        what = f"a non-streamed chat with {model}"
        request: dict[str, Any] = {
            "model": model,
            "messages": [message_dict(m) for m in messages],
            **self.request_fields(options),
        }
        if tools:
            request["tools"] = [dict(t) for t in tools]
        if response_format:
            request["response_format"] = dict(response_format)
        client = self.client()

        async def attempt(permit: PermitLike) -> Any:
            with self.errors(what, model):
                response = await client.chat.completions.with_streaming_response.create(
                    **request
                ).__aenter__()
            permit.settle(response.headers)
            return response

        key, tier = self.key_for(model)
        granted = await self.gate.run(
            key,
            tier,
            attempt,
            tokens=estimate_tokens(messages),
            output_tokens=int(request.get("max_tokens") or 0),
        )
        granted.permit.release()
        normaliser = StreamNormaliser(started)
        response = granted.value
        try:
            with reading(self, what, normaliser, SseReader(), response):
                body = decode_json(
                    await read_bounded(response.iter_bytes(), MAX_REPLY_BYTES, "a chat reply"),
                    "a chat reply",
                )
                chunk = normaliser.feed(parse_chunk(body, whole=True))
        finally:
            await response.close()
        last = normaliser.finish()
        if last.usage is not None:
            # Everything arrived at once: no first-token time to tell, and the rate is over the
            # whole request (the stream's rate formula would divide by a zero-length span).
            wall = last.usage.wall_s or 0.0
            tokens = last.usage.completion_tokens
            rate = tokens / wall if tokens and wall > 0 else None
            last = last.model_copy(
                update={
                    "usage": last.usage.model_copy(update={"ttft_s": None, "tokens_per_s": rate})
                }
            )
        return [*([chunk] if chunk is not None else []), last]

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]:
        self.prepare(model)
        what = f"embedding with {model}"
        client = self.client()
        batch = [inputs] if isinstance(inputs, str) else list(inputs)

        async def attempt(permit: PermitLike) -> Any:
            with self.errors(what, model):
                response = await client.embeddings.with_streaming_response.create(
                    model=model, input=batch, encoding_format="float"
                ).__aenter__()
            permit.settle(response.headers)
            return response

        key, tier = self.key_for(model)
        granted = await self.gate.run(
            key, tier, attempt, tokens=sum(len(text) for text in batch) // 4
        )
        granted.permit.release()
        response = granted.value
        try:
            with reading(self, what, StreamNormaliser(0.0), SseReader(), response):
                data = await read_bounded(response.iter_bytes(), MAX_REPLY_BYTES, "embeddings")
                return parse_embeddings(decode_json(data, "embeddings"), len(batch))
        finally:
            await response.close()
