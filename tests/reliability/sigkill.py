"""Starting this checkout's real CLI as a subprocess, SIGKILLing it, and reading what it left.

Shared by every crash test; the registry is read with plain sqlite3 so nothing of ours can hide damage.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.servers.ollama_emulator import OllamaEmulator

REPO_ROOT = Path(__file__).resolve().parents[2]


def start_cli(
    args: Sequence[str], env: Mapping[str, str] | None = None, **popen: object
) -> subprocess.Popen[bytes]:
    """`python -m desktop_registry.cli ARGS` run from this worktree, so it runs this code."""
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO_ROOT)}
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "desktop_registry.cli", *args],
        cwd=REPO_ROOT,
        env=full_env,
        **popen,
    )


def sigkill(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> bool:
    """SIGKILL the process; True if it was still running (the kill landed), False if it had exited."""
    landed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return landed and proc.returncode == -signal.SIGKILL


def wait_for(
    condition: Callable[[], bool],
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
) -> bool:
    """Poll until `condition` holds; False if `proc` exits first (it finished before the point)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the process to get there")
        time.sleep(0.002)
    return True


def integrity_ok(db_path: Path) -> bool:
    with sqlite3.connect(db_path) as conn:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def duplicate_models(db_path: Path) -> int:
    """Model rows beyond the first of each (name, version, source)."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT COUNT(*) - 1 FROM models GROUP BY name, version, source HAVING COUNT(*) > 1"
        ).fetchall()
    return sum(n for (n,) in rows)


def model_digests(db_path: Path) -> dict[str, tuple[str, str]]:
    """name → (digest, status) of every model row."""
    with sqlite3.connect(db_path) as conn:
        return {n: (d, s) for n, d, s in conn.execute("SELECT name, digest, status FROM models")}


def eval_rows(db_path: Path) -> list[tuple[int, int, int]]:
    """(run_id, model_id, row_index) of every stored evaluation result."""
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT run_id, model_id, row_index FROM eval_results").fetchall()


def source_state(emu: OllamaEmulator) -> dict[str, tuple[str, str]]:
    """What `model_digests` should read once the emulator's models are synced in."""
    return {
        m.name if ":" in m.name else f"{m.name}:latest": (m.digest, "available") for m in emu.models
    }
