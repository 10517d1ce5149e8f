"""CLI for fine-tuning: `finetune validate FILE` (exit 1 on bad rows) and `finetune presets`.

Reads only the data file (no registry, no server); imports pydantic and the services inside the
handlers so `--help` stays quick. Never prints a traceback for bad data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import json_or_text, key_value_pairs, print_json
from desktop_registry.errors import RegistryError, UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.finetune import TrainingPreset, ValidationReport

FORMATS = ("jsonl", "csv", "text", "conversation")


def _without_registry(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Run as a `quick` command (cli.py): answered before any registry is opened."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except RegistryError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code

    return run


def _with_context(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    def run(args: argparse.Namespace, ctx: AppContext) -> int:
        return command(args)

    return run


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_report(report: ValidationReport) -> None:
    name = Path(report.file).name
    tokens = "counted with the tokenizer" if report.token_count == "tokenizer" else "estimated"
    print(
        f"{name}: {_plural(report.rows, 'row')}, {report.good} good, {report.bad_count} bad, "
        f"{_plural(report.duplicate_count, 'duplicate')} ({report.format.value}; tokens "
        f"{tokens}, context {report.context_tokens})"
    )
    for row in report.bad:
        print(f"line {row.line}: {row.reason}")
    if report.bad_count > len(report.bad):
        print(f"… and {report.bad_count - len(report.bad)} more bad rows")
    for dup in report.duplicates[:20]:
        print(f"duplicate: line {dup.line} repeats line {dup.duplicate_of}")
    if report.duplicate_count > min(20, len(report.duplicates)):
        print(f"… and {report.duplicate_count - min(20, len(report.duplicates))} more duplicates")
    fraction = report.split.validation_fraction
    print(
        f"split (seed {report.split.seed}, {fraction:.0%} validation): "
        f"{report.train_rows} train, {report.validation_rows} validation"
    )
    if report.max_tokens:
        shown = ", ".join(
            f"{'≤' + str(b.up_to) if b.up_to is not None else 'more'}: {b.count}"
            for b in report.token_histogram
            if b.count
        )
        print(f"tokens: max {report.max_tokens}, mean {report.mean_tokens:g}; lengths {shown}")


def cmd_validate(args: argparse.Namespace) -> int:
    from desktop_registry.domain.finetune import DataFormat, DataSplit
    from desktop_registry.services.finetune.data_formats import parse_columns
    from desktop_registry.services.finetune.data_validation import validate_file

    if not 0 <= args.validation_fraction < 1:
        raise UserInputError("--validation-fraction must be at least 0 and below 1 (e.g. 0.1)")
    if args.seed < 0:
        raise UserInputError("--seed must be 0 or more")
    count_tokens = None
    if args.tokenizer:
        from desktop_registry.services.finetune.token_count import tokenizer_counter

        count_tokens = tokenizer_counter(args.tokenizer)
    report = validate_file(
        args.file,
        format=DataFormat(args.format) if args.format else None,
        columns=parse_columns(args.columns) if args.columns else None,
        context_tokens=args.context,
        split=DataSplit(validation_fraction=args.validation_fraction, seed=args.seed),
        count_tokens=count_tokens,
    )
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        print_report(report)
    if report.bad_count:
        return 1
    if not report.good:
        print(f"error: no training rows in {Path(report.file).name}", file=sys.stderr)
        return 1
    return 0


def _preset_rows(preset: TrainingPreset) -> list[tuple[str, str]]:
    body = preset.model_dump(mode="json")
    lora = body.pop("lora")
    rows = [(key, str(value)) for key, value in body.items()]
    rows += [
        (f"lora.{key}", ",".join(v) if isinstance(v, list) else str(v)) for key, v in lora.items()
    ]
    return rows


def cmd_presets(args: argparse.Namespace) -> int:
    from desktop_registry.services.finetune.presets import edit_preset, get_preset, preset_names

    names = [args.preset] if args.preset else preset_names()
    changes: dict[str, Any] = {k: json_or_text(v) for k, v in key_value_pairs(args.set, "--set")}
    if changes and not args.preset:
        raise UserInputError(
            "name the preset to edit: finetune presets balanced --set lora.rank=16"
        )
    presets = [edit_preset(get_preset(n), changes) if changes else get_preset(n) for n in names]
    if args.json:
        print_json([p.model_dump(mode="json") for p in presets])
        return 0
    for index, preset in enumerate(presets):
        if index:
            print()
        for key, value in _preset_rows(preset):
            print(f"{key:<28} {value}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "finetune",
        help="fine-tune a model: validate training data, list presets",
        description="LoRA fine-tuning: check a training file row by row, choose a preset.",
    )
    actions = p.add_subparsers(dest="finetune_command", required=True, metavar="ACTION")
    _add_validate(actions)
    _add_presets(actions)
    from desktop_registry.commands.finetune_runs import add_run_commands

    add_run_commands(actions)  # start, status, resume, cancel


def _add_validate(actions: Any) -> None:
    q = actions.add_parser(
        "validate",
        help="check a training file; exit 1 and list `line N: reason` for each bad row",
        description="Rows: jsonl (prompt/completion, instruction/input/output, messages, text), "
        "csv (columns you choose), plain text (one example per paragraph) or ShareGPT "
        "conversations. Without --tokenizer a row's tokens are estimated as UTF-8 bytes / 4.",
    )
    q.add_argument("file", type=Path)
    q.add_argument("--format", choices=FORMATS, help="default: from the file name")
    q.add_argument("--columns", help="csv: prompt=COL,completion=COL[,system=COL] (name or number)")
    q.add_argument("--context", type=int, default=2048, help="tokens a row may have (2048)")
    q.add_argument(
        "--tokenizer", type=Path, help="tokenizer.json (or its model folder) to count with"
    )
    q.add_argument("--validation-fraction", type=float, default=0.1, help="share held out (0.1)")
    q.add_argument("--seed", type=int, default=42, help="seed of the train/validation split (42)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_with_context(cmd_validate), quick=_without_registry(cmd_validate))


def _add_presets(actions: Any) -> None:
    q = actions.add_parser(
        "presets",
        help="the training presets (efficient, balanced, high_quality); --set previews an edit",
    )
    q.add_argument("preset", nargs="?", help="one preset (default: all)")
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. lora.rank=16")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_with_context(cmd_presets), quick=_without_registry(cmd_presets))
