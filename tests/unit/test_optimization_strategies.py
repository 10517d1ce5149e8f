"""Each strategy is the Optuna sampler the issue names; objectives have directions and units."""

from __future__ import annotations

import optuna
import pytest

from desktop_registry.domain.optimization import Objective, Strategy
from desktop_registry.errors import UserInputError
from desktop_registry.services.optimization import strategies
from desktop_registry.services.optimization.space import parse_range

SPACE = [parse_range("temperature=0:1:0.5"), parse_range("top_p=0.5:1")]


@pytest.mark.parametrize(
    ("strategy", "objectives", "sampler"),
    [
        (Strategy.GRID, 1, optuna.samplers.GridSampler),
        (Strategy.RANDOM, 1, optuna.samplers.RandomSampler),
        (Strategy.BAYESIAN, 1, optuna.samplers.TPESampler),
        (Strategy.HYPERBAND, 1, optuna.samplers.TPESampler),
        (Strategy.EVOLUTIONARY, 1, optuna.samplers.CmaEsSampler),
        (Strategy.EVOLUTIONARY, 2, optuna.samplers.NSGAIISampler),
    ],
)
def test_each_strategy_is_the_optuna_sampler_the_issue_maps_it_to(strategy, objectives, sampler):
    assert type(strategies.sampler_for(strategy, SPACE, objectives, seed=1)) is sampler


def test_only_hyperband_prunes_and_it_needs_one_objective():
    assert isinstance(
        strategies.pruner_for(Strategy.HYPERBAND, 1, rows=12), optuna.pruners.HyperbandPruner
    )
    assert isinstance(strategies.pruner_for(Strategy.BAYESIAN, 1, 12), optuna.pruners.NopPruner)
    with pytest.raises(UserInputError, match="hyperband"):
        strategies.pruner_for(Strategy.HYPERBAND, 2, 12)


def test_cma_es_refuses_a_space_of_choices_only():
    with pytest.raises(UserInputError, match="evolutionary"):
        strategies.sampler_for(Strategy.EVOLUTIONARY, [parse_range("top_k=1,2")], 1, None)


def test_balance_quality_speed_is_a_real_two_objective_study():
    objectives = strategies.expand_objectives([Objective.BALANCE_QUALITY_SPEED], None)
    assert objectives == [Objective.MAXIMIZE_QUALITY, Objective.MINIMIZE_LATENCY]
    assert strategies.directions(objectives, None) == ["maximize", "minimize"]
    assert strategies.units(objectives, None) == ["score", "ms"]


def test_a_weighted_balance_is_one_score_only_when_asked():
    objectives = strategies.expand_objectives([Objective.BALANCE_QUALITY_SPEED], [1.0, 0.5])
    assert strategies.directions(objectives, [1.0, 0.5]) == ["maximize"]
    metrics = {"quality": 0.8, "latency_p50_ms": 400.0}
    assert strategies.objective_values(metrics, objectives, [1.0, 0.5]) == [pytest.approx(0.6)]


def test_three_objectives_or_a_repeated_one_are_refused():
    with pytest.raises(UserInputError, match="one or two"):
        strategies.expand_objectives(
            [Objective.BALANCE_QUALITY_SPEED, Objective.MINIMIZE_MEMORY], None
        )
    with pytest.raises(UserInputError, match="once"):
        strategies.expand_objectives([Objective.MINIMIZE_LATENCY] * 2, None)


def test_a_missing_measure_fails_the_trial_instead_of_inventing_a_value():
    values = strategies.objective_values({"memory_bytes": None}, [Objective.MINIMIZE_MEMORY], None)
    assert values is None


def test_suggested_steps_are_the_values_a_user_wrote():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        options = strategies.suggest(study.ask(), [parse_range("temperature=0:1:0.1")])
        assert round(options["temperature"] * 10) / 10 == options["temperature"]
