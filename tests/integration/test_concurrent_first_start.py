"""Two first starts at once on a brand-new data dir: both succeed and the registry is whole
(real processes, real SQLite file, the Ollama emulator on a real socket)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.servers.ollama_emulator import OllamaEmulator, standard_models

ROOT = Path(__file__).resolve().parents[2]


def _open_at_once(path: str, barrier: multiprocessing.synchronize.Barrier, out: object) -> None:
    from desktop_registry.errors import StorageError
    from desktop_registry.storage import Database

    barrier.wait()
    try:
        Database.open(path).dispose()
    except StorageError as exc:
        out.put(str(exc))  # type: ignore[attr-defined]
    else:
        out.put("ok")  # type: ignore[attr-defined]


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_four_programs_opening_a_new_registry_at_the_same_moment_all_succeed(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    out = ctx.Queue()
    path = tmp_path / "new-home" / "registry.db"
    workers = [ctx.Process(target=_open_at_once, args=(str(path), barrier, out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    answers = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert answers == ["ok"] * 4, answers
    assert {"models", "alembic_version"} <= _tables(path)


def test_two_first_syncs_at_once_both_succeed_and_no_one_is_told_to_move_the_registry(
    tmp_path: Path,
):
    home = tmp_path / "brand-new-home"
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    with OllamaEmulator(standard_models()) as emu:
        env.update(DESKTOP_REGISTRY_HOME=str(home), DESKTOP_REGISTRY_OLLAMA_URL=emu.url)
        env["DESKTOP_REGISTRY_GITHUB_MODELS_SYNC"] = "never"
        syncs = [
            subprocess.Popen(
                [sys.executable, "-m", "desktop_registry.cli", "sync"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in syncs]  # type: ignore[union-attr]
    for code, err in results:
        assert code == 0, err
        assert "aside" not in err and "locked" not in err, err
    assert "models" in _tables(home / "registry.db")
