"""Pure pydantic types shared by every layer; imports nothing else of ours.

Must never do I/O or import Qt, SQLAlchemy, or any adapter. The names below load on first use,
so `import desktop_registry.domain.enums` (the command line's parser) does not load pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_registry.domain.categories import (
        Capability,
        Category,
        CategorySource,
        categories_for_capabilities,
        category_for_remote_provider,
        primary_category,
    )
    from desktop_registry.domain.enums import Kind, ModelStatus, Serving, Source
    from desktop_registry.domain.models import ModelDetails, ModelRecord, PerformanceMetric
    from desktop_registry.domain.sync import SourceSyncError, SyncReport

_HOME = {
    "Capability": "categories",
    "Category": "categories",
    "CategorySource": "categories",
    "categories_for_capabilities": "categories",
    "category_for_remote_provider": "categories",
    "primary_category": "categories",
    "Kind": "enums",
    "ModelStatus": "enums",
    "Serving": "enums",
    "Source": "enums",
    "ModelDetails": "models",
    "ModelRecord": "models",
    "PerformanceMetric": "models",
    "SourceSyncError": "sync",
    "SyncReport": "sync",
}

__all__ = [
    "Capability",
    "Category",
    "CategorySource",
    "Kind",
    "ModelDetails",
    "ModelRecord",
    "ModelStatus",
    "PerformanceMetric",
    "Serving",
    "Source",
    "SourceSyncError",
    "SyncReport",
    "categories_for_capabilities",
    "category_for_remote_provider",
    "primary_category",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
