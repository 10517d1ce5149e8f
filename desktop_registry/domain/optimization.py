"""What a parameter optimization study is, as the panel, the CLI and the service share it.

Pure pydantic data: never runs a trial, touches Optuna or checks a space against a server
(services/optimization/ does that and refuses bad spaces naming the field).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Strategy(StrEnum):
    """How trials are chosen (the brief's words; each maps to one Optuna sampler/pruner)."""

    GRID = "grid"  # GridSampler
    RANDOM = "random"  # RandomSampler
    BAYESIAN = "bayesian"  # TPESampler
    EVOLUTIONARY = "evolutionary"  # CmaEsSampler (one objective) / NSGAIISampler (two)
    HYPERBAND = "hyperband"  # TPESampler + HyperbandPruner fed per suite row


class Objective(StrEnum):
    MAXIMIZE_QUALITY = "maximize_quality"  # the suite's mean score
    MINIMIZE_LATENCY = "minimize_latency"  # p50 ms per row
    MINIMIZE_MEMORY = "minimize_memory"  # bytes the server reports (or the estimator)
    MAXIMIZE_THROUGHPUT = "maximize_throughput"  # tokens/s
    BALANCE_QUALITY_SPEED = "balance_quality_speed"  # two objectives: quality and latency


class ModelType(StrEnum):
    """Which default search space a study starts from."""

    GENERAL = "general"
    CODE = "code"
    CREATIVE = "creative"
    ANALYSIS = "analysis"


class ParameterRange(BaseModel):
    """One searched option: a numeric range (`low`..`high`, optional `step`, `log`) or `choices`."""

    name: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    integer: bool = False  # top_k, num_ctx, num_predict, seed are whole numbers
    choices: list[Any] | None = None

    @property
    def categorical(self) -> bool:
        return self.choices is not None

    def describe(self) -> str:
        """The CLI's own spelling: `name=low:high[:step]` or `name=a,b,c`."""
        if self.choices is not None:
            return f"{self.name}=" + ",".join(str(c) for c in self.choices)
        tail = "" if self.step is None else f":{_num(self.step)}"
        return f"{self.name}={_num(self.low)}:{_num(self.high)}{tail}"


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


class StudyRequest(BaseModel):
    """Everything needed to start (or, by `study_name`, continue) a study."""

    model: str
    suite: str  # a stored suite name or a `.prompt.yml` path
    objectives: list[Objective] = Field(default_factory=lambda: [Objective.MAXIMIZE_QUALITY])
    strategy: Strategy = Strategy.BAYESIAN
    trials: int = 20
    timeout_min: float | None = None
    seed: int | None = None
    space: list[ParameterRange] = Field(default_factory=list)  # empty: the model type's defaults
    model_type: ModelType = ModelType.GENERAL
    storage: str | None = None  # any SQLAlchemy URL; None: the SQLite file in the data dir
    study_name: str | None = None  # None: "<model>-<suite>-<strategy>-<time>"
    weights: list[float] | None = None  # balance_quality_speed as one weighted score, if asked


class TrialState(StrEnum):
    """Optuna's trial states, by name."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"
    WAITING = "WAITING"


class TrialResult(BaseModel):
    """One trial as the trials table and the charts show it."""

    number: int
    state: TrialState
    params: dict[str, Any] = Field(default_factory=dict)
    values: list[float] | None = None  # one per objective; None unless COMPLETE
    user_attrs: dict[str, Any] = Field(default_factory=dict)
    duration_s: float | None = None

    @property
    def value(self) -> float | None:
        return self.values[0] if self.values else None


class StudySummary(BaseModel):
    """A study as the panel, `optimize best` and MLflow show it."""

    study: str
    storage: str  # the URL with any password removed
    model: str = ""
    suite: str = ""
    strategy: str = ""
    objectives: list[Objective] = Field(default_factory=list)
    directions: list[str] = Field(default_factory=list)  # "maximize"/"minimize" per objective
    trials: int = 0  # finished (COMPLETE) trials
    pruned: int = 0
    failed: int = 0
    best_value: float | None = None  # one objective
    best_values: list[float] | None = None  # two objectives: the first Pareto trial's values
    best_params: dict[str, Any] = Field(default_factory=dict)
    best_trial: int | None = None
    pareto: list[TrialResult] = Field(default_factory=list)
    importances: dict[str, float] = Field(default_factory=dict)
    units: list[str] = Field(default_factory=list)  # per objective: "score", "ms", "bytes", "tok/s"
    notes: list[str] = Field(default_factory=list)  # e.g. "num_ctx 32768 left out: needs 9 GB"
    created_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class TrialProgress(BaseModel):
    """What the per-trial callback hears after each trial ends (the panel's live charts)."""

    study: str
    trial: TrialResult
    finished: int  # trials ended so far, any state
    total: int  # the budget (trials), 0 when only a time budget is set
    best_value: float | None = None
    best_values: list[float] | None = None
    best_params: dict[str, Any] = Field(default_factory=dict)
    eta_s: float | None = None
