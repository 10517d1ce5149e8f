"""Pure pydantic types shared by every layer; imports nothing else of ours.

Must never do I/O or import Qt, SQLAlchemy, or any adapter.
"""

from desktop_registry.domain.categories import (
    Capability,
    Category,
    CategorySource,
    categories_for_capabilities,
    category_for_remote_provider,
    primary_category,
)
from desktop_registry.domain.models import (
    Kind,
    ModelDetails,
    ModelRecord,
    ModelStatus,
    PerformanceMetric,
    Serving,
    Source,
)
from desktop_registry.domain.sync import SourceSyncError, SyncReport

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
