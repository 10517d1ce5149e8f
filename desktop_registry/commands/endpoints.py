"""CLI for model sources: `providers`, `token set|clear|status`, `endpoint add|remove|list`.

Never reads a secret from argv and never prints one: tokens and keys come from stdin or a hidden prompt.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json
from desktop_registry.domain.enums import Source
from desktop_registry.errors import UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        value = sys.stdin.readline().strip()
    else:
        value = getpass.getpass(prompt)
    if not value:
        raise UserInputError("Nothing was entered; nothing was stored.")
    return value


# ----- providers ----------------------------------------------------------------------------
def provider_rows(ctx: AppContext) -> list[dict[str, Any]]:
    """Every configured source with its address, credentials state and registry counts."""
    settings = ctx.settings

    def counts(source: Source, provider: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for record in ctx.models.list(source=source.value):
            if provider is None or record.provider == provider:
                out[record.status.value] = out.get(record.status.value, 0) + 1
        return out

    token = ctx.token_store().status()
    cached = ctx.catalog_cache().load()
    github_url = settings.github_models_url + (
        f" (org {settings.github_org})" if settings.github_org else ""
    )
    rows: list[dict[str, Any]] = [
        {
            "name": "ollama",
            "kind": Source.OLLAMA.value,
            "url": settings.ollama_url,
            "credentials": "not needed",
            "models": counts(Source.OLLAMA),
        },
        {
            "name": "github_models",
            "kind": Source.GITHUB_MODELS.value,
            "url": github_url,
            "credentials": f"token from {token.source}" if token.source != "none" else "no token",
            "warning": token.fallback_warning,
            "sync": settings.github_models_sync,
            "catalog_cached_at": cached[1] if cached else None,
            "models": counts(Source.GITHUB_MODELS),
        },
    ]
    store = ctx.endpoints()
    for endpoint in store.list():
        rows.append(
            {
                "name": endpoint.name,
                "kind": "llamacpp"
                if endpoint.kind == "llamacpp"
                else Source.OPENAI_COMPATIBLE.value,
                "url": endpoint.base_url,
                "credentials": "API key in keyring"
                if store.has_api_key(endpoint.name)
                else "no API key",
                "models": counts(Source.OPENAI_COMPATIBLE, endpoint.name),
            }
        )
    return rows


def cmd_providers(args: argparse.Namespace, ctx: AppContext) -> int:
    rows = provider_rows(ctx)
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        models = ", ".join(f"{n} {status}" for status, n in sorted(row["models"].items())) or "none"
        print(f"{row['name']:<16} {row['kind']:<18} {row['url']}")
        print(f"{'':<16} {row['credentials']}; models: {models}")
        if row.get("warning"):
            print(f"{'':<16} warning: {row['warning']}")
    return 0


# ----- token --------------------------------------------------------------------------------
def cmd_token(args: argparse.Namespace, ctx: AppContext) -> int:
    store = ctx.token_store()
    if args.action == "set":
        token = _read_secret("GitHub token (input hidden): ", args.stdin)
        status = store.set(token)
        where = "the system keyring" if status.source == "keyring" else "a private file"
        print(f"GitHub token stored in {where}.")
        if status.fallback_warning:
            print(f"warning: {status.fallback_warning}", file=sys.stderr)
    elif args.action == "clear":
        removed = store.clear()
        print("GitHub token removed." if removed else "No stored GitHub token to remove.")
    status = store.status()
    if status.source == "env" and args.action != "status":
        print("Note: GH_TOKEN / GITHUB_TOKEN is set in the environment and is used first.")
    if args.action == "status":
        if args.json:
            print_json(status.model_dump())
            return 0
        described = {
            "env": "from the GH_TOKEN / GITHUB_TOKEN environment variable (never stored)",
            "keyring": "stored in the system keyring",
            "file": "stored in a private file (no system keyring available)",
            "none": "not set — GitHub Models can be listed but not called",
        }
        print(f"GitHub token: {described[status.source]}")
        if status.fallback_warning:
            print(f"warning: {status.fallback_warning}")
    return 0


# ----- endpoints ----------------------------------------------------------------------------
def cmd_endpoint(args: argparse.Namespace, ctx: AppContext) -> int:
    store = ctx.endpoints()
    if args.action == "add":
        if not args.name or not args.url:
            raise UserInputError("Give a name and a base URL: endpoint add NAME URL")
        key = _read_secret(f"API key for {args.name}: ", True) if args.api_key_stdin else None
        endpoint = store.add(args.name, args.url, key, kind=args.kind)
        what = "llama.cpp server" if endpoint.kind == "llamacpp" else "Endpoint"
        print(f"{what} {endpoint.name} added ({endpoint.base_url}). Run `sync` to list its models.")
    elif args.action == "remove":
        if not args.name:
            raise UserInputError("Give the name of the endpoint to remove.")
        store.remove(args.name)
        print(
            f"Endpoint {args.name} removed; its models stay in the registry until you delete them."
        )
    else:
        rows = [{**e.model_dump(), "api_key": store.has_api_key(e.name)} for e in store.list()]
        if args.json:
            print_json(rows)
        elif not rows:
            print("No endpoints. Add one: endpoint add NAME http://host:port/v1")
        for row in rows if not args.json else []:
            kind = "llama.cpp" if row["kind"] == "llamacpp" else "openai"
            key = "key set" if row["api_key"] else ""
            print(f"{row['name']:<16} {kind:<10} {row['base_url']}  {key}".rstrip())
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("providers", help="model sources: Ollama, GitHub Models, endpoints")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_providers)

    p = sub.add_parser("token", help="the GitHub token: set (from stdin or a hidden prompt)")
    p.add_argument("action", choices=["set", "clear", "status"])
    p.add_argument("--stdin", action="store_true", help="read the token from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "endpoint", help="OpenAI-compatible and llama.cpp servers: add, remove, list"
    )
    p.add_argument("action", choices=["add", "remove", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument(
        "url",
        nargs="?",
        help="the OpenAI base URL, e.g. http://localhost:1234/v1 (a llama.cpp server: its "
        "address, e.g. http://127.0.0.1:8080)",
    )
    p.add_argument(
        "--kind",
        choices=["openai", "llamacpp"],
        default="openai",
        help="llamacpp: a llama.cpp llama-server (its context size, slots and health are read)",
    )
    p.add_argument("--api-key-stdin", action="store_true", help="read an API key from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_endpoint)
