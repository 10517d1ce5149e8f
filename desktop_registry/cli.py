"""Headless, scriptable commands: `desktop-registry-cli sync|list|show|categories …`.

Exit codes: 0 ok, 1 user error (with a message), 2 a model server unreachable or failing.
Never prints a traceback for an expected failure, and never prints a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from desktop_registry.app import AppContext, build_context
from desktop_registry.config import Settings
from desktop_registry.domain import Category, Kind, ModelRecord, Source
from desktop_registry.errors import RegistryError

# Feature packages add their own sub-commands: each module has `add_commands(subparsers)`.
COMMAND_MODULES: tuple[str, ...] = (
    "desktop_registry.commands.remote",
    "desktop_registry.commands.jobs",
    "desktop_registry.commands.library",
    "desktop_registry.commands.experiments",
    "desktop_registry.commands.evaluation",
)

Handler = Callable[[argparse.Namespace, AppContext], int]


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    out.write("\n")


def record_json(record: ModelRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _human_size(size: int | None) -> str:
    if not size:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1000
    return "-"


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out.write(line.rstrip() + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


# ----- commands -------------------------------------------------------------------------
def cmd_sync(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> Any:
        try:
            return await ctx.sync_all().run()  # Ollama, GitHub Models, endpoints
        finally:
            await ctx.aclose()

    report = asyncio.run(run())
    if args.json:
        _print_json(report.model_dump(mode="json"), sys.stdout)
    else:
        print(
            f"Synced {report.source}: {len(report.added)} added, {len(report.updated)} updated, "
            f"{report.unchanged} unchanged, {len(report.missing)} missing"
            + (f", {len(report.restored)} back" if report.restored else "")
            + f" in {report.duration_s:.2f}s"
        )
        if report.per_category:
            print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(report.per_category.items())))
        for skipped in report.skipped:
            print(f"note: {skipped.message()}")
    for error in report.errors:
        print(f"error: {error.model or error.source}: {error.message}", file=sys.stderr)
    return 2 if report.errors else 0


def cmd_list(args: argparse.Namespace, ctx: AppContext) -> int:
    records = ctx.models.list(
        category=args.category,
        source=args.source,
        kind=args.kind,
        text=args.text,
        capability=args.capability,
        status=args.status,
    )
    if args.json:
        _print_json([record_json(r) for r in records], sys.stdout)
        return 0
    if not records:
        print("No models match. Run `desktop-registry-cli sync` to fill the registry.")
        return 0
    rows = [
        [
            r.name,
            r.source.value,
            r.category.value + ("*" if r.category_source.value == "heuristic" else ""),
            ",".join(r.capabilities),
            r.details.parameter_size or "-",
            _human_size(r.size_bytes),
            r.status.value,
        ]
        for r in records
    ]
    _table(
        rows, ["NAME", "SOURCE", "CATEGORY", "CAPABILITIES", "PARAMS", "SIZE", "STATUS"], sys.stdout
    )
    if any(r.category_source.value == "heuristic" for r in records):
        print("* category guessed from the name: the server is too old to report capabilities")
    return 0


def cmd_show(args: argparse.Namespace, ctx: AppContext) -> int:
    record = ctx.models.resolve(args.name)
    if args.json:
        _print_json(record_json(record), sys.stdout)
        return 0
    d = record.details
    fields = [
        ("Name", record.name),
        ("Source", f"{record.source.value} ({record.serving.value})"),
        ("Kind", record.kind.value),
        ("Category", f"{record.category.value} (from {record.category_source.value})"),
        ("Also under", ", ".join(c.value for c in record.categories[1:]) or "-"),
        ("Capabilities", ", ".join(record.capabilities) or "-"),
        ("Family", d.family or "-"),
        ("Parameters", d.parameter_size or "-"),
        ("Quantization", d.quantization_level or "-"),
        ("Context length", str(d.context_length or "-")),
        ("Embedding length", str(d.embedding_length or "-")),
        ("Layers", str(d.block_count or "-")),
        ("KV heads", str(d.head_count_kv or "-")),
        ("Size", _human_size(record.size_bytes)),
        ("Digest", record.digest or "-"),
        ("Status", record.status.value),
        ("Endpoint", record.endpoint or "-"),
    ]
    if record.parameters:
        fields.append(("Options", json.dumps(record.parameters)))
    if record.system:
        fields.append(("System prompt", record.system))
    for metric, value in sorted(record.performance.items()):
        fields.append((metric, f"{value:g}"))
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key.ljust(width)}  {value}")
    return 0


def cmd_categories(args: argparse.Namespace, ctx: AppContext) -> int:
    counts = ctx.models.category_counts()
    if args.json:
        _print_json(counts, sys.stdout)
        return 0
    if not counts:
        print("The registry is empty. Run `desktop-registry-cli sync`.")
        return 0
    for category, count in counts.items():
        print(f"{category:<20} {count}")
    return 0


# ----- parser ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desktop-registry-cli",
        description="Desktop Registry from the command line: sync, list and inspect your models.",
    )
    parser.add_argument("--db", type=Path, help="registry file (default: <data dir>/registry.db)")
    parser.add_argument(
        "--ollama-url", help="Ollama base URL (default: OLLAMA_HOST or localhost:11434)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sync", help="sync Ollama, GitHub Models and endpoints into the registry")
    p.add_argument("--ollama-url", dest="sub_ollama_url", help="Ollama base URL for this sync")
    p.add_argument("--json", action="store_true", help="print the sync report as JSON")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("list", help="list registered models")
    p.add_argument("--category", choices=[c.value for c in Category])
    p.add_argument("--source", choices=[s.value for s in Source])
    p.add_argument("--kind", choices=[k.value for k in Kind])
    p.add_argument("--capability")
    p.add_argument("--status")
    p.add_argument("--text", help="search name, family, description and tags")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one model")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("categories", help="models per category")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_categories)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    url = getattr(args, "sub_ollama_url", None) or args.ollama_url
    if url:
        overrides["ollama_url"] = url
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        ctx = build_context(_settings(args), db_path=args.db)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        return handler(args, ctx)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
