"""Reads what an Ollama server sends: JSON bytes to values, and one typed field at a time.

Pure and total: whatever the bytes, it returns a value or raises SourceProtocolError saying
which part was wrong. Never trusts a field's type (a hostile server can send anything).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from desktop_registry.domain.text import kind_of
from desktop_registry.errors import SourceProtocolError

_INT64 = 1 << 63


class ReplyShapeError(SourceProtocolError):
    """A reply that parsed but is not shaped as Ollama shapes it; the message names the field.

    The adapter adds which server and which request (it knows them; these functions do not)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes) -> Any:
    """One JSON document; invalid UTF-8, bad syntax, NaN or absurd nesting (JSON 100,000 deep)
    are ReplyShapeErrors, never UnicodeDecodeError or RecursionError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReplyShapeError(f"the reply is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # json's scanner guards its own depth; real replies nest 4 deep
        raise ReplyShapeError("the reply nests too deep to be Ollama's") from None
    except ValueError as exc:
        raise ReplyShapeError(f"the reply is not JSON ({exc})") from None


def ndjson_lines(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete non-blank lines of an NDJSON buffer, and the incomplete rest.

    Blank lines (and CRLF endings) are skipped: proxies and some servers send them."""
    *lines, rest = buffer.split(b"\n")
    return [line for line in lines if line.strip()], rest


# ----- fields ------------------------------------------------------------------------------


def _wrong(where: str, value: Any, wanted: str) -> ReplyShapeError:
    return ReplyShapeError(f"`{where}` is {kind_of(value)}, where Ollama sends {wanted}")


def valid_text(value: str, where: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") cannot be stored or shown
        raise ReplyShapeError(f"`{where}` is not valid Unicode text") from None
    return value


def obj(value: Any, where: str) -> Mapping[str, Any]:
    """An object, or {} for null/missing."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise _wrong(where, value, "an object")


def document(value: Any, what: str) -> Mapping[str, Any]:
    """A whole reply that must be an object (null is not one)."""
    if isinstance(value, dict):
        return value
    raise ReplyShapeError(f"{what} is {kind_of(value)}, not an object")


def obj_field(parent: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    return obj(parent.get(key), f"{where}{key}")


def text_field(parent: Mapping[str, Any], key: str, where: str = "") -> str:
    """Text, or "" for null/missing."""
    value = parent.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return valid_text(value, f"{where}{key}")
    raise _wrong(f"{where}{key}", value, "text")


def optional_text(parent: Mapping[str, Any], key: str, where: str = "") -> str | None:
    return text_field(parent, key, where) or None


def text_list_field(parent: Mapping[str, Any], key: str, where: str = "") -> list[str] | None:
    """A list of texts, or None for null/missing (so "not reported" stays distinguishable)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise _wrong(f"{where}{key}", value, "a list of texts")
    for item in value:
        if not isinstance(item, str):
            raise ReplyShapeError(f"`{where}{key}` holds {kind_of(item)}, where Ollama sends text")
        valid_text(item, f"{where}{key}")
    return list(value)


def int_field(parent: Mapping[str, Any], key: str, where: str = "") -> int | None:
    """A whole number that fits in the registry (64-bit), or None for null/missing."""
    value = parent.get(key)
    if value is None:
        return None
    number = as_int(value)
    if number is None:
        raise _wrong(f"{where}{key}", value, "a number that fits in 64 bits")
    return number


def bool_field(parent: Mapping[str, Any], key: str, where: str = "") -> bool:
    value = parent.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise _wrong(f"{where}{key}", value, "true or false")


def as_int(value: Any) -> int | None:
    """A number as an int (floats truncated); None for anything else, non-finite or too big."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = int(value)
    return number if -_INT64 <= number < _INT64 else None


def entries(value: Any, where: str) -> Iterator[tuple[int, Any]]:
    """(1-based position, item) of a list field."""
    if not isinstance(value, list):
        raise _wrong(where, value, "a list")
    yield from enumerate(value, start=1)
