"""Slots (roles such as "text embedding"), their versions and the history of switches.

Pure data; storage/slots.py reads and writes it, services/versions decides what may change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Slot(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    capability: str
    description: str = ""
    created_at: datetime | None = None


class SlotVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    slot_id: int
    model_id: int
    model_name: str
    version: str
    config: dict[str, Any] = Field(default_factory=dict)
    checkpoint_digest: str = ""
    active: bool = False
    mlflow_version: str = ""
    created_at: datetime | None = None


class SlotChange(BaseModel):
    """One entry of a slot's change history: who moved the active version, when and why."""

    model_config = ConfigDict(frozen=True)

    id: int
    slot: str
    action: str
    from_version: str | None
    to_version: str | None
    model_id: int | None
    actor: str
    reason: str
    at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)
