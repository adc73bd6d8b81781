"""The native import format: JSON Lines (optionally gzip), one event object per line.

``{"platform": "qq", "group_id": "123", "message_id": "m1", "user_id": "42", "type": "message",
"text": "...", "time": "2024-05-01T12:00:00Z", "reply_to": null, "mentions": []}`` — plus the
optional ``group_name``, ``user_name``, ``subtype``, ``segments``. Any other key is kept in the
event's ``raw``. For platform ``irc`` without ``mentions``, a leading ``nick:`` / ``nick,`` that
addresses a known member of the channel counts as a mention.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from qunyun.events import Event
from qunyun.importers.base import KnownMembers, Record, Rejected

_FIELDS = {
    "platform", "group_id", "message_id", "user_id", "type", "time", "user_name", "group_name", "text",
    "segments", "reply_to", "mentions", "subtype", "self_id",
}
_IRC_ADDRESS = re.compile(r"^\s*([^\s:,]{1,64})[:,](?:\s|$)")
#: events held back so that a nick addressed just before its owner first speaks still counts
LOOKAHEAD = 512


def _short_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_event_line(line: bytes, lineno: int) -> Record | None:
    """One JSON line → Event, Rejected, or None for a blank line."""
    stripped = line.strip()
    if not stripped:
        return None
    raw_text = stripped.decode("utf-8", errors="replace")
    try:
        obj = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        return Rejected(lineno, f"invalid JSON: {exc}", raw_text)
    if not isinstance(obj, dict):
        return Rejected(lineno, f"expected a JSON object, got {type(obj).__name__}", raw_text)
    data: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _FIELDS:
            data[key] = value
        else:
            extra[key] = value
    for key in ("group_id", "user_id", "message_id", "reply_to", "self_id"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            data[key] = str(value)
    if data.get("mentions") is None:
        data.pop("mentions", None)
    elif isinstance(data["mentions"], list):
        data["mentions"] = [str(m) for m in data["mentions"]]
    if extra:
        data["raw"] = extra
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        return Rejected(lineno, _short_error(exc), raw_text)


class NativeImporter:
    name = "events"
    description = "qunyun JSON Lines events (.jsonl / .jsonl.gz)"

    def sniff(self, path: Path, head: bytes) -> bool:
        for line in head.splitlines()[:5]:
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            return isinstance(obj, dict) and {"platform", "group_id", "message_id"} <= obj.keys()
        return False

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        window: deque[tuple[Event, bool]] = deque()
        nicks: dict[tuple[str, str], dict[str, str]] = {}

        def known_nicks(ev: Event) -> dict[str, str]:
            key = (ev.platform, ev.group_id)
            table = nicks.get(key)
            if table is None:
                table = nicks[key] = {}
                if known is not None:
                    for uid in known(*key):
                        table[uid.lower()] = uid
            return table

        def finish(ev: Event, infer: bool) -> Event:
            if infer:
                match = _IRC_ADDRESS.match(ev.text or "")
                target = known_nicks(ev).get(match.group(1).lower()) if match else None
                if target and target != ev.user_id:
                    ev.mentions = [target]
            return ev

        for lineno, line in enumerate(stream, start=1):
            record = parse_event_line(line, lineno)
            if record is None:
                continue
            if isinstance(record, Rejected) or record.platform != "irc":
                yield record
                continue
            known_nicks(record).setdefault(record.user_id.lower(), record.user_id)
            infer = "mentions" not in record.model_fields_set and bool(record.text)
            window.append((record, infer))
            while len(window) > LOOKAHEAD:
                yield finish(*window.popleft())
        while window:
            yield finish(*window.popleft())
