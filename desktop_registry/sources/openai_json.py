"""Reads what GitHub Models and OpenAI-compatible servers send for listings: bounded bytes to values.

Pure and total: whatever the bytes, it returns a value or raises SourceProtocolError saying what
was wrong. Never trusts a field's type, and never reads an unbounded body into memory.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel

from desktop_registry.domain.text import kind_of
from desktop_registry.errors import SourceProtocolError

# A real catalog or /v1/models listing is well under 1 MB; 16 MB leaves room and stops a
# server that sends without end from filling the memory.
MAX_LISTING_BYTES = 16 << 20


class ListingShapeError(SourceProtocolError):
    """A listing that is not shaped as the protocol shapes it; the message names the part.

    The adapter adds which server and which request (it knows them; these functions do not)."""


class RemoteModelInfo(BaseModel):
    """One `/v1/models` entry."""

    id: str
    owned_by: str = ""
    created: int | None = None


def is_text(value: Any) -> bool:
    """Text that can be stored and shown (a lone surrogate such as "\\ud800" cannot)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_bounded(
    chunks: AsyncIterator[bytes], limit: int = MAX_LISTING_BYTES, what: str = "a model list"
) -> bytes:
    """The whole body, or ListingShapeError once more than `limit` bytes have arrived."""
    parts: list[bytes] = []
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise ListingShapeError(
                f"the reply is larger than {limit >> 20} MB, far more than {what}; "
                "reading stopped there"
            )
        parts.append(chunk)
    return b"".join(parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes, what: str = "a model list") -> Any:
    """One JSON document; invalid UTF-8, bad syntax, NaN or absurd nesting are
    ListingShapeErrors, never UnicodeDecodeError or RecursionError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ListingShapeError(f"the reply is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # json's scanner guards its own depth; real listings nest 4 deep
        raise ListingShapeError(f"the reply nests too deep to be {what}") from None
    except ValueError as exc:
        raise ListingShapeError(f"the reply is not JSON ({exc})") from None


def parse_model_list(body: Any) -> tuple[list[RemoteModelInfo], int]:
    """The entries of a `/v1/models` body and how many were unusable (skipped).

    A body that is not `{"data": [...]}`, or whose every entry is unusable, is the server's
    error: it must never read as "this server has none of your models"."""
    if not isinstance(body, dict):
        raise ListingShapeError(f'the model list is {kind_of(body)}, not {{"data": [...]}}')
    data = body.get("data")
    if not isinstance(data, list):
        raise ListingShapeError(f"`data` is {kind_of(data)}, where a list of models belongs")
    models: list[RemoteModelInfo] = []
    for raw in data:
        if not isinstance(raw, dict) or not is_text(raw.get("id")) or not raw["id"].strip():
            continue
        owned_by = raw.get("owned_by")
        created = raw.get("created")
        models.append(
            RemoteModelInfo(
                id=raw["id"],
                owned_by=owned_by if is_text(owned_by) else "",
                created=created
                if isinstance(created, int) and not isinstance(created, bool) and created > 0
                else None,
            )
        )
    skipped = len(data) - len(models)
    if data and not models:
        raise ListingShapeError(
            f"none of the {len(data)} entries of the model list is a model with a text `id`"
        )
    return models, skipped
