"""ORM tables of the model library index: catalog + registry entries, searched with FTS5 (bm25).

Changing a column here means changing migration 0006_library; the index is rebuilt, never edited by hand.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desktop_registry.storage.tables import Base


class LibraryEntryRow(Base):
    """One library entry; `payload` holds the whole LibraryEntry, the columns serve the filters."""

    __tablename__ = "library_entries"
    __table_args__ = (
        Index("ix_library_entries_origin", "origin"),
        Index("ix_library_entries_size_class", "size_class"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(400))
    family: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")  # space-separated, for FTS
    categories: Mapped[str] = mapped_column(Text, default="")  # " cat1 cat2 " for LIKE filters
    capabilities: Mapped[str] = mapped_column(Text, default="")  # " cap1 cap2 "
    parameter_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    size_class: Mapped[str | None] = mapped_column(String(20), nullable=True)
    installed: Mapped[bool] = mapped_column(Boolean, default=False)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(40))
    performance_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LibraryMetaRow(Base):
    """Small key/value facts about the index (catalog version, registry fingerprint)."""

    __tablename__ = "library_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
