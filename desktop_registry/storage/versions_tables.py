"""ORM tables for slots (roles such as "text embedding") and their versions.

Schema changes go through migration 0004_slots; exactly one version per slot is active.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from desktop_registry.storage.tables import Base, UTCDateTime


class SlotRow(Base):
    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    capability: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlotVersionRow(Base):
    __tablename__ = "slot_versions"
    __table_args__ = (
        UniqueConstraint("slot_id", "version", name="uq_slot_versions_slot_version"),
        # The database itself refuses a second active version in one slot.
        Index(
            "uq_slot_versions_one_active",
            "slot_id",
            unique=True,
            sqlite_where=text("active = 1"),
        ),
        Index("ix_slot_versions_model_id", "model_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"))
    version: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checkpoint_digest: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    mlflow_version: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
