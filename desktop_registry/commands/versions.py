"""CLI for slots and their versions: `slot create|add|switch|rollback|history|list`.

Never edits history by hand: switch and rollback go through services/versions, which append to it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import json_or_text, key_value_pairs, print_json

if TYPE_CHECKING:
    from desktop_registry.app import AppContext


def cmd_slot_create(args: argparse.Namespace, ctx: AppContext) -> int:
    slot = ctx.versions(tracked=False).create_slot(args.name, args.capability, args.description)
    print(f"Created slot {slot.name!r} for {slot.capability} models. Add versions with `slot add`.")
    return 0


def cmd_slot_add(args: argparse.Namespace, ctx: AppContext) -> int:
    config = {k: json_or_text(v) for k, v in key_value_pairs(args.config, "--config")}
    added = ctx.versions().add_version(
        args.name, args.model, args.version, config=config, checkpoint_digest=args.digest
    )
    state = "active" if added.active else "inactive"
    print(f"Added {added.model_name} as {args.name} {added.version} ({state}).")
    return 0


def cmd_slot_switch(args: argparse.Namespace, ctx: AppContext) -> int:
    change = ctx.versions().switch(
        args.name, args.version, reason=args.reason, acknowledge_reindex=args.reindex
    )
    print(f"{args.name}: {change.from_version} → {change.to_version}")
    return 0


def cmd_slot_rollback(args: argparse.Namespace, ctx: AppContext) -> int:
    change = ctx.versions().rollback(
        args.name, reason=args.reason, acknowledge_reindex=args.reindex
    )
    print(f"{args.name}: rolled back {change.from_version} → {change.to_version}")
    return 0


def cmd_slot_history(args: argparse.Namespace, ctx: AppContext) -> int:
    history = ctx.versions(tracked=False).history(args.name)
    if args.json:
        print_json([h.model_dump(mode="json") for h in history])
        return 0
    if not history:
        print(f"{args.name} has not been switched yet.")
    for h in history:
        verb = "rollback" if h.action == "slot_rollback" else "switch"
        print(
            f"{h.at:%Y-%m-%d %H:%M:%S}  {verb:<8} {h.from_version} → {h.to_version}  "
            f"by {h.actor}" + (f": {h.reason}" if h.reason else "")
        )
    return 0


def cmd_slot_list(args: argparse.Namespace, ctx: AppContext) -> int:
    service = ctx.versions(tracked=False)
    rows = []
    for slot in service.slots.slots():
        versions = service.slots.versions(slot.id)
        active = next((v for v in versions if v.active), None)
        rows.append(
            {
                "name": slot.name,
                "capability": slot.capability,
                "active_version": active.version if active else None,
                "active_model": active.model_name if active else None,
                "versions": [v.model_dump(mode="json") for v in versions],
            }
        )
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['name']:<24} {row['capability']:<10} "
            f"{row['active_version'] or '-'} ({row['active_model'] or 'no version'})"
        )
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("slot", help="slots (roles) and their active versions")
    ssub = p.add_subparsers(dest="slot_command", required=True, metavar="ACTION")
    c = ssub.add_parser("create", help="create a slot, e.g. 'text embedding'")
    c.add_argument("name")
    c.add_argument("--capability", required=True, help="what every version must do (embedding, …)")
    c.add_argument("--description", default="")
    c.set_defaults(func=cmd_slot_create)
    c = ssub.add_parser("add", help="add a model as a version of a slot")
    c.add_argument("name")
    c.add_argument("model")
    c.add_argument("--version", required=True, help="semantic version, e.g. 1.2.0")
    c.add_argument("--config", action="append", metavar="KEY=VALUE")
    c.add_argument("--digest", help="checkpoint digest (default: the model's digest)")
    c.set_defaults(func=cmd_slot_add)
    for action, func in (("switch", cmd_slot_switch), ("rollback", cmd_slot_rollback)):
        c = ssub.add_parser(action, help=f"{action} the active version")
        c.add_argument("name")
        if action == "switch":
            c.add_argument("version")
        c.add_argument("--reason", default="")
        c.add_argument(
            "--reindex",
            action="store_true",
            help="confirm stored embeddings will be re-indexed (dimension change)",
        )
        c.set_defaults(func=func)
    c = ssub.add_parser("history", help="who switched what, when and why")
    c.add_argument("name")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_slot_history)
    c = ssub.add_parser("list", help="slots and their active versions")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_slot_list)
