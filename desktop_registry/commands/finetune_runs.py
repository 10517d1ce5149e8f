"""CLI for fine-tune runs: `finetune start|status|resume|cancel` (the "finetune" job kind).

A run started here trains in a subprocess this command waits on; `cancel` from another shell
stops that trainer. Never prints a traceback: failures end as a job line and an exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import (
    json_or_text,
    key_value_pairs,
    print_json,
    run_coroutine,
)
from desktop_registry.errors import UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.jobs import JobRecord
    from desktop_registry.services.jobs.service import JobUpdate

KIND = "finetune"


def _job(ctx: AppContext, job_id: int) -> JobRecord:
    jobs = ctx.jobs()
    jobs.recover()
    job = jobs.get(job_id)
    if job.kind != KIND:
        raise UserInputError(f"Job {job_id} is a {job.kind} job, not a fine-tune.")
    return job


def status_of(ctx: AppContext, job: JobRecord) -> dict[str, Any]:
    """One fine-tune's state as `status --json` prints it (and the panel could read it)."""
    from desktop_registry.services.finetune.run import read_status, run_folder
    from desktop_registry.services.finetune.trainer import last_checkpoint_step

    run_dir = run_folder(ctx.finetune_dir(), job.id)
    status = read_status(run_dir)
    keys = ("phase", "step", "total_steps", "loss", "val_loss", "lr", "epoch", "tokens_per_s")
    body: dict[str, Any] = {"id": job.id, "state": job.state.value, "title": job.title}
    body.update({key: status.get(key) for key in (*keys, "eta_s")})
    body.update(
        checkpoint=last_checkpoint_step(run_dir),
        message=job.message,
        error=job.error,
        result=job.result,
        run_dir=str(run_dir),
        log=job.log[-10:],
    )
    return body


def _follow(ctx: AppContext, job_id: int, quiet: bool) -> Any:
    """A listener that prints each new status line of `job_id` (to stderr with --json)."""
    out = sys.stderr if quiet else sys.stdout
    last = [""]

    def listen(update: JobUpdate) -> None:
        if update.job_id != job_id:
            return
        text = update.line or update.message
        if text and text != last[0]:
            last[0] = text
            print(text, file=out, flush=True)

    return ctx.jobs().subscribe(listen)


def _finish(ctx: AppContext, job: JobRecord, as_json: bool) -> int:
    from desktop_registry.domain.jobs import JobState

    if as_json:
        print_json(status_of(ctx, job))
    else:
        print(f"job {job.id} {job.state.value}: {job.message}")
    if job.state is JobState.SUCCEEDED:
        return 0
    if job.error and not as_json:
        print(f"error: {job.error}", file=sys.stderr)
    if job.state is JobState.CANCELLED:
        return 1
    return ctx.jobs().exit_codes.get(job.id, 2)  # a missing model or file is the user's (1)


