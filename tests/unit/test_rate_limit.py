"""The client-side limiter keeps each model under its tier and turns 429s into waits, not errors."""

from __future__ import annotations

import asyncio
import re

import pytest

from desktop_registry.errors import RateLimitedError, SourceError, UserInputError
from desktop_registry.sources.rate_limit import (
    RateLimiter,
    TierLimit,
    parse_duration_s,
    until_text,
)


class FakeTime:
    """A clock that moves only when someone sleeps, so the tests are exact and instant."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(fake: FakeTime, tiers: dict[str, TierLimit], **kwargs: object) -> RateLimiter:
    return RateLimiter(
        tiers, window_s=60.0, clock=fake.clock, wall_clock=fake.wall, sleep=fake.sleep, **kwargs
    )


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - times[i] < window) for i in range(len(times)))


def test_a_burst_of_five_times_the_limit_all_succeed_and_stay_under_it_per_minute() -> None:
    fake = FakeTime()
    limits = limiter(fake, {"low": TierLimit(requests_per_minute=4, concurrent=2)})
    arrivals: list[float] = []

    async def one(n: int) -> int:
        async def attempt(permit):  # type: ignore[no-untyped-def]
            arrivals.append(fake.now)
            permit.settle({})
            return n

        granted = await limits.run("openai/gpt-4.1", "low", attempt)
        granted.permit.release()
        return granted.value

    async def burst() -> list[int]:
        return await asyncio.gather(*(one(n) for n in range(20)))

    assert sorted(asyncio.run(burst())) == list(range(20))
    assert len(arrivals) == 20
    assert max_in_any_window(arrivals, 60.0) <= 4


def test_a_429_with_retry_after_is_waited_out_and_the_request_then_succeeds() -> None:
    fake = FakeTime()
    limits = limiter(fake, {})
    calls: list[float] = []

    async def attempt(permit):  # type: ignore[no-untyped-def]
        calls.append(fake.now)
        if len(calls) == 1:
            raise RateLimitedError("slow down", retry_after_s=7)
        return "ok"

    granted = asyncio.run(limits.run("openai/gpt-4.1", None, attempt))
    assert granted.value == "ok"
    assert calls[1] - calls[0] >= 7  # never earlier than the server asked


def test_a_daily_limit_is_not_waited_for_and_says_until_when() -> None:
    fake = FakeTime()
    limits = limiter(fake, {})

    async def attempt(permit):  # type: ignore[no-untyped-def]
        raise RateLimitedError("day", retry_after_s=5631, daily=True)

    with pytest.raises(RateLimitedError) as caught:
        asyncio.run(limits.run("openai/gpt-4.1", None, attempt))
    assert caught.value.daily
    assert re.search(r"rate limited until (\w{3} )?\d\d:\d\d", str(caught.value))
    assert caught.value.resets_at == pytest.approx(fake.wall() + 5631, abs=1)
    assert sum(fake.slept) == 0  # nobody sat waiting for hours


def test_client_side_daily_count_stops_before_the_server_has_to() -> None:
    fake = FakeTime()
    limits = limiter(fake, {"custom": TierLimit(requests_per_day=2)})

    async def attempt(permit):  # type: ignore[no-untyped-def]
        return 1

    async def three() -> None:
        for _ in range(3):
            (await limits.run("openai/o3", "custom", attempt)).permit.release()

    with pytest.raises(RateLimitedError, match="2 requests a day") as caught:
        asyncio.run(three())
    assert "rate limited until" in str(caught.value)


def test_server_errors_are_retried_with_backoff_then_reported() -> None:
    fake = FakeTime()
    limits = limiter(fake, {}, server_error_retries=3)
    failures = iter([503, 502])

    async def flaky(permit):  # type: ignore[no-untyped-def]
        status = next(failures, None)
        if status:
            raise SourceError("upstream broke", status=status)
        return "fine"

    assert asyncio.run(limits.run("m", None, flaky)).value == "fine"
    assert len(fake.slept) == 2 and fake.slept[1] > 0

    async def broken(permit):  # type: ignore[no-untyped-def]
        raise SourceError("down for good", status=500)

    with pytest.raises(SourceError, match="down for good"):
        asyncio.run(limits.run("m", None, broken))


def test_client_errors_are_not_retried() -> None:
    fake = FakeTime()
    limits = limiter(fake, {})
    calls = []

    async def rejected(permit):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise SourceError("token rejected", status=401)

    with pytest.raises(SourceError):
        asyncio.run(limits.run("m", None, rejected))
    assert calls == [1]


def test_a_prompt_over_the_tiers_token_cap_is_refused_before_sending() -> None:
    limits = limiter(FakeTime(), {"high": TierLimit(max_input_tokens=8000)})

    async def attempt(permit):  # type: ignore[no-untyped-def]
        raise AssertionError("must not be sent")

    with pytest.raises(UserInputError, match="at most 8000 input tokens"):
        asyncio.run(limits.run("openai/gpt-4.1", "high", attempt, tokens=9000))


def test_headers_saying_no_requests_remain_pause_the_next_request() -> None:
    fake = FakeTime()
    limits = limiter(fake, {})

    async def two() -> None:
        permit = await limits.acquire("m")
        permit.settle({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "9s"})
        permit.release()
        before = fake.now
        await limits.acquire("m")
        assert fake.now - before >= 9

    asyncio.run(two())


def test_headers_teach_a_lower_per_minute_limit() -> None:
    limits = limiter(FakeTime(), {"low": TierLimit(requests_per_minute=15)})
    limits.learn("openai/gpt-4.1", {"x-ratelimit-limit-requests": "3"})
    assert limits.limit_for("openai/gpt-4.1", "low").requests_per_minute == 3


def test_durations_in_headers_are_read_in_every_form_servers_use() -> None:
    assert parse_duration_s("46") == 46
    assert parse_duration_s("6m0s") == 360
    assert parse_duration_s("250ms") == 0.25
    assert parse_duration_s("") is None
    assert re.fullmatch(r"rate limited until (\w{3} )?\d\d:\d\d", until_text(1_700_000_000))
