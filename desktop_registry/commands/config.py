"""CLI settings: `config list|get KEY|set KEY VALUE|unset KEY`, the same settings.json the window uses.

Never stores or prints a secret: secret-like keys and URLs with a password are refused.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import print_json, print_table

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.services.settings.store import SettingValue


def _text(value: Any) -> str:
    """A value as a person (or `$(…)`) reads it: text as is, nothing as '', the rest as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _origin(item: SettingValue) -> str:
    return f"environment ({item.variable})" if item.variable else item.origin


def cmd_config(args: argparse.Namespace, ctx: AppContext) -> int:
    store = ctx.settings_store()
    if args.action == "list":
        items = store.list()
        if args.json:
            print_json({"file": str(store.path), "settings": [i.as_json() for i in items]})
            return 0
        rows = [[i.key, _text(i.value), _origin(i)] for i in items]
        print_table(rows, ["KEY", "VALUE", "FROM"])
        print(f"\nfile: {store.path}")
    elif args.action == "get":
        item = store.get(args.key)
        if args.json:
            print_json(item.as_json())
        else:
            print(_text(item.value))
    else:
        set_ = args.action == "set"
        change = store.set(args.key, args.value) if set_ else store.unset(args.key)
        stored = store.stored()
        if args.key in stored:
            print(f"Saved {args.key} = {_text(stored[args.key])} in {store.path}")
        else:
            item = store.get(args.key)
            print(f"{args.key} is not in {store.path}: {_text(item.value)} ({_origin(item)})")
        for note in change.notes:
            print(f"note: {note}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "config",
        help="settings, shared with the window: list, get, set, unset (environment wins)",
        description="Settings live in settings.json in the data folder; environment variables "
        "(DESKTOP_REGISTRY_*, OLLAMA_HOST, MLFLOW_TRACKING_URI) win over it.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("list", help="every setting, its value and where it comes from")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_config)
    q = actions.add_parser("get", help="one setting's value")
    q.add_argument("key")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_config)
    q = actions.add_parser("set", help="save a setting (an empty VALUE unsets it)")
    q.add_argument("key")
    q.add_argument("value")
    q.set_defaults(func=cmd_config)
    q = actions.add_parser("unset", help="remove a setting from the file: back to the default")
    q.add_argument("key")
    q.set_defaults(func=cmd_config)
