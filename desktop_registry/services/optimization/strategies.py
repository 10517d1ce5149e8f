"""The brief's strategies and objectives as Optuna samplers, pruners, directions and units.

Never searches by hand: every choice of the next trial is Optuna's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna

from desktop_registry.domain.optimization import Objective, ParameterRange, Strategy
from desktop_registry.errors import UserInputError
from desktop_registry.services.optimization.space import grid_values

# What each objective measures, which way is better, and in which unit.
METRICS: dict[Objective, tuple[str, str, str]] = {
    Objective.MAXIMIZE_QUALITY: ("quality", "maximize", "score"),
    Objective.MINIMIZE_LATENCY: ("latency_p50_ms", "minimize", "ms"),
    Objective.MINIMIZE_MEMORY: ("memory_bytes", "minimize", "bytes"),
    Objective.MAXIMIZE_THROUGHPUT: ("tokens_per_s", "maximize", "tok/s"),
}
BALANCE = (Objective.MAXIMIZE_QUALITY, Objective.MINIMIZE_LATENCY)


def expand_objectives(
    objectives: Sequence[Objective], weights: Sequence[float] | None
) -> list[Objective]:
    """balance_quality_speed is two objectives (quality, latency) unless a weighted score is asked."""
    out: list[Objective] = []
    for o in objectives:
        out.extend(BALANCE if o is Objective.BALANCE_QUALITY_SPEED and not weights else [o])
    if not out:
        raise UserInputError("objective: name one (e.g. maximize_quality).")
    if len(set(out)) != len(out):
        raise UserInputError("objective: each objective may be named once.")
    if len(out) > 2:
        raise UserInputError("objective: a study optimizes one or two objectives, not more.")
    return out


def directions(objectives: Sequence[Objective], weights: Sequence[float] | None) -> list[str]:
    if weights:
        return ["maximize"]  # the weighted quality/speed score
    return [METRICS[o][1] for o in objectives]


def units(objectives: Sequence[Objective], weights: Sequence[float] | None) -> list[str]:
    if weights:
        return ["weighted score"]
    return [METRICS[o][2] for o in objectives]


def sampler_for(
    strategy: Strategy, space: Sequence[ParameterRange], objectives: int, seed: int | None
) -> optuna.samplers.BaseSampler:
    """grid → GridSampler, random → RandomSampler, bayesian/hyperband → TPESampler,
    evolutionary → CmaEsSampler for one objective, NSGAIISampler for two."""
    if strategy is Strategy.GRID:
        return optuna.samplers.GridSampler({p.name: grid_values(p) for p in space}, seed=seed)
    if strategy is Strategy.RANDOM:
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy is Strategy.EVOLUTIONARY:
        if objectives == 2:
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=8)
        if all(p.choices is not None for p in space):
            raise UserInputError(
                "strategy evolutionary: CMA-ES searches numeric ranges; give at least one "
                "LOW:HIGH range (or choose bayesian for lists of choices)."
            )
        return optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=1, warn_independent_sampling=False
        )
    # TPE learns from few trials; start modelling after a handful of random ones.
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5, multivariate=True)


def pruner_for(strategy: Strategy, objectives: int, rows: int) -> optuna.pruners.BasePruner:
    if strategy is not Strategy.HYPERBAND:
        return optuna.pruners.NopPruner()
    if objectives != 1:
        raise UserInputError(
            "strategy hyperband: pruning works on one objective; choose one objective or "
            "another strategy (evolutionary handles two)."
        )
    return optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=max(rows, 1), reduction_factor=3
    )


def suggest(trial: optuna.trial.BaseTrial, space: Sequence[ParameterRange]) -> dict[str, Any]:
    """The trial's options, asked of Optuna one range at a time."""
    out: dict[str, Any] = {}
    for p in space:
        if p.choices is not None:
            out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            continue
        assert p.low is not None and p.high is not None
        if p.integer:
            step = int(p.step) if p.step else 1
            out[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), step=step, log=p.log)
        else:
            value = trial.suggest_float(p.name, p.low, p.high, step=p.step, log=p.log)
            out[p.name] = round(value, 10) if p.step else value  # 0.6, not 0.6000000000000001
    return out


def objective_values(
    metrics: dict[str, float | None],
    objectives: Sequence[Objective],
    weights: Sequence[float] | None,
) -> list[float] | None:
    """The values Optuna is told, or None where a measure is missing (the trial then fails)."""
    if weights:  # quality up, latency down: score = w_q * quality - w_l * seconds
        q, lat = metrics.get("quality"), metrics.get("latency_p50_ms")
        if q is None or lat is None:
            return None
        wq, wl = ([*list(weights), 1.0, 1.0])[:2]
        return [wq * q - wl * lat / 1000.0]
    values = [metrics.get(METRICS[o][0]) for o in objectives]
    if any(v is None for v in values):
        return None
    return [float(v) for v in values if v is not None]
