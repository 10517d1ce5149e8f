"""SIGKILL a real process in the middle of a slot switch: never zero or two active versions.

The child runs the real VersionService; a wrapper in the child (test code) pauses it inside
the switch transaction so the kill lands there for certain. The MLflow alias is then repaired
to follow whatever the registry says is active.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop_registry.domain import ModelDetails, ModelRecord, Serving, Source
from desktop_registry.errors import UserInputError
from desktop_registry.services.versions.service import (
    CHAMPION,
    VersionService,
    slot_registered_name,
)
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.slots import SlotRepository
from desktop_registry.tracking.mlflow import MlflowTracker, default_tracking_uri
from tests.reliability.sigkill import sigkill

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real subprocesses; still run in CI
SLOT = "text embedding"

CHILD = textwrap.dedent(
    """
    import sys, time
    from desktop_registry.storage import Database, ModelRepository
    from desktop_registry.storage.slots import SlotRepository
    from desktop_registry.services.versions.service import VersionService

    db_path, mode = sys.argv[1], sys.argv[2]
    if mode == "pause":  # stop inside the transaction: both UPDATEs done, not committed
        original = SlotRepository._history
        def paused(conn, slot, action, *rest):
            if action == "slot_switch":
                print("INSIDE", flush=True)
                time.sleep(60)
            return original(conn, slot, action, *rest)
        SlotRepository._history = staticmethod(paused)
    db = Database.open(db_path)
    svc = VersionService(ModelRepository(db), SlotRepository(db), None, actor="child")
    print("READY", flush=True)
    n = 0
    while True:
        target = "1.1.0" if svc.active("text embedding").version == "1.0.0" else "1.0.0"
        svc.switch("text embedding", target, reason=f"flip {n}")
        n += 1
        if mode == "once":
            print("DONE", flush=True)
            time.sleep(60)
    """
)


def state(db_path: Path) -> tuple[list[str], str | None, int]:
    """(active versions, the last history entry's target, history length), via plain sqlite3."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        active = [r[0] for r in conn.execute("SELECT version FROM slot_versions WHERE active = 1")]
        rows = conn.execute(
            "SELECT json_extract(detail, '$.to') FROM change_history "
            "WHERE slot = ? AND action IN ('slot_switch', 'slot_rollback') ORDER BY id",
            (SLOT,),
        ).fetchall()
        return active, (rows[-1][0] if rows else None), len(rows)
    finally:
        conn.close()


def start(db_path: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), mode],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    assert sigkill(proc)


@pytest.fixture
def setup(tmp_path: Path):
    db_path = tmp_path / "registry.db"
    db = Database.open(db_path)
    repo = ModelRepository(db)
    for name in ("nomic-embed-text:latest", "mxbai-embed:latest"):
        repo.register(
            ModelRecord(
                name=name,
                source=Source.OLLAMA,
                serving=Serving.LOCAL,
                capabilities=["embedding"],
                details=ModelDetails(embedding_length=768),
            )
        )
    tracker = MlflowTracker(default_tracking_uri(tmp_path), artifact_root=tmp_path / "art")
    svc = VersionService(repo, SlotRepository(db), tracker, actor="parent")
    svc.create_slot(SLOT, "embedding")
    svc.add_version(SLOT, "nomic-embed-text", "1.0.0")
    svc.add_version(SLOT, "mxbai-embed", "1.1.0")
    yield db_path, svc, tracker
    db.dispose()


def test_sigkill_inside_the_switch_transaction_leaves_the_old_version_active(setup):
    db_path, svc, tracker = setup
    proc = start(db_path, "pause")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "INSIDE"
    kill(proc)
    assert state(db_path) == (["1.0.0"], None, 0)  # rolled back whole: no half switch
    assert (
        tracker.alias_version(slot_registered_name(SLOT), CHAMPION)
        == svc.active(SLOT).mlflow_version
    )
    # the registry is fully usable afterwards, and the alias follows the next switch
    svc.switch(SLOT, "1.1.0", reason="after the crash")
    assert state(db_path) == (["1.1.0"], "1.1.0", 1)
    assert (
        tracker.alias_version(slot_registered_name(SLOT), CHAMPION)
        == svc.active(SLOT).mlflow_version
    )


def test_sigkill_at_random_moments_of_back_to_back_switches_never_breaks_the_invariant(setup):
    db_path, svc, _ = setup
    for delay in (0.0, 0.013, 0.029, 0.05, 0.11):
        before = state(db_path)[2]
        proc = start(db_path, "loop")
        time.sleep(delay)
        kill(proc)
        active, last_target, count = state(db_path)
        assert len(active) == 1
        assert count >= before
        # the history row and the active flag were written together, or not at all
        assert last_target is None or active == [last_target]
    assert state(db_path)[2] > 0  # the children did switch before they were killed
    assert svc.active(SLOT).version in ("1.0.0", "1.1.0")


def test_alias_left_behind_by_a_crash_after_commit_is_repaired(setup):
    db_path, svc, tracker = setup
    proc = start(db_path, "once")  # commits a switch without touching MLflow, then dies
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "DONE"
    kill(proc)
    assert state(db_path) == (["1.1.0"], "1.1.0", 1)
    name = slot_registered_name(SLOT)
    assert tracker.alias_version(name, CHAMPION) != svc.active(SLOT).mlflow_version
    assert svc.mirror_alias(SLOT) == svc.active(SLOT).mlflow_version
    assert tracker.alias_version(name, CHAMPION) == svc.active(SLOT).mlflow_version


def test_running_a_switch_again_after_a_crash_after_commit_moves_the_alias(setup):
    db_path, svc, tracker = setup
    proc = start(db_path, "once")  # commits the switch to 1.1.0, dies before MLflow hears of it
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "DONE"
    kill(proc)
    name = slot_registered_name(SLOT)
    assert tracker.alias_version(name, CHAMPION) != svc.active(SLOT).mlflow_version
    with pytest.raises(UserInputError, match="already active"):
        svc.switch(SLOT, "1.1.0", reason="again, after the crash")
    assert tracker.alias_version(name, CHAMPION) == svc.active(SLOT).mlflow_version
