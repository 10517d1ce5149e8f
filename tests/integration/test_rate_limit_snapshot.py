"""The GitHub Models request budget as the serving service reports it: remaining, limit, reset.

The GitHub Models emulator on a real socket enforces N requests per window and sends the
`x-ratelimit-*` headers; the client is told a looser plan, so the limit shown must be the
server's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from desktop_registry.domain import Source
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.domain.rate_limits import RateLimitSnapshot
from desktop_registry.services.serving.service import ServingService
from desktop_registry.services.sync.remote import CatalogCache, GitHubModelsSync
from desktop_registry.sources.github_models import GitHubModelsSource
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.sources.rate_limit import RateLimiter, TierLimit
from desktop_registry.storage import Database, ModelRepository
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.github_models_emulator import TierLimit as ServerTier

N = 4
WINDOW_S = 30.0  # long enough that no request leaves the window while the test runs
MODEL = "openai/gpt-4o-mini"
OTHER = "deepseek/DeepSeek-V3-0324"


@pytest.fixture
def github() -> Iterator[GitHubModelsEmulator]:
    tiers = {
        "low": ServerTier(requests_per_minute=N, requests_per_day=1000, concurrent=3),
        "high": ServerTier(requests_per_minute=N, requests_per_day=1000, concurrent=3),
    }
    with GitHubModelsEmulator(tiers=tiers, window_s=WINDOW_S) as emu:
        yield emu


async def scenario(github: GitHubModelsEmulator, tmp_path: Path) -> dict[str, object]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    loose = TierLimit(15, 1000, 5)  # what the client believes; the server says N
    limiter = RateLimiter({"low": loose, "high": loose}, window_s=WINDOW_S)
    source = GitHubModelsSource(github.url, token=lambda: github.token, gate=limiter)
    ollama = OllamaSource("http://127.0.0.1:9")
    await GitHubModelsSync(source, repo, CatalogCache(tmp_path / "catalog.json")).run()
    service = ServingService(repo, {Source.OLLAMA: ollama})
    service.register_backend(Source.GITHUB_MODELS, source)

    async def chat(model: str) -> None:
        async for _ in service.chat(model, [ChatMessage(role="user", content="hi")]):
            pass

    seen: dict[str, object] = {"before": service.rate_limit()}
    try:
        await chat(MODEL)
        seen["after_one"] = service.rate_limit()
        seen["one_at"] = datetime.now(UTC)
        await chat(MODEL)
        await chat(MODEL)
        seen["after_three"] = service.rate_limit()
        seen["server_accepted"] = len(github.accepted_timestamps(MODEL))
        await chat(OTHER)
        seen["latest"] = service.rate_limit()
        seen["by_name"] = service.rate_limit(model=MODEL)
        seen["never_called"] = service.rate_limit(model="xai/grok-3")
        seen["ollama"] = service.rate_limit(Source.OLLAMA)
    finally:
        await source.aclose()
        await ollama.aclose()
        db.dispose()
    return seen


def test_the_serving_service_reports_requests_left_the_limit_and_the_reset(github, tmp_path):
    seen = asyncio.run(scenario(github, tmp_path))
    assert seen["before"] is None  # nothing to show before a GitHub Models request

    one = seen["after_one"]
    assert isinstance(one, RateLimitSnapshot)
    assert (one.source, one.model, one.limit, one.remaining) == ("GitHub Models", MODEL, N, N - 1)
    assert one.window_s == WINDOW_S
    assert one.resets_at is not None
    assert seen["one_at"] - timedelta(seconds=1) < one.resets_at  # type: ignore[operator]
    assert one.resets_at <= seen["one_at"] + timedelta(seconds=WINDOW_S + 1)  # type: ignore[operator]

    three = seen["after_three"]
    assert isinstance(three, RateLimitSnapshot)
    assert three.remaining == N - 3 == N - seen["server_accepted"]  # type: ignore[operator]
    assert three.observed_at >= one.observed_at

    # The default is the model heard from last; each model keeps its own budget.
    latest = seen["latest"]
    assert isinstance(latest, RateLimitSnapshot)
    assert (latest.model, latest.remaining) == (OTHER.lower(), N - 1)
    assert seen["by_name"] == three  # no request to it since
    assert seen["never_called"] is None
    assert seen["ollama"] is None  # a local source has no request budget

    with pytest.raises(ValidationError):  # a read-only view: the limiter alone updates it
        three.remaining = 99  # type: ignore[misc]
