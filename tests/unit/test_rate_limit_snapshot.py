"""The limiter's snapshot after a 429: nothing left until the time the server gave, then the
window's own count again. A fake clock; no sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from desktop_registry.errors import RateLimitedError
from desktop_registry.sources.rate_limit import RateLimiter, TierLimit


def test_a_429_shows_no_requests_left_until_the_reset_the_server_gave():
    mono, wall = [0.0], [1_000.0]

    async def sleep(seconds: float) -> None:
        mono[0] += seconds
        wall[0] += seconds

    limiter = RateLimiter(
        {"low": TierLimit(10, 100, 2)},
        window_s=60,
        max_wait_s=5,  # a 30 s wait is given back to the user instead of slept through
        clock=lambda: mono[0],
        wall_clock=lambda: wall[0],
        sleep=sleep,
    )

    async def refused(_permit: object) -> None:
        raise RateLimitedError("Rate limit of 10 per 60s exceeded.", retry_after_s=30)

    assert limiter.snapshot() is None
    with pytest.raises(RateLimitedError):
        asyncio.run(limiter.run("openai/gpt-4.1", "low", refused))
    snapshot = limiter.snapshot()
    assert snapshot is not None
    assert (snapshot.model, snapshot.limit, snapshot.remaining) == ("openai/gpt-4.1", 10, 0)
    assert snapshot.resets_at == datetime.fromtimestamp(1_030, UTC)

    mono[0] += 61
    wall[0] += 61
    after = limiter.snapshot("OpenAI/GPT-4.1")
    assert after is not None
    assert (after.remaining, after.resets_at) == (10, None)  # the window has passed
