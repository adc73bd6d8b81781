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
from typing import BinaryIO

import orjson
from pydantic import ConfigDict, ValidationError

from qunyun.events import Event, Segment
from qunyun.importers.base import KnownMembers, Record, Rejected

_IRC_ADDRESS = re.compile(r"^\s*([^\s:,]{1,64})[:,](?:\s|$)")
#: events held back so that a nick addressed just before its owner first speaks still counts
LOOKAHEAD = 512


def _short_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "event"
        if err["type"].startswith("json_"):
            parts.append(f"invalid JSON: {err['msg']}")
        elif err["type"] == "model_type":
            parts.append("expected a JSON object")
        else:
            parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


class _Line(Event):
    """The wire shape of one line: an Event whose unknown keys are kept (moved into ``raw``).

    Parsed lines are returned as they are (a subclass of Event), already validated.
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    mentions: list[str] | None = None  # type: ignore[assignment]
    segments: list[Segment] | None = None  # type: ignore[assignment]


def parse_event_line(line: bytes, lineno: int) -> Record | None:
    """One JSON line → Event, Rejected, or None for a blank line.

    Parsing and validation happen in one pass in pydantic-core (faster than json + validate).
    """
    stripped = line.strip()
    if not stripped:
        return None
    try:
        parsed = _Line.model_validate_json(stripped)
    except ValidationError as exc:
        return Rejected(lineno, _short_error(exc), stripped.decode("utf-8", errors="replace"))
    # fix up in place: a second model (model_construct) would double the cost per line
    # (plain __dict__ writes: the values are already validated, pydantic's __setattr__ is slow)
    fields = parsed.__dict__
    if fields["mentions"] is None:  # null means absent
        fields["mentions"] = []
        parsed.__pydantic_fields_set__.discard("mentions")
    if fields["segments"] is None:
        fields["segments"] = []
    extra = parsed.__pydantic_extra__
    if extra:
        fields["raw"] = {**fields["raw"], **extra}
        parsed.__pydantic_extra__ = {}
    return parsed


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
        match_address = _IRC_ADDRESS.match

        def known_nicks(platform: str, group_id: str) -> dict[str, str]:
            table = nicks.get((platform, group_id))
            if table is None:
                table = nicks[(platform, group_id)] = {}
                if known is not None:
                    for uid in known(platform, group_id):
                        table[uid.lower()] = uid
            return table

        def finish(ev: Event, infer: bool) -> Event:
            if infer:
                match = match_address(ev.text or "")
                if match:
                    target = known_nicks(ev.platform, ev.group_id).get(match.group(1).lower())
                    if target and target != ev.user_id:
                        ev.__dict__["mentions"] = [target]
            return ev

        for lineno, line in enumerate(stream, start=1):
            record = parse_event_line(line, lineno)
            if record is None:
                continue
            if isinstance(record, Rejected) or record.platform != "irc":
                yield record
                continue
            fields = record.__dict__
            uid = fields["user_id"]
            table = known_nicks(record.platform, fields["group_id"])
            low = uid.lower()
            if low not in table:
                table[low] = uid
            infer = bool(fields["text"]) and "mentions" not in record.__pydantic_fields_set__
            window.append((record, infer))
            if len(window) > LOOKAHEAD:
                yield finish(*window.popleft())
        while window:
            yield finish(*window.popleft())
