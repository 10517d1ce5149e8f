"""CLI sync: `sync` brings the registry in line with every configured source at once.

Never reports a failed source as synced: errors go to stderr and the exit code is 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json, run_coroutine

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.sync import SyncReport


def cmd_sync(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> SyncReport:
        try:
            return await ctx.sync_all().run()  # Ollama, GitHub Models, endpoints
        finally:
            await ctx.aclose()

    report = run_coroutine(run())
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        if report.source:  # only the sources that synced; a failed one is never "Synced"
            print(f"Synced {report.source}: {report.counts()} in {report.duration_s:.2f}s")
            if report.per_category:
                print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(report.per_category.items())))
        if report.failed:
            lead = "" if report.source else "Nothing synced. "
            print(f"{lead}Failed: {', '.join(report.failed)} (why is on stderr).")
        for skipped in report.skipped:
            print(f"note: {skipped.message()}")
    for error in report.errors:
        print(f"error: {error.model or error.source}: {error.message}", file=sys.stderr)
    return 2 if report.errors else 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("sync", help="sync Ollama, GitHub Models and endpoints into the registry")
    p.add_argument("--ollama-url", dest="sub_ollama_url", help="Ollama base URL for this sync")
    p.add_argument("--json", action="store_true", help="print the sync report as JSON")
    p.set_defaults(func=cmd_sync)
