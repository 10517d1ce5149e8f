"""CLI for the registry itself: `list`, `show NAME`, `categories`.

Reads only: never contacts a model server (that is `sync`).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json, print_table
from desktop_registry.domain.categories import Category
from desktop_registry.domain.enums import Kind, Source
from desktop_registry.domain.text import shown_safely
from desktop_registry.domain.units import human_bytes

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.models import ModelRecord


def record_json(record: ModelRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def print_listing(rows: list[list[str]], heuristic: bool) -> None:
    print_table(rows, ["NAME", "SOURCE", "CATEGORY", "CAPABILITIES", "PARAMS", "SIZE", "STATUS"])
    if heuristic:
        print("* category guessed from the name: the server is too old to report capabilities")


def quick_list(args: argparse.Namespace) -> int | None:
    """`list` straight from the file (no SQLAlchemy, no pydantic); None when only the full path
    can answer (JSON out, a text search, a registry to create or migrate, an odd setting)."""
    if args.json or args.text:
        return None
    from desktop_registry.paths import registry_file
    from desktop_registry.storage.quick_read import list_models

    path = registry_file(args.db)
    listed = None
    if path is not None:
        listed = list_models(
            path,
            category=args.category,
            kind=args.kind,
            source=args.source,
            capability=args.capability,
            status=args.status,
        )
    if not listed:  # an empty list gets the full path's advice
        return None
    rows = [
        [
            m.name,
            m.source,
            m.category + ("*" if m.category_source == "heuristic" else ""),
            ",".join(m.capabilities),
            m.parameter_size or "-",
            human_bytes(m.size_bytes, empty="-"),
            m.status,
        ]
        for m in listed
    ]
    print_listing(rows, any(m.category_source == "heuristic" for m in listed))
    return 0


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
        print_json([record_json(r) for r in records])
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
            human_bytes(r.size_bytes, empty="-"),
            r.status.value,
        ]
        for r in records
    ]
    print_listing(rows, any(r.category_source.value == "heuristic" for r in records))
    return 0


def cmd_show(args: argparse.Namespace, ctx: AppContext) -> int:
    record = ctx.models.resolve(args.name)
    if args.json:
        print_json(record_json(record))
        return 0
    d = record.details
    fields = [
        ("Name", record.name),
        ("Source", f"{record.source.value} ({record.serving.value})"),
        ("Kind", record.kind.value),
        ("Category", f"{record.category.value} (from {record.category_source.value})"),
        ("Also under", ", ".join(c.value for c in record.categories[1:]) or "-"),
        ("Capabilities", ", ".join(record.capabilities) or "-"),
        ("Tags", ", ".join(record.tags) or "-"),
        ("Family", d.family or "-"),
        ("Parameters", d.parameter_size or "-"),
        ("Quantization", d.quantization_level or "-"),
        ("Context length", str(d.context_length or "-")),
        ("Embedding length", str(d.embedding_length or "-")),
        ("Layers", str(d.block_count or "-")),
        ("KV heads", str(d.head_count_kv or "-")),
        ("Size", human_bytes(record.size_bytes, empty="-")),
        ("Digest", record.digest or "-"),
        ("Status", record.status.value),
        ("Endpoint", record.endpoint or "-"),
    ]
    if record.details.engine:
        from desktop_registry.services.registry.server_facts import server_facts

        status = ctx.models.serving_status(record.id) if record.id is not None else None
        fields.extend(server_facts(record, status))
    if record.parameters:
        fields.append(("Options", json.dumps(record.parameters)))
    if record.system:
        fields.append(("System prompt", record.system))
    for metric, figure in sorted(record.performance.items()):
        fields.append((metric, f"{figure:g}"))
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key.ljust(width)}  {shown_safely(value)}")
    return 0


def cmd_categories(args: argparse.Namespace, ctx: AppContext) -> int:
    counts = ctx.models.category_counts()
    if args.json:
        print_json(counts)
        return 0
    if not counts:
        print("The registry is empty. Run `desktop-registry-cli sync`.")
        return 0
    for category, count in counts.items():
        print(f"{category:<20} {count}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("list", help="list registered models")
    p.add_argument("--category", choices=[c.value for c in Category])
    p.add_argument("--source", choices=[s.value for s in Source])
    p.add_argument("--kind", choices=[k.value for k in Kind])
    p.add_argument("--capability")
    p.add_argument("--status")
    p.add_argument("--text", help="search name, family, description and tags")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list, quick=quick_list)

    p = sub.add_parser("show", help="show one model")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("categories", help="models per category")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_categories)
