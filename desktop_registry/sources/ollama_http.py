"""One Ollama server's HTTP: reads every reply's bytes itself and turns every failure into a
desktop_registry error (unreachable, busy, stalled, refused, not Ollama's reply).

Never parses a reply into domain types (ollama_records/ollama_replies do); never raises
anything but RegistryError subclasses from `errors()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import httpx
import ollama
import pydantic

from desktop_registry.errors import (
    NotFoundError,
    RegistryError,
    SourceError,
    SourceProtocolError,
    SourceUnreachableError,
    StreamInterruptedError,
    UserInputError,
)
from desktop_registry.sources.ollama_json import ReplyShapeError, decode_json, ndjson_lines
from desktop_registry.sources.ollama_replies import error_text

SOURCE = "ollama"
BIG_BODY_BYTES = 1 << 20  # bodies above this are decoded in a worker thread, off the event loop


class OllamaHttp:
    """The requests of one OllamaSource: whole bodies, NDJSON streams, and error translation."""

    def __init__(
        self, base_url: str, *, timeout_s: float, connect_timeout_s: float, max_connections: int
    ) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._answered = False  # has this server answered anything yet (then it is running)
        # The official client builds the httpx client (host parsing, headers, OLLAMA_API_KEY).
        self.client: httpx.AsyncClient = ollama.AsyncClient(
            host=base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )._client

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def unreachable_message(self) -> str:
        return (
            f"Ollama is not running at {self.base_url} — start it with `ollama serve` "
            "or change the URL in Settings (or OLLAMA_HOST)."
        )

    def not_ollama(self, what: str, detail: str) -> str:
        return (
            f"Ollama at {self.base_url} sent a reply to {what} that is not what Ollama sends: "
            f"{detail}. Is something else listening on that address?"
        )

    @contextmanager
    def errors(self, what: str, model: str = "") -> Iterator[None]:
        try:
            yield
        except ReplyShapeError as exc:
            raise SourceProtocolError(self.not_ollama(what, str(exc)), source=SOURCE) from None
        except RegistryError:
            raise
        except httpx.ConnectTimeout as exc:
            if not self._answered:
                raise SourceUnreachableError(self.unreachable_message, source=SOURCE) from exc
            # It answered earlier in this session: it is running, just not keeping up.
            raise SourceError(
                f"Ollama at {self.base_url} is running but did not accept a connection for "
                f"{what} within {self.connect_timeout_s:g} s — it is busy. Try again, or lower "
                "the sync concurrency in Settings.",
                source=SOURCE,
            ) from exc
        except (ConnectionError, httpx.ConnectError) as exc:
            raise SourceUnreachableError(self.unreachable_message, source=SOURCE) from exc
        except ollama.ResponseError as exc:
            raise self._response_error(exc.status_code, str(exc.error), what, model) from None
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"Ollama at {self.base_url} did not answer {what} in time. The model may still "
                "be loading; try again, or raise the timeout in Settings.",
                source=SOURCE,
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise StreamInterruptedError(
                f"The connection to Ollama at {self.base_url} dropped during {what}. "
                "Whatever had arrived is kept; try again.",
                source=SOURCE,
            ) from exc
        except (ValueError, RecursionError, pydantic.ValidationError, KeyError, TypeError) as exc:
            raise SourceProtocolError(
                self.not_ollama(what, f"it could not be read ({type(exc).__name__})"),
                source=SOURCE,
            ) from exc

    def _response_error(self, status: int, detail: str, what: str, model: str) -> RegistryError:
        detail = detail.strip() or f"status {status}"
        if status == 404 and model:
            return NotFoundError(
                f"Ollama has no model {model!r} ({detail}). Pull it first: `ollama pull {model}`."
            )
        if status == 400:
            return UserInputError(f"Ollama refused {what}: {detail}")
        if status in (-1, None):
            return SourceError(f"Ollama reported an error during {what}: {detail}", source=SOURCE)
        return SourceError(
            f"Ollama at {self.base_url} answered {status} to {what}: {detail}",
            status=status,
            source=SOURCE,
        )

    async def _status_error(self, response: httpx.Response, what: str, model: str) -> RegistryError:
        """An error status, with Ollama's `{"error": ...}` text or the start of whatever came."""
        body = await response.aread()
        try:
            detail = error_text(decode_json(body))
        except ReplyShapeError:
            detail = ""
        if not detail:
            detail = body[:300].decode("utf-8", "replace").strip()
        return self._response_error(response.status_code, detail[:500], what, model)

    def _stalled(self, what: str, received: int, expected: int | None) -> SourceError:
        of = f" of {expected / 1e6:.1f} MB" if expected else ""
        return SourceError(
            f"Ollama at {self.base_url} started its reply to {what} but stalled: "
            f"{received / 1e6:.1f} MB{of} arrived, then nothing for {self.timeout_s:g} s. "
            "A busy server sends large replies slowly; try again, or raise the timeout in "
            "Settings.",
            source=SOURCE,
        )

    async def body(
        self, method: str, path: str, what: str, model: str = "", json: Any = None
    ) -> bytes:
        """The whole body of a successful reply, read here so a stall can say what arrived."""
        received = 0
        expected: int | None = None
        chunks: list[bytes] = []
        with self.errors(what, model):
            try:
                async with self.client.stream(method, path, json=json) as response:
                    self._answered = True
                    if response.is_error:
                        raise await self._status_error(response, what, model)
                    length = response.headers.get("content-length", "")
                    expected = int(length) if length.isdigit() else None
                    async with _chunks(response) as body_chunks:
                        async for chunk in body_chunks:
                            chunks.append(chunk)
                            received += len(chunk)
            except httpx.ReadTimeout as exc:
                if received:
                    raise self._stalled(what, received, expected) from exc
                raise
        return b"".join(chunks)

    async def json(
        self, method: str, path: str, what: str, model: str = "", json: Any = None
    ) -> Any:
        data = await self.body(method, path, what, model, json=json)
        with self.errors(what, model):
            if len(data) > BIG_BODY_BYTES:  # a 40 MB /api/show must not stall the window
                return await asyncio.to_thread(decode_json, data)
            return decode_json(data)

    async def lines(
        self, path: str, request: Mapping[str, Any], what: str, model: str = ""
    ) -> AsyncIterator[Any]:
        """The objects of an NDJSON stream; blank lines skipped, `{"error": …}` raised."""
        with self.errors(what, model):
            async with self.client.stream("POST", path, json=dict(request)) as response:
                self._answered = True
                if response.is_error:
                    raise await self._status_error(response, what, model)
                pending: list[bytes] = []
                failure: RegistryError | None = None
                drained = 0
                async with _chunks(response) as chunks:
                    async for chunk in chunks:
                        if failure is not None:
                            # Read on to the end (Ollama ends the stream after an error line):
                            # breaking off leaves httpcore's iterator to the garbage collector,
                            # which complains on stderr. A server that goes on and on is cut.
                            drained += len(chunk)
                            if drained > DRAIN_AFTER_ERROR_BYTES:
                                break
                            continue
                        if b"\n" not in chunk:
                            pending.append(chunk)
                            continue
                        lines, rest = ndjson_lines(b"".join([*pending, chunk]))
                        pending = [rest]
                        for line in lines:
                            try:
                                value = self._stream_value(line, what)
                            except RegistryError as exc:
                                failure = exc
                                break
                            yield value
                if failure is not None:
                    raise failure
                tail = b"".join(pending)
                if tail.strip():
                    yield self._stream_value(tail, what)

    def _stream_value(self, line: bytes, what: str) -> Any:
        value = decode_json(line)
        error = error_text(value)
        if error:
            raise SourceError(f"Ollama reported an error during {what}: {error}", source=SOURCE)
        return value


DRAIN_AFTER_ERROR_BYTES = 1 << 20


def _chunks(response: httpx.Response) -> contextlib.aclosing[AsyncGenerator[bytes, None]]:
    """The body's chunks, closed when the reader stops early (an error line, a bad value), in
    this task: left to the garbage collector, httpcore's stream complains on stderr."""
    return contextlib.aclosing(cast(AsyncGenerator[bytes, None], response.aiter_bytes()))
