"""Alembic environment: runs migrations on the connection the app hands over.

Never opens its own database: `storage/database.py` passes the connection in.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from desktop_registry.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # `alembic` command line use by developers: a URL in sqlalchemy.url.
        engine = engine_from_config(
            config.get_section(config.config_ini_section) or {},
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
