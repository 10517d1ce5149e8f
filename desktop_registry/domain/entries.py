"""One model as the window's tree lists it: the few columns it draws and filters on.

Pure data (a NamedTuple, cheap for 10,000 rows); storage/model_index.py reads it.
"""

from __future__ import annotations

from typing import NamedTuple


class ModelEntry(NamedTuple):
    """One model as the tree shows it; `haystack` is what the filter box searches (lowercase)."""

    id: int
    name: str
    version: str
    source: str
    provider: str
    serving: str
    kind: str
    status: str
    categories: tuple[str, ...]
    size_bytes: int | None
    haystack: str


Entries = list[ModelEntry]
