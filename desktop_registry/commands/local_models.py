"""CLI with Ollama's own verbs for local models: `pull`, `rm`, `ps`, `stop`.

`pull` draws a progress bar in a terminal and prints plain status lines when piped; every
verb goes through the same services as the window, and says what it did.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json, print_table, run_coroutine
from desktop_registry.domain.units import human_bytes

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.library.pulls import PullTracker

BAR = 30


def _bar(tracker: PullTracker) -> str:
    fraction = tracker.fraction or 0.0
    filled = round(BAR * fraction)
    return f"\r{'█' * filled}{'░' * (BAR - filled)} {fraction:4.0%}  {tracker.summary()}\x1b[K"


def cmd_pull(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.services.library.pulls import PullService

    terminal = sys.stdout.isatty()
    last = [""]

    def show(tracker: PullTracker) -> None:
        if terminal:
            sys.stdout.write(_bar(tracker))
            sys.stdout.flush()
        elif tracker.status != last[0]:  # piped: one line per step, as `ollama pull` does
            last[0] = tracker.status
            print(tracker.status, flush=True)

    async def run() -> Any:
        source = ctx.ollama()
        try:
            return await PullService(source, lambda: ctx.ollama_sync(source)).pull(args.name, show)
        finally:
            await ctx.aclose()

    tracker, report = run_coroutine(run())
    if terminal:
        sys.stdout.write("\n")
    print(f"{args.name} is pulled ({human_bytes(tracker.total)}) and in the registry.")
    for error in report.errors:
        print(f"error: {error.model or error.source}: {error.message}", file=sys.stderr)
    return 2 if report.errors else 0


def cmd_rm(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> Any:
        try:
            return await ctx.local_models().remove(args.name, force=args.force)
        finally:
            await ctx.aclose()

    record = run_coroutine(run())
    where = "Ollama and the registry" if record.is_local else "the registry"
    print(f"deleted '{record.name}' from {where}")
    return 0


def cmd_ps(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> Any:
        try:
            return await ctx.local_models().loaded()
        finally:
            await ctx.aclose()

    loaded = run_coroutine(run())
    if args.json:
        print_json([m.model_dump(mode="json") for m in loaded])
        return 0
    if not loaded:
        print("No model is loaded. A chat loads one; `stop NAME` frees its memory.")
        return 0
    rows = [
        [
            m.name,
            human_bytes(m.size_bytes, empty="-"),
            f"{m.vram_share:.0%} GPU" if m.size_vram else "100% CPU",
            str(m.context_length or "-"),
            f"{m.expires_at.astimezone():%H:%M:%S}" if m.expires_at else "-",
        ]
        for m in loaded
    ]
    print_table(rows, ["NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"])
    return 0


def cmd_stop(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> Any:
        try:
            return await ctx.local_models().stop(args.name)
        finally:
            await ctx.aclose()

    record = run_coroutine(run())
    print(f"stopped {record.name}: its memory is free")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("pull", help="download a model into Ollama, then add it to the registry")
    p.add_argument("name", help="a name from Ollama's library, e.g. llama3.2:3b")
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("rm", help="delete a model from Ollama's disk and the registry")
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="also when variants derive from it")
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("ps", help="models loaded in memory now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ps)

    p = sub.add_parser("stop", help="free a loaded model's memory now")
    p.add_argument("name")
    p.set_defaults(func=cmd_stop)
