"""Turns what goes wrong while reading an OpenAI-style reply body into the app's error, naming it.

A stall, a cut connection or a malformed event keeps what arrived; never lets an SDK or httpx
exception (or a raw JSON fragment) reach the user.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from desktop_registry.errors import StreamInterruptedError
from desktop_registry.sources.openai_json import ListingShapeError
from desktop_registry.sources.openai_replies import ReplyReportedError, SseReader
from desktop_registry.sources.openai_stream import StreamNormaliser


class NamedSource(Protocol):
    """What a message needs to know of the source it is about."""

    label: str
    name: str

    @property
    def timeout_s(self) -> float: ...

    def scrub(self, text: str) -> str: ...


def kept_note(normaliser: StreamNormaliser) -> str:
    return "The partial reply is kept." if normaliser.pieces else "Nothing of the reply had come."


def transport_errors(
    response: Any,
) -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(timeouts, other transport errors) of httpx and of the HTTP library the SDK brings
    (newer `openai` releases ship their own httpx fork, whose exceptions are not httpx's)."""
    import httpx

    http = sys.modules.get(type(response.http_response).__module__.split(".")[0], httpx)
    return (
        (httpx.TimeoutException, getattr(http, "TimeoutException", httpx.TimeoutException)),
        (httpx.HTTPError, getattr(http, "HTTPError", httpx.HTTPError)),
    )


def content_type(response: Any) -> str:
    return str(response.headers.get("content-type") or "").split(";")[0].strip().lower()


@contextmanager
def reading(
    source: NamedSource, what: str, normaliser: StreamNormaliser, reader: SseReader, response: Any
) -> Iterator[None]:
    """Reading a reply body: a stall, a cut or a bad event ends with what arrived kept."""
    timeouts, http_errors = transport_errors(response)
    try:
        yield
    except ReplyReportedError as exc:
        raise StreamInterruptedError(
            f"{source.name!r} {source.scrub(str(exc))} during {what}. {kept_note(normaliser)}",
            source=source.name,
        ) from None
    except ListingShapeError as exc:
        if normaliser.pieces:
            detail = f"{exc}. {kept_note(normaliser)}"
        else:
            shown = content_type(response) or "none"
            detail = f"{exc} (content type {shown}). Is the address right?"
        raise StreamInterruptedError(
            f"{source.label} {source.name!r} sent a reply to {what} that is not OpenAI's format: "
            f"{detail}",
            source=source.name,
        ) from None
    except timeouts:
        waited = f"{source.timeout_s:g} s"
        if reader.received:
            stalled = f"nothing more came for {waited} after {reader.received} bytes"
        else:
            stalled = f"its reply did not start within {waited}"
        raise StreamInterruptedError(
            f"{source.label} {source.name!r} stalled during {what}: {stalled}. "
            f"{kept_note(normaliser)} Try again, or raise the timeout in Settings.",
            source=source.name,
        ) from None
    except http_errors:
        raise StreamInterruptedError(
            f"The connection to {source.name!r} dropped during {what} after "
            f"{reader.received} bytes. {kept_note(normaliser)} Try again.",
            source=source.name,
        ) from None
