"""Token buckets per platform, per account and per group (风控: platforms punish floods).

In-process and monotonic-clock based; the outbox dispatcher asks how long to wait before an
action may go, and reschedules it instead of sleeping, so one slow group never blocks another.
Also here: the per-platform quota table (:data:`QUOTAS`, the source of the default limits),
broadcast spreading with jitter, and the per-account :class:`CircuitBreaker`.
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
                rate=limit.rate / limit.per,
                burst=float(limit.burst),
                tokens=float(limit.burst),
                stamp=self.clock(),
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


def broadcast_delays(
    count: int, gap_seconds: float, *, spread: float = 0.25, rng: random.Random | None = None
) -> list[float]:
    """Send offsets (seconds from now) for a broadcast to ``count`` groups.

    Consecutive groups are ``gap_seconds`` apart on average, each gap jittered by ``spread`` so
    the sends never form the regular pattern that flood detection looks for (QQ: ~7 s per
    account between groups; see :data:`QUOTAS`).
    """
    delays: list[float] = []
    at = 0.0
    for i in range(count):
        if i:
            at += jittered(gap_seconds, spread, rng)
        delays.append(at)
    return delays


@dataclass(frozen=True, slots=True)
class PlatformQuota:
    """What a platform tolerates, as operators and the platforms' docs report it.

    ``limits`` maps a scope (platform / account / group) to ``(rate, per_seconds, burst)`` and is
    the source of the ``rate_limits`` defaults in :mod:`qunyun.config`; the rest is documented
    policy the dispatcher and features honour (broadcast spacing, staff confirmation, caps).
    """

    limits: dict[str, tuple[float, float, int]]
    #: average seconds between two groups of one broadcast, per account
    broadcast_gap: float
    #: action kinds a bot may not perform itself: they become staff tasks
    needs_staff: tuple[str, ...] = ()
    #: e.g. customer-group broadcasts per month (None: no documented cap)
    monthly_cap: int | None = None
    note: str = ""


QUOTAS: dict[str, PlatformQuota] = {
    "qq": PlatformQuota(
        limits={"platform": (10, 1, 10), "account": (1, 7, 3), "group": (10, 60, 3)},
        broadcast_gap=7.0,
        note="QQ accounts (OneBot) survive about 7 s between groups; faster cross-group sending gets "
        "the account restricted (风控). Short reply bursts in one group are fine.",
    ),
    "telegram": PlatformQuota(
        limits={"platform": (30, 1, 30), "account": (30, 1, 30), "group": (20, 60, 5)},
        broadcast_gap=0.05,
        note="Bot API: about 30 messages/s per bot overall and 20/min per group; 429 carries retry_after.",
    ),
    "wecom": PlatformQuota(
        limits={"platform": (20, 60, 5), "account": (20, 60, 5), "group": (20, 60, 5)},
        broadcast_gap=3.0,
        needs_staff=("customer_group_broadcast",),
        monthly_cap=4,
        note="Group robot webhook: 20 messages/min per robot. Customer-group (客户群) broadcasts cannot be "
        "sent by a bot: a staff member confirms each in the WeCom client, and each customer receives at "
        "most 4 enterprise broadcasts per month.",
    ),
    "wechat": PlatformQuota(
        limits={"platform": (1, 3, 5), "account": (1, 3, 5), "group": (1, 10, 2)},
        broadcast_gap=10.0,
        note="Personal WeChat: bursts of ~60-120 messages or more than ~100 groups trigger 发送过于频繁.",
    ),
    "*": PlatformQuota(
        limits={"platform": (10, 1, 10), "group": (1, 1, 3)},
        broadcast_gap=1.0,
        note="Any other platform: conservative defaults.",
    ),
}


def default_limits() -> dict[str, dict[str, dict[str, float]]]:
    """The ``rate_limits`` defaults derived from :data:`QUOTAS` (``{platform: {scope: {...}}}``)."""
    return {
        platform: {
            scope: {"rate": rate, "per": per, "burst": burst}
            for scope, (rate, per, burst) in q.limits.items()
        }
        for platform, q in QUOTAS.items()
    }


def quota(platform: str) -> PlatformQuota:
    return QUOTAS.get(platform) or QUOTAS["*"]


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    open_until: float | None = None
    probing: bool = False
    opened: int = 0


class CircuitBreaker:
    """Per-account breaker: ``threshold`` consecutive failures pause the account for ``cooldown``.

    While open, nothing is sent for that account (the queue is kept). After the cool-down one
    probe is let through (half-open): success closes the circuit, failure opens it again.
    """

    def __init__(
        self, threshold: int = 5, cooldown: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._circuits: dict[tuple[str, str], _Circuit] = {}

    def _get(self, key: tuple[str, str]) -> _Circuit:
        c = self._circuits.get(key)
        if c is None:
            c = self._circuits[key] = _Circuit()
        return c

    def wait(self, platform: str, account: str) -> float:
        """0.0 if a call may go now (taking the probe slot when half-open), else seconds to wait."""
        c = self._get((platform, account))
        if c.open_until is None:
            return 0.0
        now = self.clock()
        if now < c.open_until:
            return c.open_until - now
        if c.probing:
            return 1.0
        c.probing = True
        return 0.0

    def success(self, platform: str, account: str) -> bool:
        """Record a success; True if this closed an open circuit (the account resumed)."""
        c = self._get((platform, account))
        was_open = c.open_until is not None
        c.failures, c.open_until, c.probing = 0, None, False
        return was_open

    def failure(self, platform: str, account: str) -> bool:
        """Record a failure; True if this opened the circuit (alert staff)."""
        c = self._get((platform, account))
        c.failures += 1
        if c.probing or (c.open_until is None and c.failures >= self.threshold):
            first = not c.probing
            c.open_until = self.clock() + self.cooldown
            c.probing = False
            c.opened += 1
            return first
        return False

    def state(self, platform: str, account: str) -> str:
        c = self._circuits.get((platform, account))
        if c is None or c.open_until is None:
            return "closed"
        return "half-open" if c.probing or self.clock() >= c.open_until else "open"

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            f"{p}:{a}": {"state": self.state(p, a), "failures": c.failures, "opened": c.opened}
            for (p, a), c in self._circuits.items()
        }
