"""Team storage: two worker processes (each with its own registry, as on two machines) run one
study against one storage, on a real PostgreSQL server and on one SQLite file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from tests.integration.optimize_setup import MODEL, SPACE, echo_suite, tunable_emulator
from tests.integration.postgres_server import postgres_url
from tests.reliability.sigkill import start_cli
from tests.servers.ollama_emulator import OllamaEmulator

TRIALS = 12


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with tunable_emulator() as emulator:
        emulator.latency_s = 0.01  # a trial takes a moment, so the two workers overlap
        yield emulator


def worker(home: Path, emu: OllamaEmulator, storage: str) -> subprocess.Popen[bytes]:
    home.mkdir()
    db = home / "registry.db"
    subprocess.run(
        [*_cli(), "--db", str(db), "sync", "--ollama-url", emu.url], check=True,
        capture_output=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    suite = home / "echo.prompt.yml"
    suite.write_text(echo_suite(6))
    args = ["--db", str(db), "--ollama-url", emu.url, "optimize", "run", MODEL, "--suite",
            str(suite), "--strategy", "random", "--trials", str(TRIALS), "--study", "team",
            "--storage", storage, "--json", *[f"--space={s}" for s in SPACE]]  # fmt: skip
    return start_cli(args, {"DESKTOP_REGISTRY_HOME": str(home / "h")}, stdout=subprocess.PIPE)


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "desktop_registry.cli"]


def run_two_workers(tmp_path: Path, emu: OllamaEmulator, storage: str) -> optuna.Study:
    procs = [worker(tmp_path / f"machine-{i}", emu, storage) for i in (1, 2)]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    for out in outputs:  # each worker's --json line sees the whole study
        last = json.loads(out.strip().splitlines()[-1])
        assert last["study"] == "team" and "best_params" in last
    return optuna.load_study(study_name="team", storage=storage.replace(
        "postgresql://", "postgresql+psycopg2://"))  # fmt: skip


def assert_shared_fairly(study: optuna.Study) -> None:
    complete = [t for t in study.trials if t.state is optuna.trial.TrialState.COMPLETE]
    numbers = [t.number for t in study.trials]
    assert len(complete) == TRIALS
    assert len(numbers) == len(set(numbers))  # no trial number given out twice
    pids = {t.user_attrs["worker"]["pid"] for t in complete}
    assert len(pids) == 2  # both workers ran trials of the one study


def test_two_workers_share_one_study_on_postgresql(tmp_path, emu):
    with postgres_url() as url:
        assert_shared_fairly(run_two_workers(tmp_path, emu, url))


def test_two_workers_share_one_study_on_one_sqlite_file(tmp_path, emu):
    url = f"sqlite:///{tmp_path / 'team-optuna.db'}"
    assert_shared_fairly(run_two_workers(tmp_path, emu, url))
