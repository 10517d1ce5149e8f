"""Client-side rate limiting for remote models: per-tier windows, concurrency, 429 and 5xx backoff.

Never lets a minute-level limit reach the user as an error, and never sleeps through a daily one.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from desktop_registry.domain.rate_limits import RateLimitSnapshot
from desktop_registry.errors import RateLimitedError, SourceError, UserInputError

T = TypeVar("T")

# GitHub Models free-plan limits per rate_limit_tier (docs: "Prototyping with AI models").
# Paid plans differ, so Settings can override them and response headers refine them.


@dataclass(frozen=True)
class TierLimit:
    requests_per_minute: int | None = None
    requests_per_day: int | None = None
    concurrent: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None


FREE_PLAN_TIERS: dict[str, TierLimit] = {
    "low": TierLimit(15, 150, 5, 8000, 4000),
    "high": TierLimit(10, 50, 2, 8000, 4000),
    "embeddings": TierLimit(15, 150, 5, 64000, None),
    "custom": TierLimit(1, 8, 1, 4000, 4000),
}
UNLIMITED = TierLimit()
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration_s(value: str | None) -> float | None:
    """Seconds from a header value: `46`, `0.5`, `1s`, `6m0s`, `250ms`."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[unit] for n, unit in parts)


def until_text(resets_at: float) -> str:
    """`rate limited until 14:32` (local time; the date too when it is not today)."""
    when = datetime.fromtimestamp(resets_at).astimezone()
    today = datetime.now().astimezone().date()
    stamp = when.strftime("%H:%M")
    if when.date() != today:
        stamp = when.strftime("%a %H:%M")
    return f"rate limited until {stamp}"


@dataclass
class _Stamp:
    """One request inside the window; `at` is None until its response arrived."""

    at: float | None = None


@dataclass
class _KeyState:
    minute: deque[_Stamp] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    blocked_until: float = 0.0  # monotonic; set by a 429 or a spent `remaining` header
    learned_rpm: int | None = None
    # What the server last said (wall-clock epoch seconds), for RateLimiter.snapshot().
    remaining: int | None = None
    resets_at: float | None = None
    observed_at: float | None = None


class Permit:
    """Permission for one request; keep it until the reply (or its stream) is finished."""

    def __init__(self, limiter: RateLimiter, key: str, stamp: _Stamp) -> None:
        self._limiter = limiter
        self.key = key
        self._stamp = stamp
        self._released = False

    def settle(self, headers: Mapping[str, str] | None = None) -> None:
        """The response (or its first byte) arrived: the window counts from now."""
        if self._stamp.at is None:
            self._stamp.at = self._limiter.clock()
        if headers:
            self._limiter.learn(self.key, headers)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self.settle()
        self._limiter._state(self.key).in_flight -= 1

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.release()


@dataclass
class Granted(Generic[T]):
    value: T
    permit: Permit


