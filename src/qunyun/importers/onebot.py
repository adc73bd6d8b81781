"""Raw OneBot v11 event JSON Lines (what NapCat / Lagrange / go-cqhttp post, one object a line).

The mapping is the live adapter's (:func:`qunyun.adapters.onebot.parse.parse_event`), so imported
history and live traffic give identical events and ids (a replayed log is a no-op). Heartbeat and
lifecycle meta events are skipped (they are connection state, not group history). The adapter's
fast path skips model validation; imports validate every event, so a bad line is a rejection
with its line number rather than a bad row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from qunyun.events import Event, EventType
from qunyun.importers.base import ImporterError, KnownMembers, Record, Rejected
from qunyun.importers.common import reason_of


class OneBotImporter:
    name = "onebot"
    description = "raw OneBot v11 event JSON lines (NapCat, Lagrange, go-cqhttp logs)"

    def sniff(self, path: Path, head: bytes) -> bool:
        for line in head.splitlines()[:5]:
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            return isinstance(obj, dict) and "post_type" in obj and "time" in obj
        return False

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        try:
            from qunyun.adapters.onebot.parse import parse_event
        except ImportError as exc:  # the adapter package is part of the distribution; be explicit anyway
            raise ImporterError(f"onebot: the OneBot adapter is not installed ({exc})") from exc
        for lineno, line in enumerate(stream, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            raw_text = stripped[:4000].decode("utf-8", errors="replace")
            try:
                obj: Any = orjson.loads(stripped)
            except orjson.JSONDecodeError as exc:
                yield Rejected(lineno, f"invalid JSON: {exc}", raw_text)
                continue
            try:
                event = parse_event(obj)
                if event.type is EventType.META:
                    continue
                yield Event.model_validate(dict(event))
            except (ValueError, TypeError, KeyError) as exc:
                yield Rejected(lineno, reason_of(exc), raw_text)
