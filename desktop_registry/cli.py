"""Headless, scriptable commands: `desktop-registry-cli sync|list|show|categories …`.

Each feature's sub-commands live in commands/<feature>.py and are registered below, in order.

Exit codes: 0 ok, 1 user error (with a message), 2 a model server unreachable or failing.
Never prints a traceback for an expected failure, and never prints a secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from desktop_registry.commands import (
    chat,
    config,
    endpoints,
    evaluation,
    experiments,
    finetune,
    jobs,
    library,
    local_models,
    optimize,
    registry,
    sync,
    versions,
)
from desktop_registry.errors import RegistryError

# Only what building the parser needs is imported up front: `--help` must answer at once, and
# each command imports the services it drives when it runs.
if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.config import Settings

Handler = Callable[[argparse.Namespace, "AppContext"], int]

# The order of `--help`: the registry first, then what a user does with it.
COMMANDS = (
    registry,
    sync,
    local_models,
    chat,
    endpoints,
    jobs,
    library,
    experiments,
    versions,
    evaluation,
    optimize,
    finetune,
    config,
)


class CommandLineParser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1 (a user error): 2 means a model server failed."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(
        prog="desktop-registry-cli",
        description="Desktop Registry from the command line: sync, list and inspect your models.",
    )
    parser.add_argument("--db", type=Path, help="registry file (default: <data dir>/registry.db)")
    parser.add_argument(
        "--ollama-url", help="Ollama base URL (default: OLLAMA_HOST or localhost:11434)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from desktop_registry.config import load_settings

    overrides: dict[str, Any] = {}
    url = getattr(args, "sub_ollama_url", None) or args.ollama_url
    if url:
        overrides["ollama_url"] = url
    return load_settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:  # also during the first start's migrations
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, as ls and ollama do. Point stdout
        # at /dev/null so the interpreter's own flush at exit does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.func
    quick = getattr(args, "quick", None)
    if quick is not None:  # a read that can answer from the file alone (see commands/registry)
        answered = quick(args)
        if answered is not None:
            return int(answered)
    from desktop_registry.app import build_context

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
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
