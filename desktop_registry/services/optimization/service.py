"""Parameter optimization studies: create or join a study, run trials, read results, make a variant.

Never keeps a study's truth anywhere but Optuna's storage, so optuna-dashboard, other workers and
a resumed process all see the same trials; never loses a finished trial.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from desktop_registry.domain import ModelRecord
from desktop_registry.domain.optimization import (
    Objective,
    ParameterRange,
    Strategy,
    StudyRequest,
    StudySummary,
    TrialProgress,
    TrialResult,
)
from desktop_registry.errors import (
    NotFoundError,
    RegistryError,
    SourceUnreachableError,
    UserInputError,
)
from desktop_registry.services.evaluation.runner import EvaluationRunner
from desktop_registry.services.evaluation.suite import EvalSuite, load_prompt_yml, parse_prompt_yml
from desktop_registry.services.optimization import strategies
from desktop_registry.services.optimization.results import summarize_study, trial_result
from desktop_registry.services.optimization.space import (
    default_space,
    fit_num_ctx,
    grid_values,
    merge_space,
    validate_space,
)
from desktop_registry.services.optimization.storage import (
    HEARTBEAT_S,
    WORKER_ATTR,
    open_storage,
    public_url,
    reclaim_dead_trials,
    this_worker,
)
from desktop_registry.services.optimization.trial import MemoryProbe, run_trial

if TYPE_CHECKING:
    from desktop_registry.services.experiments.service import ExperimentService

TrialCallback = Callable[[TrialProgress], None]
Ranges = list[ParameterRange]  # aliases: `OptimizationService.list` shadows the builtin
Objectives = list[Objective]
Weights = list[float] | None
Trials = list[TrialResult]
STUDY_KEY = "optimization_study"  # a variant's parameters: the study it came from (lineage)
States = optuna.trial.TrialState
MAX_FAILED_IN_A_ROW = 3  # then the study stops with the last trial's error
COUNTED = (States.COMPLETE, States.PRUNED, States.RUNNING)  # what spends the trial budget


class _GridSampler(optuna.samplers.GridSampler):
    """GridSampler asks Study.stop() when the grid is done, which only works inside optimize();
    the budget below already stops at the grid's size."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        with contextlib.suppress(RuntimeError):
            super().after_trial(study, trial, state, values)


def source_kind(record: ModelRecord) -> str:
    if record.source.value == "openai_compatible" and "llamacpp" in (record.tags or []):
        return "llamacpp"
    return record.source.value


