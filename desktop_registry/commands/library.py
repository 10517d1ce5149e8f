"""CLI for the model library: `library search|import`, `estimate`, `recommend`, `hardware`, `compare-models`.

Never pulls or loads a model: everything here reads the catalog, the registry and this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json, print_table
from desktop_registry.domain.enums import LibraryCategory, SizeClass
from desktop_registry.domain.tasks import TASK_ALIASES, TASKS
from desktop_registry.errors import UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.library.compatibility import CompatibilityReport
    from desktop_registry.services.library.hardware import HardwareProfile

GIB = 1024**3


def _hardware_arg(args: argparse.Namespace) -> HardwareProfile | None:
    from desktop_registry.services.library.hardware import load_profile

    path: Path | None = getattr(args, "hardware_file", None)
    return load_profile(path) if path else None


def _gib(value: int | None) -> str:
    return f"{value / GIB:.1f} GiB" if value else "-"


# ----- library search / import ------------------------------------------------------------
def cmd_library_search(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.domain.library import LibraryQuery

    query = LibraryQuery(
        text=" ".join(args.query),
        category=LibraryCategory(args.category) if args.category else None,
        capability=args.capability,
        size_class=SizeClass(args.size_class) if args.size_class else None,
        min_performance=args.min_score,
        max_parameters=int(args.max_params * 1e9) if args.max_params else None,
        installed=args.installed,
        remote=args.remote,
        limit=args.limit,
    )
    library = ctx.library()
    results = library.search(query)
    if library.stale_reason:
        print(f"note: {library.stale_reason}", file=sys.stderr)
    if args.json:
        print_json(
            [
                {"relevance": r.relevance, **r.entry.model_dump(mode="json", exclude={"details"})}
                for r in results
            ]
        )
        return 0
    if not results:
        print("No models match. Loosen a filter, or import a newer catalog (`library import`).")
        return 0
    rows = [
        [
            r.entry.name,
            r.entry.parameter_size or "-",
            f"{r.entry.size_bytes / 1e9:.1f} GB" if r.entry.size_bytes else "-",
            ",".join(c.value for c in r.entry.categories),
            "installed" if r.entry.installed else ("remote" if r.entry.remote else "-"),
            f"{r.relevance:.2f}",
        ]
        for r in results
    ]
    print_table(rows, ["NAME", "PARAMS", "DOWNLOAD", "CATEGORIES", "STATE", "RELEVANCE"])
    return 0


def cmd_library_import(args: argparse.Namespace, ctx: AppContext) -> int:
    count = ctx.library().import_catalog(args.file)
    print(f"Imported {count} models from {args.file}; the library now uses this catalog.")
    return 0


# ----- estimate ----------------------------------------------------------------------------
def _print_report(report: CompatibilityReport) -> None:
    e = report.estimate
    print(
        f"{report.model or 'model'} at {e.context_length} tokens (x{e.parallel} slots, KV {e.kv_cache_type})"
    )
    print(f"  weights     {_gib(e.weights_bytes)}")
    print(f"  KV cache    {_gib(e.kv_cache_bytes)}")
    print(f"  overhead    {_gib(e.overhead_bytes)}  (graph {_gib(e.graph_bytes)}, projector {_gib(e.projector_bytes)})")  # fmt: skip
    print(f"  total       {e.summary()}")
    print(f"              {e.accounting_note()}")
    print(f"Fit: {report.fit.label} — {report.reason} (score {report.score:.2f})")
    for warning in report.warnings:
        print(f"  ! {warning}")
    for suggestion in report.suggestions:
        print(f"  → {suggestion.text}")


def cmd_estimate(args: argparse.Namespace, ctx: AppContext) -> int:
    compatibility = ctx.compatibility()
    options: dict[str, Any] = {
        "hardware": _hardware_arg(args),
        "parallel": args.parallel,
        "kv_cache_type": args.kv_cache_type,
        "ollama_version": args.ollama_version,
    }
    if args.from_show:
        try:
            show = json.loads(Path(args.from_show).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserInputError(f"Cannot read {args.from_show}: {exc}") from None
        report = compatibility.check_show(show, args.ctx, **options)
        if not report.model:
            report.model = Path(args.from_show).stem
    elif args.model:
        report = compatibility.check_entry(ctx.library().get(args.model), args.ctx, **options)
    else:
        raise UserInputError("Name a model, or pass --from-show FILE.json (a saved /api/show).")
    if args.json:
        print_json(report.as_json())
    else:
        _print_report(report)
    return 0


# ----- recommend / hardware / compare --------------------------------------------------------
def cmd_recommend(args: argparse.Namespace, ctx: AppContext) -> int:
    result = ctx.recommendations().recommend(
        args.task,
        hardware=_hardware_arg(args),
        preferred_size=SizeClass(args.size) if args.size else None,
        context_length=args.ctx,
        limit=args.limit,
        include_remote=args.include_remote,
    )
    if args.json:
        print_json(result.model_dump(mode="json"))
        return 0
    print(f"Task: {result.task} · {result.hardware} · context {result.context_length}")
    if not result.recommendations:
        print("Nothing fits this machine for that task.")
    for rec in result.recommendations:
        print(
            f"{rec.rank}. {rec.model}  (confidence {rec.confidence:.2f}, {rec.fit.label.lower()})"
        )
        print(f"   {rec.reason}")
        print(f"   trade-off: {rec.trade_off}")
        if rec.alternatives:
            print(f"   alternatives: {', '.join(rec.alternatives)}")
    if result.excluded:
        print(f"Left out {len(result.excluded)} models that do not fit, e.g.:")
        for ex in result.excluded[:5]:
            print(f"  - {ex.model}: {ex.reason}")
    return 0


def cmd_hardware(args: argparse.Namespace, ctx: AppContext) -> int:
    profile = ctx.hardware().profile(refresh=True)
    if args.json:
        print_json(profile.model_dump(mode="json"))
        return 0
    print(profile.summary())
    print(f"  RAM free     {_gib(profile.available_ram_bytes)} of {_gib(profile.total_ram_bytes)}")
    print(f"  CPU          {profile.cpu_model} ({profile.cpu_physical_cores} cores, {profile.cpu_logical_cores} threads)")  # fmt: skip
    print(f"  CPU flags    {' '.join(profile.cpu_flags) or '-'}")
    for gpu in profile.gpus:
        free = f", {_gib(gpu.vram_free_bytes)} free" if gpu.vram_free_bytes is not None else ""
        print(f"  GPU {gpu.index}        {gpu.name}: {_gib(gpu.vram_total_bytes)}{free}")
    print(f"  Disk free    {_gib(profile.disk_free_bytes)} in {profile.models_dir}")
    for note in profile.notes:
        print(f"  note: {note}")
    return 0


def cmd_compare(args: argparse.Namespace, ctx: AppContext) -> int:
    comparison = ctx.comparison().compare(
        args.models, context_length=args.ctx, hardware=_hardware_arg(args)
    )
    if args.json:
        print_json(comparison.model_dump(mode="json"))
        return 0
    headers = ["", *(m.name for m in comparison.models)]
    print_table([[label, *cells] for label, cells in comparison.rows()], headers)
    print()
    for verdict in comparison.verdicts:
        print(f"{verdict.task:<17} {verdict.winner or '—'}: {verdict.why}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lib = sub.add_parser("library", help="search the model library (catalog + registry)")
    lib_sub = lib.add_subparsers(dest="library_command", required=True, metavar="ACTION")
    p = lib_sub.add_parser("search", help="ranked search with filters")
    p.add_argument("query", nargs="*", help="words to look for in name, family, description, tags")
    p.add_argument("--category", choices=[c.value for c in LibraryCategory])
    p.add_argument("--capability", help="completion, tools, vision, embedding, thinking, insert …")
    p.add_argument("--size-class", choices=[s.value for s in SizeClass])
    p.add_argument("--min-score", type=float, help="minimum recorded benchmark score (0–1)")
    p.add_argument("--max-params", type=float, help="maximum parameters, in billions")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--installed", dest="installed", action="store_true", default=None)
    state.add_argument("--not-installed", dest="installed", action="store_false")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--local", dest="remote", action="store_false", default=None)
    where.add_argument("--remote", dest="remote", action="store_true")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_library_search)
    p = lib_sub.add_parser("import", help="replace the catalog with a catalog.json you trust")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_library_import)

    p = sub.add_parser("estimate", help="memory a model needs at a context length, and its fit")
    p.add_argument("model", nargs="?", help="a library or registry model name")
    p.add_argument("--from-show", type=Path, help="a saved /api/show response (JSON)")
    p.add_argument("--ctx", type=int, default=8192, help="context length in tokens (default 8192)")
    p.add_argument(
        "--parallel", type=int, default=1, help="parallel request slots (OLLAMA_NUM_PARALLEL)"
    )
    p.add_argument("--kv-cache-type", choices=["f16", "q8_0", "q4_0"], default="f16")
    p.add_argument("--hardware", dest="hardware_file", type=Path, help="a saved `hardware --json`")
    p.add_argument(
        "--ollama-version",
        help="the server's version (/api/version): picks its accounting; both when not given",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("recommend", help="models for a task that fit this machine")
    p.add_argument("--task", required=True, choices=sorted([*TASKS, *TASK_ALIASES]))
    p.add_argument("--size", choices=[s.value for s in SizeClass], help="preferred size class")
    p.add_argument("--ctx", type=int, default=4096)
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--include-remote", action="store_true", help="also rank cloud models")
    p.add_argument("--hardware", dest="hardware_file", type=Path, help="a saved `hardware --json`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("hardware", help="RAM, CPU, GPUs and disk this machine offers models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_hardware)

    p = sub.add_parser("compare-models", help="2–6 models side by side with a verdict per task")
    p.add_argument("models", nargs="+")
    p.add_argument("--ctx", type=int, default=8192)
    p.add_argument("--hardware", dest="hardware_file", type=Path, help="a saved `hardware --json`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)
