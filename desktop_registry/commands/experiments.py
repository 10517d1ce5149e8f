"""CLI for experiments and slots: `experiment create|list|sync-mlflow`, `slot …`, `export-modelfile`.

Exit codes follow cli.py (0 ok, 1 user error, 2 a server failing); never prints a secret.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import (
    json_or_text,
    key_value_pairs,
    print_json,
    run_coroutine,
)
from desktop_registry.domain.enums import CombinationRule, ExperimentType
from desktop_registry.errors import UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.models import ModelRecord

_SHORT = {
    "parameter_tuning": "params",
    "prompt_engineering": "prompt",
    "ensemble": "ensemble",
    "fine_tuning": "ft",
}


def _options(items: list[str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in key_value_pairs(items, "--param"):
        if key == "stop":  # Ollama takes several stop sequences: repeat --param stop=…
            options.setdefault("stop", []).append(value)
        else:
            options[key] = json_or_text(value)
    return options


def default_name(kind: str, anchor: str, recipe: dict[str, Any]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", anchor).strip("-.") or "model"
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:6]
    return f"{stem}-{_SHORT[kind]}-{digest}"


def recipe_from_args(args: argparse.Namespace) -> dict[str, Any]:
    recipe: dict[str, Any] = {"type": args.type}
    if args.description:
        recipe["description"] = args.description
    options = _options(args.param)
    if args.type == "ensemble":
        recipe.update(members=args.member or [], rule=args.rule, judge=args.judge)
    else:
        if not args.base:
            raise UserInputError("base: required (--base MODEL)")
        recipe["base"] = args.base
    if args.type == "prompt_engineering":
        shots = []
        for shot in args.shot or []:
            user, sep, assistant = shot.partition("=>")
            if not sep:
                raise UserInputError(f"few_shot {shot!r}: expected 'USER => ASSISTANT'")
            shots.append({"user": user.strip(), "assistant": assistant.strip()})
        recipe.update(
            system=args.system or "",
            template=args.template or "",
            variables=dict(key_value_pairs(args.var, "--var")),
            few_shot=shots,
        )
    if args.type == "fine_tuning":
        recipe.update(
            adapter_path=args.adapter or "",
            adapter_digest=args.adapter_digest or "",
            dataset=args.dataset or "",
            system=args.system or "",
        )
        if options:
            raise UserInputError("options: a fine-tune takes no --param; make a variant of it")
    elif options or args.type == "parameter_tuning":
        recipe["options"] = options
    anchor = args.base or "+".join(args.member or []) or "ensemble"
    recipe["name"] = args.name or default_name(args.type, anchor, recipe)
    return recipe


def _row(record: ModelRecord) -> dict[str, Any]:
    recipe = record.parameters.get("experiment") or {}
    tracking = record.parameters.get("mlflow") or {}
    return {
        "name": record.name,
        "type": recipe.get("type", ""),
        "kind": record.kind.value,
        "source": record.source.value,
        "serving": record.serving.value,
        "parent_id": record.parent_id,
        "recipe": recipe,
        "mlflow_run_id": tracking.get("run_id", ""),
        "tracking_uri": tracking.get("tracking_uri", ""),
        "tracking_error": tracking.get("error", ""),
    }


# ----- experiment ------------------------------------------------------------------------
def cmd_experiment_create(args: argparse.Namespace, ctx: AppContext) -> int:

    recipe = recipe_from_args(args)

    async def run() -> ModelRecord:
        try:
            return await ctx.experiments(tracked=not args.no_track).create(recipe)
        finally:
            await ctx.aclose()

    record = run_coroutine(run())
    row = _row(record)
    if args.json:
        print_json(row)
    else:
        print(f"Created {record.name} ({row['type']}, {record.kind.value}, {record.serving.value})")
        if row["mlflow_run_id"]:
            print(f"  MLflow run {row['mlflow_run_id']} at {row['tracking_uri']}")
    if row["tracking_error"]:
        print(
            f"warning: the experiment was created but not tracked: {row['tracking_error']}",
            file=sys.stderr,
        )
    return 0


def cmd_experiment_list(args: argparse.Namespace, ctx: AppContext) -> int:
    rows = [_row(r) for r in ctx.experiments(tracked=False).list()]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No experiments yet. `desktop-registry-cli experiment create --help` shows how.")
        return 0
    for row in rows:
        parent = ctx.models.get(row["parent_id"]).name if row["parent_id"] else "-"
        print(
            f"{row['name']:<32} {row['type']:<20} {row['serving']:<7} from {parent}  "
            f"run {row['mlflow_run_id'] or '-'}"
        )
    return 0


def cmd_experiment_sync(args: argparse.Namespace, ctx: AppContext) -> int:
    report = ctx.mlflow_sync().run_blocking()
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        print(
            f"MLflow at {ctx.tracker().uri}: {len(report.added)} added, "
            f"{report.unchanged} already known"
        )
    return 0


def cmd_export_modelfile(args: argparse.Namespace, ctx: AppContext) -> int:
    text = ctx.experiments(tracked=False).modelfile(args.name)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}. Recreate with: ollama create NAME -f {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("experiment", help="derive and track experimental models")
    esub = p.add_subparsers(dest="experiment_command", required=True, metavar="ACTION")

    c = esub.add_parser("create", help="create a variant, ensemble or fine-tune record")
    c.add_argument("--type", required=True, choices=[t.value for t in ExperimentType])
    c.add_argument("--base", help="the model the experiment derives from")
    c.add_argument("--name", help="the new model's name (default: derived from base and recipe)")
    c.add_argument(
        "--param",
        action="append",
        metavar="OPTION=VALUE",
        help="a generation option, e.g. temperature=0.2 (repeat)",
    )
    c.add_argument("--system", help="system prompt; {{var}} placeholders are filled from --var")
    c.add_argument("--var", action="append", metavar="NAME=VALUE")
    c.add_argument(
        "--shot", action="append", metavar="'USER => ASSISTANT'", help="a few-shot example (repeat)"
    )
    c.add_argument("--template", help="an Ollama prompt template replacing the base's")
    c.add_argument("--member", action="append", help="an ensemble member (2-5)")
    c.add_argument("--rule", default="majority_vote", choices=[r.value for r in CombinationRule])
    c.add_argument("--judge", help="the judge model for --rule judge")
    c.add_argument("--adapter", help="fine-tune: the adapter file to apply")
    c.add_argument("--adapter-digest", help="fine-tune: a blob digest Ollama already has")
    c.add_argument("--dataset", help="fine-tune: the dataset it was trained on")
    c.add_argument("--description", default="")
    c.add_argument("--no-track", action="store_true", help="do not log the run to MLflow")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_experiment_create)

    c = esub.add_parser("list", help="list experiments")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_experiment_list)

    c = esub.add_parser("sync-mlflow", help="bring MLflow runs and versions into the registry")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_experiment_sync)

    p = sub.add_parser("export-modelfile", help="print an experiment's Ollama Modelfile")
    p.add_argument("name")
    p.add_argument("-o", "--output", help="write to this file instead")
    p.set_defaults(func=cmd_export_modelfile)
