"""A burst of 5N requests under an N-per-window limit: every one succeeds, none over the limit.

The GitHub Models emulator enforces the tier with a 1-second window on a real socket.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelRecord, Source
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.services.serving.service import ServingService
from desktop_registry.services.sync.remote import CatalogCache, GitHubModelsSync
from desktop_registry.sources.github_models import GitHubModelsSource
from desktop_registry.sources.rate_limit import RateLimiter, TierLimit
from desktop_registry.storage import Database, ModelRepository
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.github_models_emulator import TierLimit as ServerTier

N = 4
WINDOW_S = 1.0
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def github() -> Iterator[GitHubModelsEmulator]:
    tiers = {
        "low": ServerTier(requests_per_minute=N, requests_per_day=1000, concurrent=3),
        "high": ServerTier(requests_per_minute=N, requests_per_day=1000, concurrent=3),
    }
    with GitHubModelsEmulator(tiers=tiers, window_s=WINDOW_S) as emu:
        yield emu


def max_per_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps[i:] if t - stamps[i] < window) for i in range(len(stamps)))


async def burst(github: GitHubModelsEmulator, tmp_path: Path, count: int) -> list[str]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    limiter = RateLimiter(
        {"low": TierLimit(N, 1000, 3), "high": TierLimit(N, 1000, 3)}, window_s=WINDOW_S
    )
    source = GitHubModelsSource(github.url, token=lambda: github.token, gate=limiter)
    await GitHubModelsSync(source, repo, CatalogCache(tmp_path / "catalog.json")).run()
    service = ServingService(repo, {})
    service.register_backend(Source.GITHUB_MODELS, source)
    record: ModelRecord = repo.resolve(MODEL)

    async def one(n: int) -> str:
        text = ""
        async for chunk in service.chat(record, [ChatMessage(role="user", content=f"#{n}")]):
            text += chunk.content
        return text

    try:
        return await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await source.aclose()
        db.dispose()


def test_a_burst_of_five_times_the_limit_completes_without_a_failure_or_excess(github, tmp_path):
    replies = asyncio.run(burst(github, tmp_path, 5 * N))
    assert len(replies) == 5 * N and all(r.strip() for r in replies)  # zero user-visible failures
    accepted = github.accepted_timestamps(MODEL)
    assert len(accepted) == 5 * N
    assert max_per_window(accepted, WINDOW_S) <= N
    # The client itself kept to the limit: the server never had to refuse one.
    chats = [r for r in github.requests if r.path.endswith("/chat/completions")]
    assert [r.status for r in chats].count(429) == 0


def test_a_429_with_retry_after_is_honoured_before_trying_again(github, tmp_path):
    body = json.dumps(
        {"error": {"code": "RateLimitReached", "message": "Rate limit of 4 per 1s exceeded."}}
    )
    github.fail_next.append(
        (429, body, {"retry-after": "1", "x-ratelimit-type": "UserByModelByMinute"})
    )
    started = time.monotonic()  # the emulator stamps with time.monotonic()
    replies = asyncio.run(burst(github, tmp_path, 1))
    assert replies[0].strip()  # the user sees the reply, not the 429
    accepted = github.accepted_timestamps(MODEL)
    assert len(accepted) == 1
    assert accepted[0] - started >= 1.0  # not retried before the server said it may be
