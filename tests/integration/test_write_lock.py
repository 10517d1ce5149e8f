"""Two writers at once: the second waits for the first instead of failing.

Real SQLite file, a second real connection (another "process") holding the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.storage import Database, ModelRepository


def test_a_read_then_write_transaction_waits_for_another_writer_and_sees_its_rows(registry_path):
    db = Database.open(registry_path)
    repo = ModelRepository(db)
    repo.register(ModelRecord(name="first:1b", source=Source.OLLAMA, serving=Serving.LOCAL))
    holding = threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(registry_path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE models SET description = 'from the other writer'")
        holding.set()
        time.sleep(0.5)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(5)
    # Reads, then writes what it read: with a deferred BEGIN its snapshot predates the other
    # writer's commit and SQLite refuses the write at once ("database is locked").
    with db.transaction() as conn:
        seen = conn.exec_driver_sql("SELECT description FROM models").scalar_one()
        conn.exec_driver_sql("UPDATE models SET description = ? || ' + mine'", (seen,))
    thread.join()
    assert repo.get(1).description == "from the other writer + mine"
    db.dispose()
