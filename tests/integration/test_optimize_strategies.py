"""Studies against an emulated model that answers right only near temperature 0.7, top_p 0.9:
every strategy finds that region, TPE needs far fewer trials than grid, Hyperband saves calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from desktop_registry.domain.optimization import StudyRequest, StudySummary
from desktop_registry.services.optimization.space import parse_range
from tests.integration.optimize_setup import (
    MODEL,
    REGION,
    SPACE,
    context,
    registry_with_model,
    tunable_emulator,
)
from tests.servers.ollama_emulator import OllamaEmulator


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with tunable_emulator() as emulator:
        yield emulator


@pytest.fixture
def home(tmp_path: Path, emu: OllamaEmulator, capsys) -> Path:
    registry_with_model(tmp_path, emu, rows=12)
    capsys.readouterr()
    return tmp_path


def study(home: Path, emu: OllamaEmulator, **fields) -> StudySummary:
    ctx = context(home, emu)
    service = ctx.optimization(tracked=False)
    fields.setdefault("space", [parse_range(s) for s in SPACE])
    request = StudyRequest(model=MODEL, suite="Echo", **fields)

    async def go() -> StudySummary:
        try:
            return await service.optimize(request)
        finally:
            await ctx.aclose()

    try:
        return asyncio.run(go())
    finally:
        ctx.close()


def in_best_region(params: dict) -> bool:
    """Every row is answered right here (normalised distance <= 0.3 from the centre)."""
    return all(abs(params[k] - c) <= 0.3 * tol + 1e-9 for k, (c, tol) in REGION.items())


@pytest.mark.parametrize(
    ("strategy", "trials"),
    [("grid", 36), ("random", 20), ("bayesian", 20), ("evolutionary", 20), ("hyperband", 20)],
)
def test_each_strategy_finds_the_region_where_the_model_answers_right(home, emu, strategy, trials):
    summary = study(home, emu, strategy=strategy, trials=trials, seed=7, study_name=strategy)
    assert summary.best_value == 1.0
    assert in_best_region(summary.best_params), summary.best_params
    assert summary.trials + summary.pruned == trials
    assert summary.importances.keys() == {"temperature", "top_p"}


def test_tpe_gets_within_two_percent_of_the_grid_optimum_in_a_third_of_the_trials(
    home, emu, record_property
):
    grid = study(home, emu, strategy="grid", trials=36, seed=7, study_name="grid")
    tpe = study(home, emu, strategy="bayesian", trials=12, seed=7, study_name="tpe")
    assert grid.trials == 36  # the whole 6 x 6 grid
    assert tpe.best_value is not None and grid.best_value is not None
    assert tpe.best_value >= 0.98 * grid.best_value
    ctx = context(home, emu)
    trials = ctx.optimization(tracked=False).trials("tpe")
    reached = min(t.number for t in trials if t.value and t.value >= 0.98 * grid.best_value)
    record_property("grid_trials", grid.trials)
    record_property("tpe_trials_to_within_2pct", reached + 1)
    print(f"grid: {grid.trials} trials; TPE within 2% after {reached + 1} trials")
    assert reached + 1 <= grid.trials // 3


def test_hyperband_makes_fewer_model_calls_for_the_same_budget_and_best_score(
    home, emu, record_property
):
    emu.reset_counts()
    plain = study(home, emu, strategy="bayesian", trials=20, seed=3, study_name="plain")
    plain_calls = emu.count("/api/chat")
    emu.reset_counts()
    pruned = study(home, emu, strategy="hyperband", trials=20, seed=3, study_name="pruned")
    pruned_calls = emu.count("/api/chat")
    record_property("calls_without_pruning", plain_calls)
    record_property("calls_with_hyperband", pruned_calls)
    print(f"model calls: {plain_calls} without pruning, {pruned_calls} with Hyperband")
    assert plain_calls == 20 * 12  # every row of every trial
    assert pruned.pruned > 0 and pruned_calls < plain_calls
    assert pruned.best_value == plain.best_value == 1.0


def test_optuna_reads_the_apps_study_with_its_user_attributes(home, emu):
    study(home, emu, strategy="random", trials=4, seed=1, study_name="readable")
    url = f"sqlite:///{home / 'optuna.db'}"  # the default: beside the registry
    loaded = optuna.load_study(study_name="readable", storage=url)
    assert loaded.user_attrs["model"] == MODEL and loaded.user_attrs["suite"] == "Echo"
    assert loaded.user_attrs["units"] == ["score"]
    assert len(loaded.trials) == 4
    for trial in loaded.trials:
        assert trial.state is optuna.trial.TrialState.COMPLETE
        assert trial.user_attrs["model"] == MODEL and trial.user_attrs["suite"] == "Echo"
        assert trial.user_attrs["units"] == ["score"]
        assert trial.user_attrs["quality"] == trial.value
        assert set(trial.params) == {"temperature", "top_p"}


def test_balance_quality_speed_finds_a_pareto_front(home, emu):
    summary = study(
        home,
        emu,
        strategy="evolutionary",
        objectives=["balance_quality_speed"],
        trials=10,
        seed=2,
        study_name="front",
    )
    assert summary.directions == ["maximize", "minimize"]
    assert summary.best_value is None and summary.best_values is not None
    assert summary.pareto and all(len(t.values) == 2 for t in summary.pareto)
    for a in summary.pareto:  # nothing on the front is beaten on both objectives by another
        assert not any(
            (b.values[0] >= a.values[0] and b.values[1] < a.values[1]) or
            (b.values[0] > a.values[0] and b.values[1] <= a.values[1])
            for b in summary.pareto
        )  # fmt: skip


def test_memory_objective_prefers_the_smallest_context_as_api_ps_reports_it(home, emu):
    summary = study(
        home,
        emu,
        strategy="grid",
        objectives=["minimize_memory"],
        trials=3,
        space=[parse_range("num_ctx=2048:6144:2048")],
        study_name="memory",
    )
    ctx = context(home, emu)
    trials = {
        t.params["num_ctx"]: t.value for t in ctx.optimization(tracked=False).trials("memory")
    }
    assert summary.best_params == {"num_ctx": 2048}
    assert trials[2048] < trials[4096] < trials[6144]  # KV cache grows with the context
    assert summary.units == ["bytes"]
