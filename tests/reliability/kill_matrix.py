"""The kill -9 matrix: SIGKILL the real CLI at seeded points of sync, pull, slot switch and eval run.

Each point checks the registry the kill left (integrity, duplicates, committed rows kept, one
active version per slot) and that a second run finishes the work. Returns counts; never prints.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.reliability.sigkill import (
    duplicate_models,
    eval_rows,
    integrity_ok,
    model_digests,
    sigkill,
    source_state,
    start_cli,
    wait_for,
)
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, many_models

OPERATIONS = ("switch", "sync", "pull", "eval")  # the longest first: two run at a time


@dataclass
class OperationResult:
    """What the kills of one operation found; every count but `points`/`killed` should be 0."""

    operation: str
    points: int = 0
    killed: int = 0  # points where the process was still running when the signal came
    integrity_failures: int = 0
    duplicates: int = 0
    rows_lost: int = 0
    resume_failures: int = 0
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "points": self.points,
            "killed": self.killed,
            "integrity_failures": self.integrity_failures,
            "duplicates": self.duplicates,
            "rows_lost": self.rows_lost,
            "resume_failures": self.resume_failures,
        }

    def check_registry(self, db: Path, point: int) -> None:
        if not integrity_ok(db):
            self.integrity_failures += 1
            self.problems.append(f"point {point}: integrity_check failed")
        dupes = duplicate_models(db)
        if dupes:
            self.duplicates += dupes
            self.problems.append(f"point {point}: {dupes} duplicate model rows")

    def lost(self, point: int, n: int, what: str) -> None:
        if n:
            self.rows_lost += n
            self.problems.append(f"point {point}: {n} {what} lost")

    def resume_failed(self, point: int, why: str) -> None:
        self.resume_failures += 1
        self.problems.append(f"point {point}: resume failed: {why}")


def cli_env(home: Path) -> dict[str, str]:
    """The environment of every run, killed or not: its own data folder, Ollama only."""
    return {
        "DESKTOP_REGISTRY_HOME": str(home / "home"),
        "XDG_DATA_HOME": str(home / "xdg"),
        "DESKTOP_REGISTRY_GITHUB_MODELS_SYNC": "never",
    }


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def cli(args: Sequence[str]) -> tuple[int, str]:
    """The CLI in this process (the resume runs: no second interpreter start), its output kept."""
    from desktop_registry.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


# ----- sync ------------------------------------------------------------------------------


def sync_matrix(work: Path, points: int, seed: int) -> OperationResult:
    """Kill a second sync after N seeded /api/show calls (+ a few ms): before or after, never half."""
    result, rng = OperationResult("sync"), random.Random(seed)
    db, env = work / "registry.db", cli_env(work)
    models = 40
    with OllamaEmulator(many_models(models)) as emu, environment(env):
        emu.latency_s = 0.004
        sync = ["--db", db, "sync", "--ollama-url", emu.url]
        assert cli(sync)[0] == 0
        before = model_digests(db)
        for point in range(points):
            for i, model in enumerate(emu.models[:15]):
                emu.set_digest(model.name, f"{point:02x}{i:062x}")
            after = source_state(emu)
            emu.reset_counts()
            # only the 15 changed models are shown again; past the last show the write follows
            calls, extra = rng.randint(0, 15), rng.uniform(0.0, 0.06)
            proc = start_cli(sync, env)
            if wait_for(lambda n=calls: emu.count("/api/show") >= n, proc=proc):
                time.sleep(extra)
            result.points += 1
            result.killed += sigkill(proc)
            result.check_registry(db, point)
            state = model_digests(db)
            result.lost(point, len(set(before) - set(state)), "synced models")
            if state not in (before, after):
                result.lost(point, 1, "syncs (half-written)")
            code, out = cli(sync)
            if code != 0 or model_digests(db) != after:
                result.resume_failed(point, f"sync exit {code}: {out[-200:]}")
            before = model_digests(db)
    return result


# ----- pull ------------------------------------------------------------------------------


def pullable(i: int) -> EmulatedModel:
    return EmulatedModel(
        f"gemma3-k{i:02d}:4b", family="gemma3", size=3_338_801_804, capabilities=["completion"]
    )


def latest_job(db: Path, name: str) -> tuple[int, str] | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT id, state FROM jobs WHERE kind = 'pull' AND params LIKE ? ORDER BY id DESC",
            (f"%{name}%",),
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def pull_matrix(work: Path, points: int, seed: int) -> OperationResult:
    """Kill `jobs pull NAME` (even points) or `pull NAME` (odd) at a seeded moment of the download
    or of the sync after it; the pulled model is then in the registry once, after one more run."""
    result, rng = OperationResult("pull"), random.Random(seed)
    db, env = work / "registry.db", cli_env(work)
    library = [pullable(i) for i in range(points)]
    with OllamaEmulator(many_models(5), library=library) as emu, environment(env):
        emu.pull_chunk_bytes = 300_000_000  # ~12 progress lines of 10 ms each
        emu.chunk_delay_s = 0.01
        assert cli(["--db", db, "sync", "--ollama-url", emu.url])[0] == 0
        for point, model in enumerate(library):
            before = model_digests(db)
            verb = ["jobs", "pull"] if point % 2 == 0 else ["pull"]
            args = ["--db", db, "--ollama-url", emu.url, *verb, model.name]
            emu.reset_counts()
            delay = rng.uniform(0.0, 0.3)
            proc = start_cli(args, env)
            if wait_for(lambda: emu.count("/api/pull") >= 1, proc=proc):
                time.sleep(delay)
            result.points += 1
            result.killed += sigkill(proc)
            result.check_registry(db, point)
            result.lost(point, len(set(before) - set(model_digests(db))), "models")
            job = latest_job(db, model.name) if verb[0] == "jobs" else None
            if job is not None and job[1] != "succeeded":
                code, out = cli(["--db", db, "--ollama-url", emu.url, "jobs", "resume", job[0]])
            elif job is None or model.name not in model_digests(db):
                code, out = cli(args)  # killed before the job row, or a plain `pull`: again
            else:
                code, out = 0, ""
            state = model_digests(db)
            if code != 0 or state.get(model.name, ("", ""))[1] != "available":
                result.resume_failed(point, f"pull exit {code}: {out[-200:]}")
            result.check_registry(db, point)
    return result


# ----- slot switch -----------------------------------------------------------------------

SLOT = "chat"


def slot_state(db: Path) -> tuple[list[str], list[tuple[int, str]]]:
    """(active versions of the slot, its switch history as (id, target) in order)."""
    with sqlite3.connect(db) as conn:
        active = [
            r[0]
            for r in conn.execute(
                "SELECT v.version FROM slot_versions v JOIN slots s ON s.id = v.slot_id "
                "WHERE s.name = ? AND v.active = 1",
                (SLOT,),
            )
        ]
        history = conn.execute(
            "SELECT id, json_extract(detail, '$.to') FROM change_history "
            "WHERE slot = ? AND action IN ('slot_switch', 'slot_rollback') ORDER BY id",
            (SLOT,),
        ).fetchall()
    return active, [(int(i), str(t)) for i, t in history]


def alias_follows_registry(db: Path) -> bool:
    """The MLflow champion alias names the version the registry says is active."""
    from desktop_registry.app import build_context
    from desktop_registry.config import load_settings
    from desktop_registry.services.versions.service import CHAMPION, slot_registered_name

    ctx = build_context(load_settings(), db_path=db)
    try:
        versions = ctx.versions()
        assert versions.tracker is not None
        alias = versions.tracker.alias_version(slot_registered_name(SLOT), CHAMPION)
        return bool(alias == versions.active(SLOT).mlflow_version)
    finally:
        ctx.close()


def switch_matrix(work: Path, points: int, seed: int) -> OperationResult:
    """Kill `slot switch` at a seeded moment around its commit (calibrated by one whole run):
    exactly one active version, history and flag written together, and running it again
    finishes the switch (MLflow alias included)."""
    result, rng = OperationResult("switch"), random.Random(seed)
    db, env = work / "registry.db", cli_env(work)
    base = ["--db", db]
    with OllamaEmulator(many_models(2)) as emu, environment(env):
        assert cli([*base, "sync", "--ollama-url", emu.url])[0] == 0
        names = sorted(model_digests(db))
        assert cli([*base, "slot", "create", SLOT, "--capability", "completion"])[0] == 0
        for name, version in zip(names, ("1.0.0", "1.1.0"), strict=True):
            assert cli([*base, "slot", "add", SLOT, name, "--version", version])[0] == 0

    def target() -> str:
        return "1.1.0" if slot_state(db)[0] == ["1.0.0"] else "1.0.0"

    with environment(env):
        started = time.monotonic()  # one whole run: how long a switch takes from start to exit
        start_cli([*base, "slot", "switch", SLOT, target()], env).wait(60)
        whole = time.monotonic() - started
        for point in range(points):
            active, history = slot_state(db)
            goal = target()
            delay = rng.uniform(0.4 * whole, 0.95 * whole)
            proc = start_cli([*base, "slot", "switch", SLOT, goal], env)
            time.sleep(delay)
            result.points += 1
            result.killed += sigkill(proc)
            result.check_registry(db, point)
            now_active, now_history = slot_state(db)
            result.lost(point, len(set(history) - set(now_history)), "history rows")
            done = len(now_history) == len(history) + 1 and now_active == [goal]
            untouched = now_history == history and now_active == active
            if len(now_active) != 1 or not (done or untouched):
                result.lost(point, 1, f"switches (half-done: {now_active}, {now_history[-1:]})")
            code, out = cli([*base, "slot", "switch", SLOT, goal])
            finished = code == 0 or (code == 1 and "already active" in out)
            alias_ok = alias_follows_registry(db)
            if not finished or slot_state(db)[0] != [goal] or not alias_ok:
                result.resume_failed(
                    point, f"switch exit {code}, alias ok {alias_ok}: {out[-200:]}"
                )
    return result


# ----- eval run --------------------------------------------------------------------------

EVAL_MODELS = ["alpha:1b", "beta:1b"]
EVAL_ROWS = 24


def eval_suite() -> str:
    return yaml.safe_dump(
        {
            "name": "Kill Test",
            "model": EVAL_MODELS[0],
            "messages": [{"role": "user", "content": "Echo {{n}}"}],
            "testData": [{"n": i} for i in range(EVAL_ROWS)],
            "evaluators": [{"name": "says hi", "string": {"contains": "hi"}}],
        },
        sort_keys=False,
    )


def settled_count(emu: OllamaEmulator, path: str, quiet_s: float = 0.3) -> int:
    """The emulator's count once it stops moving: a request the killed process wrote just
    before it died can still reach the emulator's handler a moment later."""
    count, deadline = emu.count(path), time.monotonic() + 5.0
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = emu.count(path)
        if now == count:
            break
        count = now
    return count