class RateLimiter:
    """Keeps each model under its tier's limits and retries what is worth retrying."""

    def __init__(
        self,
        tiers: Mapping[str, TierLimit] | None = None,
        *,
        window_s: float = 60.0,
        day_s: float = 86400.0,
        max_wait_s: float = 120.0,
        rate_limit_retries: int = 8,
        server_error_retries: int = 3,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 8.0,
        source_label: str = "GitHub Models",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.tiers = dict(FREE_PLAN_TIERS if tiers is None else tiers)
        self.window_s = window_s
        self.day_s = day_s
        self.max_wait_s = max_wait_s
        self.rate_limit_retries = rate_limit_retries
        self.server_error_retries = server_error_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.source_label = source_label
        self.clock = clock
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._states: dict[str, _KeyState] = {}
        self._tier_of: dict[str, str] = {}
        self.waited_s = 0.0  # total time spent waiting for the limits (shown in status)
        self.retries = 0
        self._last_key = ""  # the model whose reply came last (the status bar's default)

    # ----- limits ------------------------------------------------------------------------
    def _state(self, key: str) -> _KeyState:
        return self._states.setdefault(key.lower(), _KeyState())

    def limit_for(self, key: str, tier: str | None = None) -> TierLimit:
        if tier:
            self._tier_of[key.lower()] = tier
        name = tier or self._tier_of.get(key.lower(), "")
        base = self.tiers.get(name, UNLIMITED)
        learned = self._state(key).learned_rpm
        if learned is not None and (
            base.requests_per_minute is None or learned < base.requests_per_minute
        ):
            return TierLimit(
                learned,
                base.requests_per_day,
                base.concurrent,
                base.max_input_tokens,
                base.max_output_tokens,
            )
        return base

    def learn(self, key: str, headers: Mapping[str, str]) -> None:
        """Refine the limits from `x-ratelimit-*` response headers."""
        lowered = {k.lower(): v for k, v in headers.items()}
        state = self._state(key)
        limit = lowered.get("x-ratelimit-limit-requests")
        if limit and limit.strip().isdigit() and int(limit) > 0:
            state.learned_rpm = int(limit)
        remaining = lowered.get("x-ratelimit-remaining-requests")
        self._observe(
            key,
            int(remaining) if remaining is not None and remaining.strip().isdigit() else None,
            parse_duration_s(lowered.get("x-ratelimit-reset-requests")),
        )
        if remaining is not None and remaining.strip() == "0":
            wait = parse_duration_s(lowered.get("x-ratelimit-reset-requests"))
            if wait is None:
                wait = parse_duration_s(lowered.get("x-ratelimit-timeremaining"))
            if wait is not None and wait <= self.max_wait_s:
                state.blocked_until = max(state.blocked_until, self.clock() + wait)

    def _observe(self, key: str, remaining: int | None, reset_s: float | None) -> None:
        state = self._state(key)
        now = self.wall_clock()
        state.remaining = remaining
        state.resets_at = now + reset_s if reset_s is not None else None
        state.observed_at = now
        self._last_key = key.lower()

    def snapshot(self, key: str | None = None) -> RateLimitSnapshot | None:
        """What is known of `key`'s request budget (default: the model heard from last).

        None until a reply or a 429 came back. The server's figure is lowered by requests sent
        since, and replaced by our own count once the reset time it gave has passed.
        """
        name = (key or self._last_key).lower()
        state = self._states.get(name)
        if state is None or state.observed_at is None:
            return None
        limit = self.limit_for(name).requests_per_minute
        remaining, resets_at = state.remaining, state.resets_at
        if resets_at is not None and self.wall_clock() >= resets_at:
            remaining, resets_at = None, None
        if limit is not None:
            now = self.clock()
            recent = sum(1 for s in state.minute if s.at is None or now - s.at < self.window_s)
            counted = max(0, limit - recent)
            remaining = counted if remaining is None else min(remaining, counted)
        return RateLimitSnapshot(
            source=self.source_label,
            model=name,
            limit=limit,
            remaining=remaining,
            window_s=self.window_s,
            resets_at=datetime.fromtimestamp(resets_at, UTC) if resets_at is not None else None,
            observed_at=datetime.fromtimestamp(state.observed_at, UTC),
        )

    def _delay(self, state: _KeyState, limit: TierLimit, now: float) -> float:
        """Seconds to wait before the next request may start (0 = now)."""
        delay = max(0.0, state.blocked_until - now)
        horizon = self.window_s * 1.01  # a hair beyond the window so server clocks agree
        while (
            state.minute and state.minute[0].at is not None and now - state.minute[0].at >= horizon
        ):
            state.minute.popleft()
        rpm = limit.requests_per_minute
        if rpm is not None and len(state.minute) >= rpm:
            settled = [s.at for s in state.minute if s.at is not None]
            counting = len(state.minute)
            # The oldest settled stamps leave the window first; unsettled ones block until they settle.
            if len(settled) > counting - rpm:
                settled.sort()
                expire = settled[counting - rpm] + horizon - now
                delay = max(delay, expire)
            else:
                delay = max(delay, min(0.05, self.window_s / 50))
        if limit.concurrent is not None and state.in_flight >= limit.concurrent:
            delay = max(delay, min(0.02, self.window_s / 50))
        return delay

    def _check_day(self, key: str, state: _KeyState, limit: TierLimit) -> None:
        now = self.clock()
        while state.day and now - state.day[0] >= self.day_s:
            state.day.popleft()
        rpd = limit.requests_per_day
        if rpd is not None and len(state.day) >= rpd:
            wait = state.day[0] + self.day_s - now
            resets_at = self.wall_clock() + wait
            raise RateLimitedError(
                f"{self.source_label} allows {rpd} requests a day to {key} on your plan; "
                f"{until_text(resets_at)}.",
                retry_after_s=wait,
                resets_at=resets_at,
                daily=True,
            )

    def _check_tokens(self, key: str, limit: TierLimit, tokens: int, output_tokens: int) -> None:
        if limit.max_input_tokens and tokens > limit.max_input_tokens:
            raise UserInputError(
                f"This request is about {tokens} tokens, but {key} accepts at most "
                f"{limit.max_input_tokens} input tokens per request on your plan. "
                "Shorten the prompt or start a new conversation."
            )
        if limit.max_output_tokens and output_tokens > limit.max_output_tokens:
            raise UserInputError(
                f"{output_tokens} output tokens were asked for, but {key} returns at most "
                f"{limit.max_output_tokens} per request on your plan. Lower the maximum."
            )

    async def acquire(
        self, key: str, tier: str | None = None, *, tokens: int = 0, output_tokens: int = 0
    ) -> Permit:
        """Wait until a request to `key` fits the limits, then hand out a permit for it."""
        limit = self.limit_for(key, tier)
        self._check_tokens(key, limit, tokens, output_tokens)
        state = self._state(key)
        while True:
            self._check_day(key, state, limit)
            now = self.clock()
            delay = self._delay(state, limit, now)
            if delay <= 0:
                stamp = _Stamp()
                state.minute.append(stamp)
                state.day.append(now)
                state.in_flight += 1
                return Permit(self, key.lower(), stamp)
            self.waited_s += delay
            await self.sleep(delay)
            limit = self.limit_for(key)

    # ----- retries ---------------------------------------------------------------------
    def _jitter(self, wait: float) -> float:
        return wait + self.rng.uniform(0.0, min(1.0, 0.1 * wait + 0.01))

    def _daily(self, key: str, exc: RateLimitedError) -> RateLimitedError:
        wait = exc.retry_after_s or self.day_s
        resets_at = exc.resets_at or self.wall_clock() + wait
        self._state(key).blocked_until = self.clock() + wait
        self._observe(key, 0, resets_at - self.wall_clock())
        return RateLimitedError(
            f"{self.source_label} daily limit for {key} is used up; {until_text(resets_at)}.",
            retry_after_s=wait,
            resets_at=resets_at,
            daily=True,
            source=exc.source,
        )

    async def run(
        self,
        key: str,
        tier: str | None,
        attempt: Callable[[Permit], Awaitable[T]],
        *,
        tokens: int = 0,
        output_tokens: int = 0,
    ) -> Granted[T]:
        """Run `attempt` under the limits; waits out 429s and backs off on 5xx.

        On success the permit passes to the caller, who releases it when the reply is read.
        """
        rate_tries = 0
        server_tries = 0
        while True:
            permit = await self.acquire(key, tier, tokens=tokens, output_tokens=output_tokens)
            try:
                value = await attempt(permit)
            except RateLimitedError as exc:
                permit.release()
                if exc.daily:
                    raise self._daily(key, exc) from None
                wait = exc.retry_after_s if exc.retry_after_s is not None else self.window_s
                self._observe(key, 0, wait)
                rate_tries += 1
                if wait > self.max_wait_s or rate_tries > self.rate_limit_retries:
                    resets_at = self.wall_clock() + wait
                    raise RateLimitedError(
                        f"{self.source_label} is rate limiting {key}; {until_text(resets_at)}.",
                        retry_after_s=wait,
                        resets_at=resets_at,
                        source=exc.source,
                    ) from None
                state = self._state(key)
                # Everyone waiting for this model pauses, not just this request.
                state.blocked_until = max(state.blocked_until, self.clock() + self._jitter(wait))
                self.retries += 1
                continue
            except SourceError as exc:
                permit.release()
                status = exc.status or 0
                if status < 500 or server_tries >= self.server_error_retries:
                    raise
                backoff = min(self.backoff_cap_s, self.backoff_base_s * 2**server_tries)
                server_tries += 1
                self.retries += 1
                pause = self.rng.uniform(backoff / 2, backoff)
                self.waited_s += pause
                await self.sleep(pause)
                continue
            except BaseException:
                permit.release()
                raise
            return Granted(value, permit)
