"""A study as a job: progress says "trial n of N" with the best so far, cancel keeps the finished
trials and gives the interrupted one back, and resuming the job finishes the same study."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import optuna
import pytest

from desktop_registry.domain.jobs import JobState
from desktop_registry.domain.optimization import StudyRequest
from desktop_registry.services.jobs.service import JobUpdate
from desktop_registry.services.optimization.space import parse_range
from tests.integration.optimize_setup import (
    MODEL,
    SPACE,
    context,
    registry_with_model,
    tunable_emulator,
)
from tests.servers.ollama_emulator import OllamaEmulator

TRIALS = 6


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with tunable_emulator() as emulator:
        yield emulator


def test_a_study_job_reports_progress_cancels_and_resumes_into_the_same_study(
    tmp_path, emu, capsys
):
    registry_with_model(tmp_path, emu, rows=8)
    emu.latency_s = 0.02
    ctx = context(tmp_path, emu)
    jobs = ctx.jobs()
    request = StudyRequest(
        model=MODEL, suite="Echo", strategy="random", trials=TRIALS, seed=9,
        space=[parse_range(s) for s in SPACE],
    )  # fmt: skip
    updates: list[JobUpdate] = []
    jobs.subscribe(updates.append)

    async def first_attempt() -> int:
        job = jobs.submit("optimization", {"request": request.model_dump(mode="json")}, "tune")
        # cancel while the third trial is asking its model
        while not any(u.message.startswith("trial 2 of") for u in updates):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        jobs.cancel(job.id)
        finished = await jobs.wait(job.id)
        await ctx.aclose()  # this loop's clients close on this loop; the resume gets fresh ones
        return finished.id

    job_id = asyncio.run(first_attempt())
    cancelled = jobs.get(job_id)
    assert cancelled.state is JobState.CANCELLED
    messages = [u.message for u in updates if u.message.startswith("trial")]
    assert messages[0].startswith(f"trial 1 of {TRIALS}: best ")
    assert any(u.detail.get("best_params") for u in updates)

    study_name = f"{MODEL.replace(':', '-')}-random-job{job_id}"
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.load_study(study_name=study_name, storage=storage)
    done_before = {t.number: t.value for t in study.trials if t.state.name == "COMPLETE"}
    given_back = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(done_before) >= 2 and len(given_back) == 1
    assert [t.state.name for t in study.trials].count("WAITING") == 1  # its options, queued

    async def second_attempt() -> None:
        jobs.resume(job_id)
        await jobs.wait(job_id)
        await ctx.aclose()

    asyncio.run(second_attempt())
    ctx.close()
    resumed = jobs.get(job_id)
    assert resumed.state is JobState.SUCCEEDED, resumed.error
    assert resumed.result["study"] == study_name and resumed.result["trials"] == TRIALS
    study = optuna.load_study(study_name=study_name, storage=storage)
    after = {t.number: t.value for t in study.trials if t.state.name == "COMPLETE"}
    assert done_before.items() <= after.items()  # nothing finished was lost or redone
    retry = next(t for t in study.trials if t.user_attrs.get("retry_of") == given_back[0].number)
    assert retry.state.name == "COMPLETE" and retry.params == given_back[0].params
