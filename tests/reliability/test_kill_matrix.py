"""kill -9 of the real CLI at 20 seeded points of each long operation: sync, pull, slot switch
and eval run. The registry stays whole and a second run finishes the work (bench/kill_matrix.py
runs the same matrix and prints its counts)."""

from __future__ import annotations

import pytest

from tests.reliability.kill_matrix import OperationResult, run_matrix

pytestmark = pytest.mark.slow  # ~80 real CLI processes killed; still run in CI
POINTS = 20


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OperationResult]:
    return run_matrix(tmp_path_factory.mktemp("kill-matrix"), points=POINTS, seed=0)


def assert_survived(result: OperationResult) -> None:
    assert result.points == POINTS
    assert result.killed >= POINTS // 2, "most kills should land while the process still runs"
    assert result.problems == []
    assert result.integrity_failures == result.duplicates == result.rows_lost == 0
    assert result.resume_failures == 0


def test_sync_killed_anywhere_is_all_or_nothing_and_the_next_sync_completes(matrix):
    assert_survived(matrix["sync"])


def test_pull_killed_anywhere_keeps_the_registry_and_resuming_it_adds_the_model_once(matrix):
    assert_survived(matrix["pull"])


def test_slot_switch_killed_anywhere_leaves_one_active_version_and_can_be_run_again(matrix):
    assert_survived(matrix["switch"])


def test_eval_run_killed_anywhere_keeps_stored_rows_and_resume_asks_only_for_the_rest(matrix):
    assert_survived(matrix["eval"])
