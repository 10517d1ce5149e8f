"""How every command prints: JSON for scripts, aligned tables for people.

Writes to stdout only; never prints a secret (callers pass what they mean to show).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, TextIO, TypeVar

from desktop_registry.domain.text import shown_safely
from desktop_registry.errors import UserInputError

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's server work to the end; asyncio is imported by the commands that need it."""
    import asyncio

    return asyncio.run(coro)


def print_json(data: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def print_table(
    rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    rows = [[shown_safely(cell) for cell in row] for row in rows]  # a server's names, escaped
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def json_or_text(text: str) -> Any:
    """A command-line value: JSON where it parses (0.2, true, [1]), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def key_value_pairs(items: list[str] | None, flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"{flag} {item!r}: expected KEY=VALUE")
        out.append((key.strip(), value))
    return out
