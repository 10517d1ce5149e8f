"""SQLite persistence for the registry: ORM tables, migrations, repositories.

Never imports sources, services or ui; speaks only domain types outward. Database and
ModelRepository load on first use, so quick_read (the CLI's `list`) runs without SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_registry.storage.database import Database
    from desktop_registry.storage.repository import ModelRepository

__all__ = ["Database", "ModelRepository"]


def __getattr__(name: str) -> Any:
    if name == "Database":
        from desktop_registry.storage.database import Database

        return Database
    if name == "ModelRepository":
        from desktop_registry.storage.repository import ModelRepository

        return ModelRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
