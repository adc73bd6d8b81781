"""How time is counted: calendar days, or the group's active days (days with at least one message).

A historic log sampled on 172 days over 13 years (the Ubuntu IRC corpus), or a group that sleeps over
the holidays, would make everyone look silent in calendar days; counted in active days, a gap in the
log ages nobody. For a group that talks every day the two clocks agree.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, timedelta


class Clock:
    """Calendar days."""

    kind = "calendar"

    def dist(self, earlier: date, later: date) -> int:
        """Days from ``earlier`` to ``later`` (0 when the same day)."""
        return (later - earlier).days

    def start(self, end: date, n: int) -> date:
        """The earliest day ``d`` with ``dist(d, end) < n`` (a window of ``n`` days ending at ``end``)."""
        return end - timedelta(days=max(n, 1) - 1)


class ActiveDayClock(Clock):
    """Days on which the group had at least one message."""

    kind = "active_days"

    def __init__(self, days: Iterable[date]) -> None:
        self.days = sorted(set(days))

    def idx(self, day: date) -> int:
        return bisect_right(self.days, day)

    def dist(self, earlier: date, later: date) -> int:
        return max(0, self.idx(later) - self.idx(earlier))

    def start(self, end: date, n: int) -> date:
        pos = self.idx(end) - max(n, 1)
        return self.days[pos] if pos >= 0 else date.min
