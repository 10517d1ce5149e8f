"""SQLite persistence for the registry: ORM tables, migrations, repositories.

Never imports sources, services or ui; speaks only domain types outward.
"""

from desktop_registry.storage.database import Database
from desktop_registry.storage.repository import ModelRepository

__all__ = ["Database", "ModelRepository"]