def last_run(db: Path) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT MAX(id) FROM eval_runs").fetchone()
    return None if row[0] is None else int(row[0])


def eval_matrix(work: Path, points: int, seed: int) -> OperationResult:
    """Kill `eval run` after N seeded chat requests: stored rows stay, and `eval resume` asks
    only for the missing rows."""
    result, rng = OperationResult("eval"), random.Random(seed)
    db, env = work / "registry.db", cli_env(work)
    total = EVAL_ROWS * len(EVAL_MODELS)
    suite = work / "kill.prompt.yml"
    suite.write_text(eval_suite())
    with (
        OllamaEmulator([EmulatedModel(n, reply="hi") for n in EVAL_MODELS]) as emu,
        environment(env),
    ):
        emu.latency_s = 0.01
        base = ["--db", db, "--ollama-url", emu.url]
        assert cli([*base, "sync"])[0] == 0
        assert cli([*base, "eval", "import", suite])[0] == 0
        run_args = [*base, "eval", "run", "Kill Test", "--models", ",".join(EVAL_MODELS)]
        run_args += ["--concurrency", "4"]
        for point in range(points):
            previous_run = last_run(db)
            emu.reset_counts()
            calls = rng.randint(0, total)
            proc = start_cli(run_args, env)
            wait_for(lambda n=calls: emu.count("/api/chat") >= n, proc=proc)
            seen = set(eval_rows(db))  # stored before the kill: all must survive it
            result.points += 1
            result.killed += sigkill(proc)
            result.check_registry(db, point)
            kept = set(eval_rows(db))
            result.lost(point, len(seen - kept), "eval result rows")
            run_id = last_run(db)
            asked = settled_count(emu, "/api/chat")
            if run_id is None or run_id == previous_run:  # killed before the run was prepared
                code, out = cli(run_args)
                run_id, missing = last_run(db), total
            else:
                code, out = cli([*base, "eval", "resume", run_id, "--json"])
                missing = total - sum(1 for r in kept if r[0] == run_id)
            rows = [r for r in eval_rows(db) if r[0] == run_id]
            asked = emu.count("/api/chat") - asked
            if code != 0 or len(rows) != total or len(set(rows)) != total or asked != missing:
                result.resume_failed(
                    point,
                    f"eval exit {code}, {len(rows)} rows, asked {asked}/{missing}: {out[-200:]}",
                )
    return result


MATRIX: dict[str, Any] = {
    "sync": sync_matrix,
    "pull": pull_matrix,
    "switch": switch_matrix,
    "eval": eval_matrix,
}


def run_operation(operation: str, work: Path, points: int = 20, seed: int = 0) -> OperationResult:
    work.mkdir(parents=True, exist_ok=True)
    return MATRIX[operation](work, points, seed)  # type: ignore[no-any-return]


def _run_in_worker(job: tuple[str, Path, int, int]) -> OperationResult:
    return run_operation(*job)


def run_matrix(
    work: Path, points: int = 20, seed: int = 0, operations: Sequence[str] = OPERATIONS
) -> dict[str, OperationResult]:
    """Every operation's kills, two operations at a time (one per core of a CI runner), each
    in its own interpreter so each has its own environment and emulator."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(op, work / op, points, seed + i) for i, op in enumerate(operations)]
    context = multiprocessing.get_context("spawn")  # no fork of a process with server threads
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        return dict(zip(operations, pool.map(_run_in_worker, jobs), strict=True))
