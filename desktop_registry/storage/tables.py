"""ORM tables of the registry database; Alembic migrations own the schema on disk.

Changing a column here means writing a migration in storage/migrations/versions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, hands back timezone-aware datetimes (SQLite itself keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (
        UniqueConstraint("name", "version", "source", name="uq_models_name_version_source"),
        Index("ix_models_category", "category"),
        Index("ix_models_kind", "kind"),
        Index("ix_models_source", "source"),
        Index("ix_models_status", "status"),
        Index("ix_models_ollama_name", "ollama_name"),
        Index("ix_models_parent_id", "parent_id"),
        Index(
            "ix_models_list",
            "name",
            "version",
            "source",
            "category_keys",
            "kind",
            "status",
            "parent_id",
            "search_text",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(400))
    version: Mapped[str] = mapped_column(String(100), default="latest")
    source: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(200), default="")
    serving: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="base")
    category: Mapped[str] = mapped_column(String(40))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_source: Mapped[str] = mapped_column(String(20), default="server")
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    endpoint: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="available")
    digest: Mapped[str] = mapped_column(String(200), default="")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    family: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("models.id", ondelete="RESTRICT"), nullable=True
    )
    ollama_name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    github_models_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # lower(name family description tags): lets short filter terms be checked on an index
    search_text: Mapped[str] = mapped_column(Text, default="")
    # " embedding multimodal ": every category the model is listed under, space-delimited.
    category_keys: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[str] = mapped_column(Text, default="")
    system: Mapped[str] = mapped_column(Text, default="")
    license: Mapped[str] = mapped_column(Text, default="")
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelCapabilityRow(Base):
    __tablename__ = "model_capabilities"
    __table_args__ = (Index("ix_model_capabilities_capability", "capability"),)

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    capability: Mapped[str] = mapped_column(String(40), primary_key=True)


class ModelServingStatusRow(Base):
    __tablename__ = "model_serving_status"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    size_in_memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    size_vram: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    concurrent_requests: Mapped[int] = mapped_column(Integer, default=0)
    total_requests: Mapped[int] = mapped_column(Integer, default=0)
    failed_requests: Mapped[int] = mapped_column(Integer, default=0)
    healthy: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_health_check: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ModelPerformanceRow(Base):
    __tablename__ = "model_performance"
    __table_args__ = (Index("ix_model_performance_model_metric", "model_id", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100), default="")
    run_id: Mapped[str] = mapped_column(String(200), default="")
    metric: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")


class ChangeHistoryRow(Base):
    __tablename__ = "change_history"
    __table_args__ = (
        Index("ix_change_history_model_id", "model_id"),
        Index("ix_change_history_slot", "slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("models.id", ondelete="SET NULL"), nullable=True
    )
    slot: Mapped[str | None] = mapped_column(String(200), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# Core table handles for the queries that do not go through the ORM (one definition each).
MODELS = cast(Table, ModelRow.__table__)
CAPS = cast(Table, ModelCapabilityRow.__table__)
SERVING = cast(Table, ModelServingStatusRow.__table__)
PERF = cast(Table, ModelPerformanceRow.__table__)
HISTORY = cast(Table, ChangeHistoryRow.__table__)
