"""CLI for jobs: `jobs list`, `jobs pull MODEL`, `jobs sync`, `jobs resume ID`, `jobs cancel ID`.

Runs a job in this process (it shows as interrupted if the process is killed); never hides a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from desktop_registry.commands.output import run_coroutine

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.jobs import JobRecord


def _line(job: JobRecord) -> str:
    progress = f"{job.progress * 100:5.1f}%" if job.progress is not None else "   -  "
    return (
        f"{job.id:>5}  {job.kind:<10} {job.state.value:<12} {progress}  {job.title}  {job.message}"
    )


def _finish(job: JobRecord, failed_exit: int = 2) -> int:
    from desktop_registry.domain.jobs import JobState

    print(_line(job))
    if job.state is JobState.SUCCEEDED:
        return 0
    if job.error:
        print(f"error: {job.error}", file=sys.stderr)
    return 1 if job.state is JobState.CANCELLED else failed_exit


def _run(ctx: AppContext, kind: str, params: dict[str, str], title: str) -> int:
    async def run() -> JobRecord:
        jobs = ctx.jobs()
        jobs.recover()
        record = jobs.repository.create(kind, params, title)
        print(f"job {record.id} started", flush=True)
        try:
            return await jobs.run(record.id)
        finally:
            await ctx.aclose()

    job = run_coroutine(run())
    return _finish(job, ctx.jobs().exit_codes.get(job.id, 2))


def cmd_list(args: argparse.Namespace, ctx: AppContext) -> int:
    jobs = ctx.jobs()
    jobs.recover()
    records = jobs.list(limit=args.limit)
    if args.json:
        body = [j.model_dump(mode="json") for j in records]
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
        return 0
    for job in records:
        print(_line(job))
    if not records:
        print("No jobs yet.")
    return 0


def cmd_pull(args: argparse.Namespace, ctx: AppContext) -> int:
    return _run(ctx, "pull", {"model": args.model}, f"Pull {args.model}")


def cmd_sync(args: argparse.Namespace, ctx: AppContext) -> int:
    return _run(ctx, "sync", {}, "Sync all sources")


def cmd_resume(args: argparse.Namespace, ctx: AppContext) -> int:
    async def run() -> JobRecord:
        jobs = ctx.jobs()
        jobs.recover()
        try:
            return await jobs.resume(args.id)
        finally:
            await ctx.aclose()

    job = run_coroutine(run())
    return _finish(job, ctx.jobs().exit_codes.get(job.id, 2))


def cmd_cancel(args: argparse.Namespace, ctx: AppContext) -> int:
    jobs = ctx.jobs()
    jobs.recover()
    jobs.cancel(args.id)
    print(_line(jobs.get(args.id)))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = sub.add_parser("jobs", help="long work: pulls and syncs, their progress and logs")
    jsub = jobs.add_subparsers(dest="jobs_command", required=True)
    p = jsub.add_parser("list", help="recent jobs, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = jsub.add_parser("pull", help="pull a model into Ollama as a job, then sync it in")
    p.add_argument("model")
    p.set_defaults(func=cmd_pull)
    p = jsub.add_parser("sync", help="sync every source as a job")
    p.set_defaults(func=cmd_sync)
    p = jsub.add_parser("resume", help="resume an interrupted, failed or cancelled job")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_resume)
    p = jsub.add_parser("cancel", help="cancel a queued job")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_cancel)
