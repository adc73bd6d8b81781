"""Flood and repeat detection (刷屏检测): state over time, in memory, bounded.

:class:`FloodTracker` sees events one by one and returns :class:`~.rules.Finding` objects:

* ``flood:rate`` — more than ``flood_messages`` messages in ``flood_seconds`` by one member in one
  group;
* ``flood:repeat`` — the same (normalized) text ``repeat_count`` times within ``repeat_seconds``
  by one member in one group;
* ``newcomer`` — one of a member's first ``newcomer_messages`` messages after joining (the
  detector then applies the stricter newcomer threshold).

Cross-group waves (the same text in many groups) belong to the waves module; this tracker is per
group. Memory is bounded: at most ``max_keys`` (member, group) entries, least recently seen first
out, and each entry keeps at most ``flood_messages + 1`` timestamps and ``repeat_count`` texts.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime

from qunyun.events import Event, EventType

from .config import SpamRulesConfig
from .normalize import compact, normalize
from .rules import Finding

W_FLOOD = 3.0
W_REPEAT = 3.0


@dataclass(slots=True)
class _State:
    times: deque[float] = field(default_factory=deque)
    texts: deque[tuple[float, str]] = field(default_factory=deque)
    joined_at: float | None = None
    since_join: int = 0


def _ts(value: datetime) -> float:
    return value.timestamp()


class FloodTracker:
    """Per (platform, group, member) message rate, repeats and newcomer status."""

    def __init__(self, config: SpamRulesConfig | None = None, *, max_keys: int = 100_000) -> None:
        self.config = config or SpamRulesConfig()
        self.max_keys = max_keys
        self._state: OrderedDict[tuple[str, str, str], _State] = OrderedDict()

    def __len__(self) -> int:
        return len(self._state)

    def _get(self, key: tuple[str, str, str]) -> _State:
        st = self._state.get(key)
        if st is None:
            st = self._state[key] = _State()
            while len(self._state) > self.max_keys:
                self._state.popitem(last=False)
        else:
            self._state.move_to_end(key)
        return st

    def is_newcomer(self, event: Event) -> bool:
        """True while the member is within their first messages after a JOIN this tracker saw."""
        st = self._state.get((event.platform, event.group_id, event.user_id))
        return bool(st and st.joined_at is not None and st.since_join <= self.config.newcomer_messages)

    def observe(self, event: Event, config: SpamRulesConfig | None = None) -> list[Finding]:
        """Feed one event; findings for it (empty for ordinary messages and non-message events)."""
        cfg = config or self.config
        key = (event.platform, event.group_id, event.user_id)
        now = _ts(event.time)
        if event.type is EventType.JOIN:
            st = self._get(key)
            st.joined_at, st.since_join = now, 0
            return []
        if event.type is EventType.LEAVE:
            self._state.pop(key, None)
            return []
        if not event.is_activity:
            return []
        st = self._get(key)
        out: list[Finding] = []
        # rate: keep the last flood_messages+1 timestamps
        st.times.append(now)
        while len(st.times) > cfg.flood_messages + 1:
            st.times.popleft()
        while st.times and now - st.times[0] > cfg.flood_seconds:
            st.times.popleft()
        if len(st.times) > cfg.flood_messages:
            out.append(Finding("flood:rate", W_FLOOD, f"{len(st.times)} msgs/{cfg.flood_seconds:g}s"))
        # repeats of the same normalized text
        text = event.plain_text()
        if text.strip():
            digest = hashlib.blake2b(compact(normalize(text)).encode(), digest_size=8).hexdigest()
            while st.texts and now - st.texts[0][0] > cfg.repeat_seconds:
                st.texts.popleft()
            st.texts.append((now, digest))
            while len(st.texts) > max(cfg.repeat_count * 4, 8):
                st.texts.popleft()
            same = sum(1 for _, d in st.texts if d == digest)
            if same >= cfg.repeat_count:
                out.append(Finding("flood:repeat", W_REPEAT, f"{same}x"))
        if st.joined_at is not None:
            st.since_join += 1
            if st.since_join <= cfg.newcomer_messages:
                out.append(Finding("newcomer", 0.0, f"message {st.since_join} after joining"))
        return out
