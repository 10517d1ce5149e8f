"""CLI: `optimize run|resume|best|list|variant` — parameter optimization studies (issue 13).

With --json the last line printed is one JSON object (scripts read it); progress goes to stderr.
Exit codes follow cli.py; never prints a storage password.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import run_coroutine

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.optimization import StudySummary, TrialProgress

STRATEGIES = ("grid", "random", "bayesian", "evolutionary", "hyperband")
OBJECTIVES = (
    "maximize_quality",
    "minimize_latency",
    "minimize_memory",
    "maximize_throughput",
    "balance_quality_speed",
)
MODEL_TYPES = ("general", "code", "creative", "analysis")


def _progress(p: TrialProgress) -> None:
    from desktop_registry.services.optimization.job import progress_line

    t = p.trial
    values = ", ".join(f"{v:.4g}" for v in t.values) if t.values else "-"
    params = " ".join(f"{k}={v}" for k, v in t.params.items())
    print(f"  trial {t.number} {t.state.value:<8} {values:<16} {params}", file=sys.stderr)
    print(f"  {progress_line(p)}", file=sys.stderr)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _print_summary(
    summary: StudySummary, as_json: bool, extra: dict[str, Any] | None = None
) -> None:
    data = summary.as_json()
    if as_json:
        print(json.dumps({**data, **(extra or {})}, default=str))  # one line: the last one
        return
    units = summary.units or [""]
    print(f"Study {summary.study} ({summary.strategy}) in {summary.storage}")
    print(f"  model {summary.model}, suite {summary.suite!r}")
    print(f"  {summary.trials} finished, {summary.pruned} pruned, {summary.failed} failed")
    if summary.best_value is not None:
        print(f"  best value: {summary.best_value:.4g} {units[0]} (trial {summary.best_trial})")
    if summary.best_values is not None:
        shown = ", ".join(f"{v:.4g} {u}" for v, u in zip(summary.best_values, units, strict=False))
        print(f"  best values: {shown} (trial {summary.best_trial}); Pareto front:")
        for t in summary.pareto:
            vals = ", ".join(f"{v:.4g}" for v in t.values or [])
            print(f"    trial {t.number}: {vals}  {t.params}")
    if summary.best_params:
        print(
            "  best parameters: "
            + " ".join(f"{k}={_fmt(v)}" for k, v in summary.best_params.items())
        )
    if summary.importances:
        print("  importances: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.importances.items()))
    for note in summary.notes:
        print(f"  note: {note}")


def _finish(ctx: AppContext, summary: StudySummary) -> dict[str, Any]:
    """Log the summary to MLflow when a store exists; a failure is a warning, not an error."""
    service = ctx.optimization()
    result = run_coroutine(service.log_to_mlflow(summary))
    if result.startswith("study summary not logged"):
        print(f"warning: {result}", file=sys.stderr)
        return {}
    return {"mlflow_run_id": result} if result else {}


def cmd_run(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.domain.optimization import StudyRequest
    from desktop_registry.services.optimization.space import parse_range

    objectives = args.objective or ["maximize_quality"]
    request = StudyRequest(
        model=args.model,
        suite=args.suite,
        objectives=objectives,
        strategy=args.strategy,
        trials=args.trials,
        timeout_min=args.timeout_min,
        seed=args.seed,
        space=[parse_range(s) for s in args.space or []],
        model_type=args.model_type,
        storage=args.storage,
        study_name=args.study,
        weights=[float(w) for w in args.weights.split(",")] if args.weights else None,
    )
    service = ctx.optimization()

    async def go() -> StudySummary:
        try:
            name = service.prepare(request)
            print(f"Study {name} (resume with `optimize resume {name}`)", file=sys.stderr)
            return await service.run(name, storage=request.storage, on_trial=_progress)
        finally:
            await ctx.aclose()

    summary = run_coroutine(go())
    _print_summary(summary, args.json, _finish(ctx, summary))
    return 0


def cmd_resume(args: argparse.Namespace, ctx: AppContext) -> int:
    service = ctx.optimization()

    async def go() -> StudySummary:
        try:
            return await service.run(
                args.study, storage=args.storage, extra_trials=args.trials, on_trial=_progress
            )
        finally:
            await ctx.aclose()

    summary = run_coroutine(go())
    _print_summary(summary, args.json, _finish(ctx, summary))
    return 0


def cmd_best(args: argparse.Namespace, ctx: AppContext) -> int:
    _print_summary(ctx.optimization(tracked=False).summary(args.study, args.storage), args.json)
    return 0


def cmd_list(args: argparse.Namespace, ctx: AppContext) -> int:
    service = ctx.optimization(tracked=False)
    studies = service.list(args.storage)
    if args.json:
        rows = [
            {k: s.as_json()[k] for k in ("study", "model", "suite", "strategy", "trials",
                                         "best_value", "best_values", "best_params")}
            for s in studies
        ]  # fmt: skip
        print(json.dumps({"storage": service.summary_storage(args.storage), "studies": rows}))
        return 0
    if not studies:
        print(f"No studies yet in {service.summary_storage(args.storage)}.")
    for s in studies:
        best = s.best_value if s.best_value is not None else s.best_values
        print(f"{s.study:<48} {s.model:<24} {s.strategy:<12} {s.trials:>4} trials  best {best}")
    return 0


def cmd_variant(args: argparse.Namespace, ctx: AppContext) -> int:
    service = ctx.optimization()

    async def go() -> Any:
        try:
            return await service.create_variant(args.study, args.name, args.storage)
        finally:
            await ctx.aclose()

    record = run_coroutine(go())
    options = {k: v for k, v in record.parameters.items() if not isinstance(v, dict)}
    if args.json:
        print(json.dumps({"id": record.id, "name": record.name, "options": options}, default=str))
    else:
        print(f"Created {record.name} from study {args.study}: {options}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("optimize", help="parameter optimization studies (Optuna)")
    osub = p.add_subparsers(dest="optimize_command", required=True, metavar="ACTION")
    storage_help = "any SQLAlchemy URL (default: the optuna_storage setting, else optuna.db)"

    r = osub.add_parser("run", help="search generation options for a model on a suite")
    r.add_argument("model")
    r.add_argument("--suite", required=True, help="suite name or a .prompt.yml file")
    r.add_argument("--objective", action="append", choices=OBJECTIVES,
                   help="repeat for two objectives (default maximize_quality)")  # fmt: skip
    r.add_argument("--strategy", choices=STRATEGIES, default="bayesian")
    r.add_argument("--trials", type=int, required=True)
    r.add_argument("--timeout-min", type=float)
    r.add_argument("--seed", type=int)
    r.add_argument("--space", action="append", metavar="NAME=LOW:HIGH[:STEP]|NAME=a,b,c")
    r.add_argument("--model-type", choices=MODEL_TYPES, default="general")
    r.add_argument("--weights", help="balance_quality_speed as one score: QUALITY,SPEED weights")
    r.add_argument("--storage", help=storage_help)
    r.add_argument("--study", help="study name (join it if it exists: one more worker)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    r = osub.add_parser("resume", help="carry on a study (a killed run's trial is retried)")
    r.add_argument("study")
    r.add_argument("--trials", type=int, help="this many more trials (default: the budget left)")
    r.add_argument("--storage", help=storage_help)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_resume)

    r = osub.add_parser("best", help="a study's best parameters, Pareto front, importances")
    r.add_argument("study")
    r.add_argument("--storage", help=storage_help)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_best)

    r = osub.add_parser("list", help="studies in the storage")
    r.add_argument("--storage", help=storage_help)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_list)

    r = osub.add_parser("variant", help="a parameter-tuning variant from a study's best trial")
    r.add_argument("study")
    r.add_argument("--name", required=True)
    r.add_argument("--storage", help=storage_help)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_variant)