class OptimizationService:
    """Studies on Optuna's RDB storage; a trial is one suite run through the evaluation runner."""

    def __init__(
        self,
        evaluation: EvaluationRunner,
        storage_url: str,
        *,
        import_suite: Callable[[Path], EvalSuite] | None = None,
        memory: MemoryProbe | None = None,
        fits_num_ctx: Callable[[ModelRecord, int], str | None] | None = None,
        experiments: Callable[[], ExperimentService] | None = None,
        tracker: Any = None,
    ) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.evaluation = evaluation
        self.storage_url = storage_url
        self.import_suite = import_suite
        self.memory = memory
        self.fits_num_ctx = fits_num_ctx
        self.experiments = experiments
        self.tracker = tracker
        self._storages: dict[str, optuna.storages.RDBStorage] = {}

    # ----- storage and studies ------------------------------------------------------------
    def storage(self, url: str | None = None) -> optuna.storages.RDBStorage:
        url = url or self.storage_url
        if url not in self._storages:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                try:
                    self._storages[url] = open_storage(url)
                except SourceUnreachableError:  # two workers creating the schema at once
                    time.sleep(1.0)
                    self._storages[url] = open_storage(url)
        return self._storages[url]

    def summary_storage(self, url: str | None = None) -> str:
        """The storage URL as a user may see it (no password)."""
        return public_url(url or self.storage_url)

    def load(self, name: str, storage: str | None = None) -> optuna.Study:
        try:
            return optuna.load_study(study_name=name, storage=self.storage(storage))
        except KeyError:
            known = ", ".join(self.study_names(storage)[:10]) or "none yet"
            raise NotFoundError(
                f"No study named {name!r} in {public_url(storage or self.storage_url)} "
                f"(known: {known})."
            ) from None

    def study_names(self, storage: str | None = None) -> list[str]:
        return [s.study_name for s in optuna.get_all_study_summaries(self.storage(storage))]

    def list(self, storage: str | None = None) -> list[StudySummary]:
        url = storage or self.storage_url
        return [self.summary(name, url) for name in self.study_names(url)]

    def summary(self, name: str, storage: str | None = None) -> StudySummary:
        url = storage or self.storage_url
        return summarize_study(self.load(name, url), public_url(url))

    def trials(self, name: str, storage: str | None = None) -> Trials:
        return [trial_result(t) for t in self.load(name, storage).get_trials(deepcopy=False)]

    # ----- preparing ----------------------------------------------------------------------
    def _suite(self, name: str) -> tuple[EvalSuite, str]:
        """The suite and its file text (kept in the study, so any worker can run it)."""
        path = Path(name)
        if name.endswith((".yml", ".yaml")) and path.exists():
            suite = self.import_suite(path) if self.import_suite else load_prompt_yml(path)
        else:
            suite = self.evaluation.suite(name)
        return suite, suite.source_text

    def prepare(self, request: StudyRequest) -> str:
        """Check everything, then create the study (or join one of that name); returns its name."""
        record = self.evaluation.models.resolve(request.model)
        suite, text = self._suite(request.suite)
        if request.trials < 1:
            raise UserInputError("trials: run at least one trial.")
        if request.timeout_min is not None and request.timeout_min <= 0:
            raise UserInputError("timeout-min: give minutes above 0.")
        objectives = strategies.expand_objectives(request.objectives, request.weights)
        source = source_kind(record)
        space = merge_space(default_space(request.model_type, source), [])
        if request.space:
            names = {p.name for p in request.space}
            space = [p for p in space if p.name in names] if request.space else space
            space = merge_space(space, request.space)
        space = validate_space(space, source)
        fit = self.fits_num_ctx
        space, notes = fit_num_ctx(space, (lambda n: fit(record, n)) if fit else None)
        if not space:
            raise UserInputError("space: nothing left to search once num_ctx was left out.")
        directions = strategies.directions(objectives, request.weights)
        strategies.pruner_for(request.strategy, len(directions), len(suite.rows()))  # refuses early
        strategies.sampler_for(request.strategy, space, len(directions), request.seed)
        budget = request.trials
        if request.strategy is Strategy.GRID:
            size = 1
            for p in space:
                size *= len(grid_values(p))
            if budget > size:
                notes.append(f"grid has {size} points: {budget} trials capped at {size}")
                budget = size
        name = request.study_name or _study_name(record.name, suite.name, request.strategy)
        try:
            study = optuna.create_study(
                study_name=name,
                storage=self.storage(request.storage),
                directions=directions,  # type: ignore[arg-type]
                load_if_exists=True,
            )
        except optuna.exceptions.DuplicatedStudyError:  # another worker created it just now
            study = self.load(name, request.storage)
        if study.user_attrs.get("model") not in (None, record.name):
            raise UserInputError(
                f"study {name!r} already tunes {study.user_attrs['model']}; choose another name."
            )
        if "model" not in study.user_attrs:
            attrs: dict[str, Any] = {
                "model": record.name,
                "suite": suite.name,
                "suite_source": text,
                "objectives": [o.value for o in objectives],
                "weights": request.weights,
                "units": strategies.units(objectives, request.weights),
                "strategy": request.strategy.value,
                "seed": request.seed,
                "model_type": request.model_type.value,
                "space": [p.model_dump(mode="json") for p in space],
                "notes": notes,
                "budget": budget,
                "timeout_min": request.timeout_min,
                "app": "desktop-registry",
            }
            for key, value in attrs.items():
                study.set_user_attr(key, value)
        return name

    # ----- running ------------------------------------------------------------------------
    async def optimize(
        self,
        request: StudyRequest,
        *,
        on_trial: TrialCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> StudySummary:
        """Create (or join) the study and run trials until its budget is spent."""
        name = self.prepare(request)
        return await self.run(name, storage=request.storage, on_trial=on_trial, cancel=cancel)

    async def run(
        self,
        name: str,
        *,
        storage: str | None = None,
        extra_trials: int | None = None,
        on_trial: TrialCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> StudySummary:
        """Run (or resume) a study: a dead worker's trial is failed and retried first; stops at
        the budget (trials), the time budget, or `cancel`."""
        study = self.load(name, storage)
        attrs = study.user_attrs
        reclaim_dead_trials(study)
        if extra_trials is not None:
            if extra_trials < 1:
                raise UserInputError("trials: run at least one more trial.")
            study.set_user_attr("budget", _counted(study) + extra_trials)
        budget = int(study.user_attrs.get("budget") or 0)
        space = [ParameterRange.model_validate(p) for p in attrs.get("space", [])]
        objectives = [Objective(o) for o in attrs.get("objectives", [])]
        weights = attrs.get("weights")
        strategy = Strategy(attrs.get("strategy", "bayesian"))
        suite = parse_prompt_yml(str(attrs.get("suite_source") or ""), origin=str(attrs["suite"]))
        record = self.evaluation.models.resolve(str(attrs["model"]))
        seed = attrs.get("seed")
        sampler = strategies.sampler_for(strategy, space, len(study.directions), seed)
        if isinstance(sampler, optuna.samplers.GridSampler):
            sampler = _GridSampler({p.name: grid_values(p) for p in space}, seed=seed)
        study.sampler = sampler
        study.pruner = strategies.pruner_for(strategy, len(study.directions), len(suite.rows()))
        timeout_min = attrs.get("timeout_min")
        deadline = time.monotonic() + 60 * float(timeout_min) if timeout_min else None
        started, ran = time.monotonic(), 0
        stop = cancel or asyncio.Event()
        report_metric = strategies.METRICS[objectives[0]][0] if not weights else "quality"
        failed_in_a_row = 0
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            reclaim_dead_trials(study)
            if _counted(study) >= budget:
                break
            with warnings.catch_warnings():  # heartbeats are recorded by _one, not optimize()
                warnings.simplefilter("ignore", UserWarning)
                trial = study.ask()
            if _counted(study, before=trial.number) >= budget:  # another worker took the last
                study.tell(trial, state=States.FAIL)
                study._storage.set_trial_user_attr(trial._trial_id, "over_budget", True)
                break
            failure = await self._one(trial, study, suite, record, space, objectives, weights,
                                      report_metric, stop)  # fmt: skip
            ran += 1
            if on_trial is not None:
                on_trial(self._progress(study, trial.number, budget, started, ran))
            failed_in_a_row = failed_in_a_row + 1 if failure is not None else 0
            # Failed trials do not spend the budget, so a server that is down would be asked
            # for ever: stop at once when nothing answers, or after a few failures in a row.
            if failure is not None and (
                isinstance(failure, SourceUnreachableError)
                or failed_in_a_row >= MAX_FAILED_IN_A_ROW
            ):
                failure.message = (
                    f"{failure.message} The study {name!r} stopped after {failed_in_a_row} "
                    f"failed trial(s) in a row; fix that, then `optimize resume {name}`."
                )
                failure.args = (failure.message,)
                raise failure
        return self.summary(name, storage)

    async def _one(
        self,
        trial: optuna.Trial,
        study: optuna.Study,
        suite: EvalSuite,
        record: ModelRecord,
        space: Ranges,
        objectives: Objectives,
        weights: Weights,
        report_metric: str,
        stop: asyncio.Event,
    ) -> RegistryError | None:
        """Run one trial and tell the study; the error a failed trial ended with, else None."""
        storage = study._storage
        trial.set_user_attr(WORKER_ATTR, this_worker())
        for key in ("model", "suite"):
            trial.set_user_attr(key, study.user_attrs.get(key))
        trial.set_user_attr("units", study.user_attrs.get("units"))
        try:
            options = strategies.suggest(trial, space)
        except ImportError as exc:  # e.g. CMA-ES without the cmaes package
            study.tell(trial, state=States.FAIL)
            raise UserInputError(
                f"strategy {study.user_attrs.get('strategy')}: needs the Python package "
                f"{exc.name!r}; install it (pip install {exc.name}) or choose another strategy."
            ) from None
        pruning = not isinstance(study.pruner, optuna.pruners.NopPruner)

        def on_row(value: float, step: int) -> bool:
            if not pruning:
                return False
            trial.report(value, step)
            return trial.should_prune()

        async def heartbeat() -> None:
            while True:
                storage.record_heartbeat(trial._trial_id)  # type: ignore[attr-defined]
                await asyncio.sleep(HEARTBEAT_S)

        beat = asyncio.ensure_future(heartbeat())
        try:
            outcome = await run_trial(
                self.evaluation, suite, record, options, report_metric=report_metric,
                on_row=on_row, cancel=stop, memory=self.memory,
            )  # fmt: skip
        except asyncio.CancelledError:
            _give_back(study, trial, options)
            raise
        except RegistryError as exc:
            trial.set_user_attr("error", str(exc))
            study.tell(trial, state=States.FAIL)
            return exc
        except Exception:  # a bug: the trial must not stay RUNNING in the shared storage
            study.tell(trial, state=States.FAIL)
            raise
        finally:
            beat.cancel()
        for key, value in outcome.metrics.items():
            if value is not None:
                trial.set_user_attr(key, value)
        trial.set_user_attr("eval_run_id", outcome.run_id)
        trial.set_user_attr("rows", f"{outcome.rows_done}/{outcome.rows_total}")
        if outcome.stopped and stop.is_set():  # cancelled: the trial is asked again later
            _give_back(study, trial, options)
            return None
        if outcome.stopped:
            study.tell(trial, state=States.PRUNED)
            return None
        values = strategies.objective_values(outcome.metrics, objectives, weights)
        if values is None:
            trial.set_user_attr("error", "a measure the objective needs was not reported")
            study.tell(trial, state=States.FAIL)
            return None
        study.tell(trial, values)
        return None

    def _progress(
        self, study: optuna.Study, number: int, budget: int, started: float, ran: int
    ) -> TrialProgress:
        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
        summary = summarize_study(study, "", with_importances=False)
        done = _counted(study, states=(States.COMPLETE, States.PRUNED))
        per_trial = (time.monotonic() - started) / max(ran, 1)
        return TrialProgress(
            study=study.study_name,
            trial=trial_result(frozen),
            finished=done,
            total=budget,
            best_value=summary.best_value,
            best_values=summary.best_values,
            best_params=summary.best_params,
            eta_s=max(0, budget - done) * per_trial,
        )

    # ----- results --------------------------------------------------------------------------
    async def create_variant(
        self, name: str, variant_name: str, storage: str | None = None
    ) -> ModelRecord:
        """A parameter-tuning variant with the best options, its lineage naming the study."""
        summary = self.summary(name, storage)
        if not summary.best_params:
            raise UserInputError(f"study {name!r} has no finished trial yet; run it first.")
        if self.experiments is None:
            raise UserInputError("Variants cannot be created here (no experiment service).")
        recipe = {
            "type": "parameter_tuning",
            "name": variant_name,
            "base": summary.model,
            "options": dict(summary.best_params),
            "description": f"best of optimization study {name} (trial {summary.best_trial})",
        }
        lineage = {"study": name, "storage": summary.storage, "trial": summary.best_trial,
                   "best_value": summary.best_value, "best_values": summary.best_values,
                   "objectives": [o.value for o in summary.objectives]}  # fmt: skip
        record = await self.experiments().create(recipe)
        models = self.evaluation.models
        assert record.id is not None
        models.add_history("optimized", model_id=record.id, detail=lineage, actor="app")
        return models.update(record.id, parameters={**record.parameters, STUDY_KEY: lineage})

    async def log_to_mlflow(self, summary: StudySummary) -> str:
        """The study summary as one MLflow run (experiment "optimization"); a warning on failure."""
        if self.tracker is None or not summary.best_params:
            return ""
        metrics = {"trials": float(summary.trials), "pruned": float(summary.pruned)}
        if summary.best_value is not None:
            metrics["best_value"] = summary.best_value
        for i, v in enumerate(summary.best_values or []):
            metrics[f"best_value_{i}"] = v
        recipe = {"study": summary.study, "storage": summary.storage, "model": summary.model,
                  "suite": summary.suite, "strategy": summary.strategy,
                  "objectives": [o.value for o in summary.objectives],
                  "best_params": summary.best_params, "importances": summary.importances}  # fmt: skip
        try:
            run = await asyncio.to_thread(
                self.tracker.track_variant, experiment="optimization",
                model_name=summary.study, experiment_type="optimization_study",
                source=summary.model, recipe=recipe, metrics=metrics, register=False,
            )  # fmt: skip
        except RegistryError as exc:
            return f"study summary not logged to MLflow ({exc})"
        return str(run.run_id)


def _counted(
    study: optuna.Study, *, before: int | None = None, states: tuple[Any, ...] = COUNTED
) -> int:
    trials = study.get_trials(deepcopy=False, states=states)
    return sum(1 for t in trials if before is None or t.number < before)


def _give_back(study: optuna.Study, trial: optuna.Trial, options: dict[str, Any]) -> None:
    """A trial stopped by cancel is failed and its options queued, so a resume asks them again."""
    try:
        trial.set_user_attr("error", "cancelled; queued again")
        study.tell(trial, state=States.FAIL)
        study.enqueue_trial(options, user_attrs={"retry_of": trial.number})
    except (RuntimeError, ValueError):
        pass  # already told (another path ended it): nothing is lost


def _study_name(model: str, suite: str, strategy: Strategy) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{model}-{suite}").strip("-")
    return f"{slug}-{strategy.value}-{stamp}"
