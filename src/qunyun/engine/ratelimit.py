"""Token buckets per platform, per account and per group (风控: platforms punish floods).

In-process and monotonic-clock based; the outbox dispatcher asks how long to wait before an
action may go, and reschedules it instead of sleeping, so one slow group never blocks another.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qunyun.config import RateLimit, Settings


@dataclass(slots=True)
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float
    stamp: float

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class RateLimiter:
    """Checks every bucket an action falls under; takes a token from each only when all allow."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._buckets: dict[tuple[str, ...], Bucket] = {}

    def _bucket(self, key: tuple[str, ...], limit: RateLimit) -> Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = Bucket(
                rate=limit.rate / limit.per, burst=float(limit.burst), tokens=float(limit.burst), stamp=self.clock()
            )
        return b

    def _buckets_for(self, platform: str, account: str | None, group_id: str | None) -> Iterable[Bucket]:
        scopes: list[tuple[tuple[str, ...], str]] = [((platform, "platform"), "platform")]
        if account:
            scopes.append(((platform, "account", account), "account"))
        if group_id:
            scopes.append(((platform, "group", group_id), "group"))
        for key, scope in scopes:
            limit = self.settings.limit(platform, scope)
            if limit is not None:
                yield self._bucket(key, limit)

    def try_acquire(self, platform: str, account: str | None, group_id: str | None) -> float:
        """0.0 and a token taken, or the seconds to wait (nothing taken)."""
        now = self.clock()
        buckets = list(self._buckets_for(platform, account, group_id))
        delay = max((b.wait(now) for b in buckets), default=0.0)
        if delay > 0:
            return delay
        for b in buckets:
            b.take(now)
        return 0.0


def jittered(seconds: float, spread: float = 0.25, rng: random.Random | None = None) -> float:
    """Spread retries/broadcasts so many groups do not fire in the same instant."""
    r = rng or random
    return seconds * (1 + r.uniform(-spread, spread))
