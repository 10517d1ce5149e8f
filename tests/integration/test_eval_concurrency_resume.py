"""200 rows × 3 models under a concurrency limit: the limit holds at the server, a SIGKILLed run
keeps its finished rows, and resuming asks only for the rest."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from tests.reliability.sigkill import eval_rows, start_cli
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator

MODELS = ["alpha:1b", "beta:1b", "gamma:1b"]
ROWS = 200


class InFlight:
    """Counts /api/chat requests being served at once, at the emulator itself."""

    def __init__(self, emu: OllamaEmulator) -> None:
        self.now = self.peak = 0
        self.lock = threading.Lock()
        original = emu._handle

        def handle(h: Any, method: str) -> None:
            counted = h.path.startswith("/api/chat")
            if counted:
                with self.lock:
                    self.now += 1
                    self.peak = max(self.peak, self.now)
            try:
                original(h, method)
            finally:
                if counted:
                    with self.lock:
                        self.now -= 1

        emu._handle = handle  # type: ignore[method-assign]


def load_suite(rows: int = ROWS, name: str = "Load Test") -> str:
    return yaml.safe_dump(
        {
            "name": name,
            "model": "alpha:1b",
            "messages": [{"role": "user", "content": "Echo {{n}}"}],
            "testData": [{"n": i} for i in range(rows)],
            "evaluators": [{"name": "says hi", "string": {"contains": "hi"}}],
        },
        sort_keys=False,
    )


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator([EmulatedModel(n, reply="hi") for n in MODELS]) as emu:
        yield emu


@pytest.fixture
def home(tmp_path: Path, emulator: OllamaEmulator, capsys) -> Path:
    db = str(tmp_path / "registry.db")
    assert cli(["--db", db, "sync", "--ollama-url", emulator.url]) == 0
    suite = tmp_path / "load.prompt.yml"
    suite.write_text(load_suite())
    assert cli(["--db", db, "eval", "import", str(suite)]) == 0
    capsys.readouterr()
    return tmp_path


def test_run_of_600_rows_never_exceeds_the_concurrency_limit_and_stores_every_row(home, emulator):
    emulator.latency_s = 0.01
    counter = InFlight(emulator)
    ctx = build_context(
        Settings(home=home / "h", ollama_url=emulator.url), db_path=home / "registry.db"
    )
    runner = ctx.evaluation(tracked=False)
    runner.limits["ollama"] = 3
    run = runner.prepare("Load Test", MODELS)
    seen: list[int] = []

    async def go() -> Any:
        try:
            return await runner.run(run.id, on_progress=lambda p: seen.append(p.done))
        finally:
            await ctx.aclose()

    summaries = asyncio.run(go())
    ctx.close()
    assert counter.peak == 3  # the limit was reached and never passed
    assert [s.rows for s in summaries] == [ROWS] * 3
    assert all(s.passed == ROWS for s in summaries)
    assert seen[-1] == ROWS * 3 and seen == sorted(seen)
    assert emulator.count("/api/chat") == ROWS * 3


@pytest.mark.parametrize(("flag", "peak"), [(None, 2), ("5", 5)])
def test_eval_run_keeps_to_the_concurrency_setting_unless_the_flag_overrides_it(
    home, emulator, monkeypatch, capsys, flag, peak
):
    monkeypatch.setenv("DESKTOP_REGISTRY_EVAL_CONCURRENCY", "2")
    suite = home / "small.prompt.yml"
    suite.write_text(load_suite(30, name="Small Load"))
    emulator.latency_s = 0.02
    counter = InFlight(emulator)
    args = ["--db", str(home / "registry.db"), "--ollama-url", emulator.url, "eval", "run"]
    args += [str(suite), "--models", ",".join(MODELS), *(["--concurrency", flag] if flag else [])]
    assert cli(args) == 0
    assert counter.peak == peak
    assert emulator.count("/api/chat") == 30 * len(MODELS)


def test_a_killed_run_keeps_finished_rows_and_resume_finishes_only_the_rest(home, emulator, capsys):
    emulator.latency_s = 0.02  # 600 rows / 4 at a time ≈ 3 s: time to kill it halfway
    db = home / "registry.db"
    args = ["--db", str(db), "--ollama-url", emulator.url, "eval", "run", "Load Test"]
    child = start_cli(
        [*args, "--models", ",".join(MODELS), "--concurrency", "4"],
        {"DESKTOP_REGISTRY_HOME": str(home / "h")},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(eval_rows(db)) >= 200:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    kept = eval_rows(db)
    assert 200 <= len(kept) < ROWS * 3, "the run should have been killed halfway"
    run_id = kept[0][0]
    asked_before = emulator.count("/api/chat")

    code = cli(
        ["--db", str(db), "--ollama-url", emulator.url, "eval", "resume", str(run_id), "--json"]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = eval_rows(db)
    assert len(rows) == ROWS * 3 == len(set(rows))  # every row once, none twice
    assert set(kept) <= set(rows)  # the finished rows survived untouched
    # the resume asked only for what was missing (plus at most the ≤4 in flight at the kill)
    asked = emulator.count("/api/chat") - asked_before
    assert asked == ROWS * 3 - len(kept)
    assert '"passed": 200' in out
