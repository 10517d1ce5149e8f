"""A study SIGKILLed mid-trial resumes where it stopped: every finished trial is still there, the
trial that was running is marked failed and asked again, and the numbering carries on."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from desktop_registry.cli import main as cli
from tests.integration.optimize_setup import MODEL, SPACE, registry_with_model, tunable_emulator
from tests.reliability.sigkill import sigkill, start_cli, wait_for
from tests.servers.ollama_emulator import OllamaEmulator

TRIALS = 6


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with tunable_emulator() as emulator:
        yield emulator


def trial_rows(db: Path) -> list[tuple[int, str, float | None]]:
    """(number, state, value) of every trial, read with plain sqlite3 (Optuna's own tables)."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute(
                "SELECT t.number, t.state, v.value FROM trials t "
                "LEFT JOIN trial_values v ON v.trial_id = t.trial_id ORDER BY t.number"
            ).fetchall()
        except sqlite3.OperationalError:  # tables not made yet
            return []


def asking(db: Path, number: int) -> bool:
    """The trial has chosen its options (both params stored): its rows are being asked."""
    with sqlite3.connect(db, timeout=30) as conn:
        found = conn.execute(
            "SELECT COUNT(*) FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id "
            "WHERE t.number = ?",
            (number,),
        ).fetchone()
    return bool(found[0] >= 2)


def test_sigkill_mid_study_then_resume_keeps_every_finished_trial(tmp_path, emu, capsys):
    db = registry_with_model(tmp_path, emu, rows=8)
    storage = tmp_path / "optuna.db"
    emu.latency_s = 0.05  # 8 rows, 4 at a time: a trial takes ~0.1 s+, time to land mid-trial
    args = ["--db", str(db), "--ollama-url", emu.url, "optimize"]
    child = start_cli(
        [*args, "run", MODEL, "--suite", "Echo", "--strategy", "bayesian", "--seed", "5",
         "--trials", str(TRIALS), "--study", "killed", *[f"--space={s}" for s in SPACE]],
        {"DESKTOP_REGISTRY_HOME": str(tmp_path / "h")},
    )  # fmt: skip

    def mid_trial() -> bool:  # two trials done and the third asking its model
        time.sleep(0.02)  # poll gently: the child writes to this file
        rows = trial_rows(storage)
        done = [r for r in rows if r[1] == "COMPLETE"]
        return len(done) >= 2 and rows[-1][1] == "RUNNING" and asking(storage, rows[-1][0])

    try:
        assert wait_for(mid_trial, timeout=120, proc=child), "the study finished before the kill"
    finally:
        assert sigkill(child)
    before = trial_rows(storage)
    finished = {(n, v) for n, s, v in before if s == "COMPLETE"}
    running = [n for n, s, _ in before if s == "RUNNING"]
    assert len(running) == 1 and len(finished) < TRIALS

    capsys.readouterr()
    assert cli([*args, "resume", "killed", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    after = trial_rows(storage)
    assert finished <= {(n, v) for n, s, v in after if s == "COMPLETE"}  # none lost or changed
    states = {n: s for n, s, _ in after}
    assert states[running[0]] == "FAIL"  # the interrupted trial is marked failed …
    study = optuna.load_study(study_name="killed", storage=f"sqlite:///{storage}")
    killed = next(t for t in study.trials if t.number == running[0])
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].params == killed.params  # … and asked again
    assert retries[0].state is optuna.trial.TrialState.COMPLETE
    assert retries[0].number > max(n for n, _ in finished)  # the count carries on
    assert out["trials"] == TRIALS == sum(s == "COMPLETE" for s in states.values())
