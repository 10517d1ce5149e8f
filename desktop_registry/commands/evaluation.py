"""CLI: `eval run|resume|import|export|list`, `benchmark` and `compare` (see issue 6).

Exit codes: 0 done (failed tests are results, not errors), 1 bad input, 2 every request of a
model failed (its server is unreachable or failing). Never prints a secret.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import run_coroutine
from desktop_registry.errors import NotFoundError, UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.evaluation.runner import RunProgress
    from desktop_registry.services.evaluation.summary import ModelSummary


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def _fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "-" if value is None else pattern.format(value)


def _print_summaries(run_id: int, suite: str, summaries: list[ModelSummary], as_json: bool) -> int:
    if as_json:
        out = {"run_id": run_id, "suite": suite, "models": [s.as_json() for s in summaries]}
        print(json.dumps(out, indent=2))
    else:
        print(f"Run {run_id} of {suite!r}:")
        header = f"{'MODEL':<32} {'PASS':>9} {'SCORE':>6} {'P50 ms':>8} {'P95 ms':>8} {'TTFT ms':>8} {'TOK/S':>7} {'ERR':>4}"
        print(header)
        for s in summaries:
            print(
                f"{s.model:<32} {f'{s.passed}/{s.rows}':>9} {_fmt(s.mean_score, '{:.2f}'):>6} "
                f"{_fmt(s.latency_p50_ms):>8} {_fmt(s.latency_p95_ms):>8} {_fmt(s.ttft_ms):>8} "
                f"{_fmt(s.tokens_per_s):>7} {s.errors:>4}"
            )
    # every request failed (no reply at all): the model's server is unreachable or refusing
    dead = [s for s in summaries if s.rows and s.errors == s.rows and s.latency_p50_ms is None]
    return 2 if dead else 0


def _progress(progress: RunProgress) -> None:
    last = progress.last
    if last is not None and last.status == "error":
        print(f"  {last.model_name} row {last.row_index}: error: {last.error}", file=sys.stderr)
    if progress.done == progress.total or progress.done % 25 == 0:
        print(f"  {progress.done}/{progress.total} rows", file=sys.stderr)


def _limits(args: argparse.Namespace) -> dict[str, int]:
    """`--concurrency N` overrides Settings.eval_concurrency for every source of this run."""
    from desktop_registry.services.evaluation.runner import per_source_limits

    n = getattr(args, "concurrency", None)
    return {} if not n else per_source_limits(n)


def _concurrency(value: str) -> int:
    n = int(value)
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError("concurrency is from 1 to 64 requests per source")
    return n


CONCURRENCY_HELP = (
    "requests in flight per source (default: the eval_concurrency setting, "
    "DESKTOP_REGISTRY_EVAL_CONCURRENCY, 4 unless set)"
)


def cmd_eval_run(args: argparse.Namespace, ctx: AppContext) -> int:

    catalog = ctx.eval_suites()
    suite_name = args.suite
    if suite_name.endswith((".yml", ".yaml")) and Path(suite_name).exists():
        suite_name = catalog.import_file(Path(suite_name)).name
    else:
        catalog.ensure_shipped()
    runner = ctx.evaluation()
    runner.limits.update(_limits(args))
    run = runner.prepare(suite_name, _names(args.models), judge=args.judge)
    print(
        f"Run {run.id}: {run.total_rows} rows (resume with `eval resume {run.id}`)", file=sys.stderr
    )

    async def go() -> list[ModelSummary]:
        try:
            return await runner.run(run.id, on_progress=_progress)
        finally:
            await ctx.aclose()

    return _print_summaries(run.id, run.suite_name, run_coroutine(go()), args.json)


def cmd_eval_resume(args: argparse.Namespace, ctx: AppContext) -> int:

    runner = ctx.evaluation()
    runner.limits.update(_limits(args))
    run = ctx.evaluation_store().run(args.run_id)
    if run.kind != "eval":
        raise UserInputError(f"Run {run.id} is a {run.kind} run; only evaluations resume.")

    async def go() -> list[ModelSummary]:
        try:
            return await runner.run(run.id, on_progress=_progress)
        finally:
            await ctx.aclose()

    return _print_summaries(run.id, run.suite_name, run_coroutine(go()), args.json)


def cmd_eval_import(args: argparse.Namespace, ctx: AppContext) -> int:
    suite = ctx.eval_suites().import_file(Path(args.file))
    print(f"Imported {suite.name!r}: {len(suite.rows())} rows, {len(suite.evaluators)} evaluators")
    return 0


def cmd_eval_export(args: argparse.Namespace, ctx: AppContext) -> int:
    catalog = ctx.eval_suites()
    catalog.ensure_shipped()
    sys.stdout.write(catalog.export(args.suite))
    return 0


def cmd_eval_list(args: argparse.Namespace, ctx: AppContext) -> int:
    suites = ctx.eval_suites().list()
    if args.json:
        print(json.dumps([s.__dict__ for s in suites], indent=2))
        return 0
    for s in suites:
        print(f"{s.name:<28} {s.rows:>4} rows  {s.evaluators} evaluators  {s.description}")
    return 0


def cmd_benchmark(args: argparse.Namespace, ctx: AppContext) -> int:
    names = _names(args.models or "")
    versions: dict[str, str] = {}
    if args.slot:
        for version in ctx.versions(tracked=False).versions(args.slot):
            names.append(version.model_name)
            versions[version.model_name] = version.version
    if not names:
        raise UserInputError("Name models with --models A,B or a slot with --slot NAME.")
    service = ctx.benchmarks()
    service.repeats = args.repeats

    async def go() -> list[Any]:
        try:
            return await service.run(
                names, versions=versions, notes=f"slot {args.slot}" if args.slot else ""
            )
        finally:
            await ctx.aclose()

    reports = run_coroutine(go())
    if args.json:
        print(json.dumps([r.as_json() for r in reports], indent=2))
    else:
        for r in reports:
            figures = ", ".join(f"{k}={v:.4g}" for k, v in sorted(r.metrics.items()))
            label = f"{r.model} ({r.version})" if r.version not in ("", "latest") else r.model
            print(f"{label}: {figures or 'no figures'}")
    for r in reports:
        for error in r.errors:
            print(f"error: {r.model}: {error}", file=sys.stderr)
    return 2 if any(r.metrics.get("error_rate") == 1.0 for r in reports) else 0


def cmd_compare(args: argparse.Namespace, ctx: AppContext) -> int:
    rows: list[dict[str, Any]] = []
    known: set[str] = set()
    for name in args.models:
        record = ctx.models.resolve(name)
        assert record.id is not None
        history = ctx.models.performance(record.id)
        known.update(m.metric for m in history)
        values = [m for m in history if m.metric == args.metric]
        latest = values[-1] if values else None
        rows.append(
            {
                "model": record.name,
                "value": latest.value if latest else None,
                "version": latest.version if latest else "",
                "samples": len(values),
            }
        )
    if all(r["value"] is None for r in rows):
        hint = ", ".join(sorted(known)[:12]) or "none yet: run `benchmark` or `eval run` first"
        raise NotFoundError(f"No {args.metric!r} figures for these models (known metrics: {hint}).")
    if args.json:
        print(json.dumps({"metric": args.metric, "models": rows}, indent=2))
        return 0
    best = min if any(w in args.metric for w in ("latency", "ttft", "error")) else max
    top = best((r for r in rows if r["value"] is not None), key=lambda r: r["value"])
    for r in rows:
        mark = "  ← best" if r is top else ""
        print(f"{r['model']:<32} {_fmt(r['value'], '{:.4g}'):>10}{mark}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluation suites (.prompt.yml) across models")
    eval_sub = p.add_subparsers(dest="eval_command", required=True, metavar="ACTION")

    r = eval_sub.add_parser("run", help="run a suite against models")
    r.add_argument("suite", help="suite name (see `eval list`) or a .prompt.yml file")
    r.add_argument("--models", required=True, help="comma-separated registry names")
    r.add_argument("--judge", help="registry model that grades llm/judge evaluators")
    r.add_argument("--concurrency", type=_concurrency, help=CONCURRENCY_HELP)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_eval_run)

    r = eval_sub.add_parser("resume", help="finish the rows a stopped run has not done")
    r.add_argument("run_id", type=int)
    r.add_argument("--concurrency", type=_concurrency, help=CONCURRENCY_HELP)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_eval_resume)

    r = eval_sub.add_parser("import", help="import a .prompt.yml file")
    r.add_argument("file")
    r.set_defaults(func=cmd_eval_import)

    r = eval_sub.add_parser("export", help="print a suite as a .prompt.yml file")
    r.add_argument("suite", help="the suite's name")
    r.set_defaults(func=cmd_eval_export)

    r = eval_sub.add_parser("list", help="list suites")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_eval_list)

    p = sub.add_parser("benchmark", help="speed and quality benchmarks per model category")
    p.add_argument("--models", help="comma-separated registry names")
    p.add_argument("--slot", help="benchmark every version of this slot")
    p.add_argument("--repeats", type=int, default=2, help="times each text prompt is sent")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("compare", help="one metric side by side across models")
    p.add_argument("models", nargs="+")
    p.add_argument("--metric", default="latency_ms")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)