def cmd_start(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.services.finetune.run import trainer_missing

    missing = trainer_missing()
    if missing:  # before a job row is written: nothing to resume later
        raise UserInputError(missing)
    data = Path(args.data).expanduser()
    if not data.is_file():
        raise UserInputError(f"--data {data}: no such file.")
    params: dict[str, Any] = {
        "base": args.base,
        "data": str(data.resolve()),
        "preset": args.preset,
        "name": args.name,
        "settings": {k: json_or_text(v) for k, v in key_value_pairs(args.set, "--set")},
        "drop_bad_rows": args.drop_bad_rows,
    }
    if args.hf_model:
        params["hf_model"] = args.hf_model
    for key in ("format", "columns", "checkpoint_every", "max_length"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)

    async def run() -> JobRecord:
        jobs = ctx.jobs()
        jobs.recover()
        record = jobs.repository.create(KIND, params, f"Fine-tune {args.name} from {args.base}")
        print(f"job {record.id} started", file=sys.stderr if args.json else sys.stdout, flush=True)
        unsubscribe = _follow(ctx, record.id, args.json)
        try:
            return await jobs.run(record.id)
        finally:
            unsubscribe()
            await ctx.aclose()

    return _finish(ctx, run_coroutine(run()), args.json)


def cmd_status(args: argparse.Namespace, ctx: AppContext) -> int:
    body = status_of(ctx, _job(ctx, args.job))
    if args.json:
        print_json(body)
        return 0
    step = f"step {body['step']}/{body['total_steps']}" if body["step"] is not None else ""
    loss = f"loss {body['loss']:.4f}" if isinstance(body["loss"], float) else ""
    shown = "  ".join(p for p in (body["state"], body["phase"] or "", step, loss) if p)
    print(f"job {body['id']}  {shown}")
    if body["checkpoint"]:
        print(f"last checkpoint: step {body['checkpoint']}")
    if body["message"]:
        print(body["message"])
    if body["error"]:
        print(f"error: {body['error']}")
    return 0


def cmd_resume(args: argparse.Namespace, ctx: AppContext) -> int:
    _job(ctx, args.job)

    async def run() -> JobRecord:
        unsubscribe = _follow(ctx, args.job, args.json)
        try:
            return await ctx.jobs().resume(args.job)
        finally:
            unsubscribe()
            await ctx.aclose()

    return _finish(ctx, run_coroutine(run()), args.json)


def cmd_cancel(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.domain.jobs import JobState
    from desktop_registry.services.finetune.run import request_cancel, run_folder
    from desktop_registry.services.jobs.service import owner_alive

    job = _job(ctx, args.job)
    if job.state is JobState.RUNNING and owner_alive(job.owner_pid, job.owner_started):
        if not request_cancel(run_folder(ctx.finetune_dir(), job.id)):
            raise UserInputError(
                f"Job {job.id} is {job.state.value} but its trainer is not running yet; "
                "try again in a moment."
            )
        print(f"job {job.id}: asked its trainer to stop; it ends as cancelled")
        return 0
    ctx.jobs().cancel(job.id)
    print(f"job {job.id} {ctx.jobs().get(job.id).state.value}")
    return 0


def add_run_commands(actions: Any) -> None:
    q = actions.add_parser(
        "start",
        help="train a LoRA adapter on a base model and deploy it to Ollama (a resumable job)",
        description="Validates --data, trains in a subprocess (checkpoints every N steps), "
        "writes the adapter as GGUF and creates --name over --base in Ollama. Needs "
        "pip install 'desktop-registry[finetune]'. Weights are never downloaded: they come "
        "from --hf-model or your Hugging Face cache.",
    )
    q.add_argument("--base", required=True, help="the Ollama model to fine-tune, e.g. llama3.2:1b")
    q.add_argument("--data", required=True, type=Path, help="training file (jsonl, csv, …)")
    q.add_argument("--preset", default="efficient", help="efficient, balanced or high_quality")
    q.add_argument("--name", required=True, help="name of the new Ollama model")
    q.add_argument("--hf-model", help="Hugging Face folder or cached id of the base weights")
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. lora.rank=16")
    q.add_argument("--format", choices=("jsonl", "csv", "text", "conversation"))
    q.add_argument("--columns", help="csv: prompt=COL,completion=COL")
    q.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (10)")
    q.add_argument("--max-length", type=int, help="tokens per row the trainer keeps (256)")
    q.add_argument("--drop-bad-rows", action="store_true", help="train on the good rows only")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_start)
    for name, func, text in (
        ("status", cmd_status, "a fine-tune's phase, step, loss and last checkpoint"),
        ("resume", cmd_resume, "carry on a killed, failed or cancelled fine-tune"),
        ("cancel", cmd_cancel, "stop a fine-tune (resume carries on from its last checkpoint)"),
    ):
        q = actions.add_parser(name, help=text)
        q.add_argument("job", type=int)
        if name != "cancel":
            q.add_argument("--json", action="store_true")
        q.set_defaults(func=func)
