"""Text from a server, shown safely: control characters and bidi overrides become visible escapes.

A model name like "\\x1b[31mllama" or "llama\\u202egpj.exe" must not recolour a terminal or
reverse what a person reads; the name itself is kept as the server sent it (a pure function).
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, and the invisible marks that reorder or hide text (bidi embeddings,
# overrides and isolates, LRM/RLM, the Arabic letter mark).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_safely(text: str) -> str:
    """`text` with each unsafe character written as its Python escape (\\x1b, \\u202e, \\n)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def kind_of(value: Any) -> str:
    """What a JSON value is, in words for a message: "got a list", "got null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
