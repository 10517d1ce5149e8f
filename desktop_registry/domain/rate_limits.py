"""A remote source's request budget for one model, as last seen: what the status bar shows.

Pure data, read-only; sources/rate_limit.py fills it from response headers and its own count.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RateLimitSnapshot(BaseModel):
    """Requests left for one model in the current window (limits are per model)."""

    model_config = ConfigDict(frozen=True)

    source: str  # "GitHub Models", or an endpoint's name
    model: str  # the model id the budget belongs to, as the limiter keys it (lower case)
    limit: int | None  # requests per window: the server's header, else the plan's tier
    remaining: int | None  # the server's last figure, lowered by what was sent since
    window_s: float
    resets_at: datetime | None  # when the server said a request frees up (UTC)
    observed_at: datetime  # the reply (or 429) that told us (UTC)
