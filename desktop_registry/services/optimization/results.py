"""A study read back as the app shows it: trials, best, Pareto front, parameter importances.

Never changes the study; reads only what Optuna (and optuna-dashboard) stores.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import optuna

from desktop_registry.domain.optimization import (
    Objective,
    StudySummary,
    TrialResult,
    TrialState,
)

MIN_TRIALS_FOR_IMPORTANCE = 4


def clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Optuna keeps 0.6000000000000001 for a stepped 0.6; show what the user set."""
    return {k: round(v, 10) if isinstance(v, float) else v for k, v in params.items()}


def trial_result(trial: optuna.trial.FrozenTrial) -> TrialResult:
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    return TrialResult(
        number=trial.number,
        state=TrialState(trial.state.name),
        params=clean_params(trial.params),
        values=list(trial.values) if trial.values is not None else None,
        user_attrs=dict(trial.user_attrs),
        duration_s=duration,
    )


def _finite(values: list[float] | None) -> bool:
    return values is not None and all(math.isfinite(v) for v in values)


def importances(study: optuna.Study, complete: list[optuna.trial.FrozenTrial]) -> dict[str, float]:
    """Optuna's evaluator, once there are two searched parameters and enough trials."""
    names = {n for t in complete for n in t.params}
    if len(names) < 2 or len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return {}
    varied = [n for n in names if len({repr(t.params.get(n)) for t in complete}) > 1]
    if len(varied) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(
                study, target=(lambda t: t.values[0]) if len(study.directions) > 1 else None
            )
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}  # e.g. every value equal: nothing to attribute
    return {k: float(v) for k, v in found.items() if math.isfinite(float(v))}


def summarize_study(
    study: optuna.Study, storage_url: str, *, with_importances: bool = True
) -> StudySummary:
    """Importances cost a fANOVA fit (hundreds of ms): live progress leaves them out."""
    attrs = study.user_attrs
    trials = study.get_trials(deepcopy=False)
    complete = [
        t for t in trials if t.state is optuna.trial.TrialState.COMPLETE and _finite(t.values)
    ]
    summary = StudySummary(
        study=study.study_name,
        storage=storage_url,
        model=str(attrs.get("model", "")),
        suite=str(attrs.get("suite", "")),
        strategy=str(attrs.get("strategy", "")),
        objectives=[Objective(o) for o in attrs.get("objectives", [])],
        directions=[d.name.lower() for d in study.directions],
        trials=len(complete),
        pruned=sum(t.state is optuna.trial.TrialState.PRUNED for t in trials),
        failed=sum(t.state is optuna.trial.TrialState.FAIL for t in trials),
        units=list(attrs.get("units", [])),
        notes=list(attrs.get("notes", [])),
        created_at=min((t.datetime_start for t in trials if t.datetime_start), default=None),
    )
    if not complete:
        return summary
    if len(study.directions) == 1:
        sign = 1 if study.direction is optuna.study.StudyDirection.MAXIMIZE else -1
        best = max(complete, key=lambda t: (sign * t.values[0], -t.number))
        summary.best_value = float(best.values[0])
    else:
        pareto = sorted(study.best_trials, key=lambda t: t.number)
        summary.pareto = [trial_result(t) for t in pareto]
        first = study.directions[0] is optuna.study.StudyDirection.MAXIMIZE
        best = max(pareto, key=lambda t: (t.values[0] if first else -t.values[0], -t.number))
        summary.best_values = [float(v) for v in best.values]
    summary.best_params = clean_params(best.params)
    summary.best_trial = best.number
    if with_importances:
        summary.importances = importances(study, complete)
    return summary
