"""Plain IRC-style logs: ``[hh:mm] <nick> text``, ``=== nick [host] has joined #chan`` and friends.

Understood (with or without a ``[hh:mm]``/``[hh:mm:ss]`` prefix, and irssi's ``hh:mm -!-`` form):

- ``<nick> text`` → message; ``* nick text`` → message/action; ``-nick:#chan- text`` → message/notice
- ``=== nick [user@host] has joined #chan`` → join
- ``=== nick [user@host] has left #chan [reason]`` → leave/part; ``... has quit [reason]`` → leave/quit
- ``=== nick was kicked off #chan by op [reason]`` → leave/kick
- ``=== nick is now known as new`` → system/nick_change; ``=== mode/#chan [+o x] by op`` → system/mode
- ``=== nick text`` (old logs without timestamps) → message/action

The date comes from the file name (``2004-12-25…``) or ``--option date=YYYY-MM-DD``; times are UTC
unless ``--option tz=…``. When the clock goes back by more than 6 hours the day advances (logs run
past midnight). Lines without a time reuse the previous line's (``raw.time_inferred``). Message ids
are ``<file stem>-<0-based line>``: the numbering the Ubuntu IRC corpus uses, so importing the
raw log and the corpus' JSON Lines of the same file stores each event once.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from qunyun.events import Event, EventType
from qunyun.importers.base import ImporterError, KnownMembers, Record, Rejected
from qunyun.importers.common import check_options, parse_date, parse_tz, reason_of, source_stem, text_lines

_TS = r"(?:\[(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\]|(?P<h2>\d{1,2}):(?P<m2>\d{2})(?::(?P<s2>\d{2}))?)"
_LINE = re.compile(rf"^(?:{_TS}\s+)?(?P<rest>.*)$")
_MSG = re.compile(r"^<\s?[@+%&~]?(?P<nick>[^>\s]{1,64})>\s?(?P<text>.*)$")
_ACTION = re.compile(r"^\*\s+(?P<nick>\S{1,64})\s(?P<text>.*)$")
_NOTICE = re.compile(r"^-(?P<nick>[^\s:!-]{1,64})(?::[^-\s]*)?-\s?(?P<text>.*)$")
_SYS = re.compile(r"^(?:===|-!-|\*\*\*)\s+(?P<body>.*)$")
_JOIN = re.compile(r"^(?P<nick>\S{1,64})\s+\[(?P<host>[^\]]*)\]\s+has joined\s+#?(?P<chan>\S+)")
_PART = re.compile(r"^(?P<nick>\S{1,64})\s+\[(?P<host>[^\]]*)\]\s+has left\s+#?(?P<chan>\S+)\s*(?:\[(?P<why>.*)\])?")
_QUIT = re.compile(r"^(?P<nick>\S{1,64})\s+\[(?P<host>[^\]]*)\]\s+has quit\s*(?:\[(?P<why>.*)\])?")
_KICK = re.compile(
    r"^(?P<nick>\S{1,64})\s+was kicked (?:off|from)\s+#?(?P<chan>\S+)\s+by\s+(?P<by>\S+)"
    r"\s*(?:\[(?P<why>.*)\])?"
)
_NICK = re.compile(r"^(?P<nick>\S{1,64})\s+is now known as\s+(?P<new>\S{1,64})\s*$")
_MODE = re.compile(r"^mode/#?(?P<chan>\S+)\s+\[(?P<mode>[^\]]*)\]\s+by\s+(?P<by>\S+)")
_OLD_ACTION = re.compile(r"^(?P<nick>[^\s\[\]]{1,64})\s+(?P<text>\S.*)$")
_CHANNEL_HINT = re.compile(r"(?:has joined|has left|kicked off|mode/)\s*#(?P<chan>[^\s\]]+)")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ADDRESS = re.compile(r"^\s*([^\s:,]{1,64})[:,](?:\s|$)")
#: lines read ahead to find the channel name when no option gives it
CHANNEL_SCAN = 2000
#: events held back so a nick addressed just before its owner first speaks still counts as a mention
LOOKAHEAD = 512


@dataclass(frozen=True, slots=True)
class _Opts:
    day: date | None = None
    channel: str | None = None
    tz: tzinfo = UTC
    platform: str = "irc"
    twelve_hour: bool = False


class IrcImporter:
    name = "irc"
    description = "plain IRC-style logs ([hh:mm] <nick> text, === joins/parts)"

    def __init__(self, options: _Opts | None = None) -> None:
        self.options = options or _Opts()

    def with_options(self, **options: str) -> IrcImporter:
        """``date`` (YYYY-MM-DD), ``channel`` (group id), ``tz`` (default UTC), ``platform`` (default irc),
        ``clock`` (``24h``, or ``12h`` for logs written with a 12-hour clock without AM/PM)."""
        check_options(self.name, options, {"date", "channel", "tz", "platform", "clock"})
        opts = self.options
        if "date" in options:
            opts = replace(opts, day=parse_date(options["date"]))
        if "channel" in options:
            channel = options["channel"].strip().lstrip("#")
            if not channel:
                raise ImporterError("option channel: empty")
            opts = replace(opts, channel=channel)
        if "tz" in options:
            opts = replace(opts, tz=parse_tz(options["tz"]))
        if "platform" in options:
            opts = replace(opts, platform=options["platform"].strip().lower() or "irc")
        if "clock" in options:
            if options["clock"] not in ("12h", "24h"):
                raise ImporterError(f"option clock: expected 12h or 24h, got {options['clock']!r}")
            opts = replace(opts, twelve_hour=options["clock"] == "12h")
        return IrcImporter(opts)

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head[:8192].decode("utf-8", errors="replace")
        lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
        if not lines:
            return False
        hits = sum(1 for ln in lines if _classify_probe(ln))
        return hits >= max(2, int(len(lines) * 0.6))

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        opts = self.options
        day = opts.day or _date_from_name(source)
        if day is None:
            raise ImporterError(f"irc: no date in the file name {Path(source).name!r}; pass --option date=YYYY-MM-DD")
        lines = text_lines(stream)
        ahead: deque[str] = deque()
        channel = opts.channel
        if channel is None:
            for line in lines:
                ahead.append(line)
                m = _CHANNEL_HINT.search(line)
                if m:
                    channel = m.group("chan").lower()
                    break
                if len(ahead) >= CHANNEL_SCAN:
                    break
        parser = _Parser(
            opts.platform,
            channel or source_stem(source),
            source_stem(source),
            day,
            opts.tz,
            twelve_hour=opts.twelve_hour,
        )

        def all_lines() -> Iterator[str]:
            while ahead:
                yield ahead.popleft()
            yield from lines

        records = (parser.parse(i, line) for i, line in enumerate(all_lines(), start=1))
        yield from infer_mentions((r for r in records if r is not None), known)


def _date_from_name(source: str) -> date | None:
    m = _DATE_IN_NAME.search(Path(source).name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _classify_probe(line: str) -> bool:
    m = _LINE.match(line)
    if m is None:
        return False
    rest = m.group("rest")
    has_ts = bool(m.group("h") or m.group("h2"))
    if _SYS.match(rest):
        return True
    return has_ts and bool(_MSG.match(rest) or _ACTION.match(rest) or _NOTICE.match(rest))


class _Parser:
    """Turns one line into an Event; keeps the clock state (day rollover, last time)."""

    def __init__(
        self, platform: str, channel: str, stem: str, day: date, tz: tzinfo, *, twelve_hour: bool = False
    ) -> None:
        self.twelve_hour = twelve_hour
        #: 12-hour logs: hours added to the written hour (0 in the first block, +12 at each wrap)
        self.half = 0
        self.last_h12: int | None = None
        self.platform = platform
        self.channel = channel
        self.stem = stem
        self.day = day
        self.tz = tz
        self.last: datetime | None = None
        self.last_clock: int | None = None

    def _clock(self, h: str, m: str, s: str | None, lineno: int, raw: str) -> datetime | Rejected:
        hour, minute, second = int(h), int(m), int(s or 0)
        if hour > 23 or minute > 59 or second > 59:
            return Rejected(lineno, f"invalid time {h}:{m}" + (f":{s}" if s else ""), raw)
        if self.twelve_hour:  # 11→12(=0) or 12→1 wraps: first block AM, +12 h at each wrap
            h12 = hour % 12
            if self.last_h12 is not None and h12 < self.last_h12 - 6:
                self.half += 12
                if self.half >= 24:
                    self.half -= 24
                    self.day += timedelta(days=1)
            self.last_h12 = h12
            hour = h12 + self.half
        seconds = hour * 3600 + minute * 60 + second
        if not self.twelve_hour and self.last_clock is not None and self.last_clock - seconds > 6 * 3600:
            self.day += timedelta(days=1)
        self.last_clock = seconds
        try:
            stamp = datetime.combine(self.day, time(hour, minute, second), self.tz).astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            return Rejected(lineno, f"date out of range: {exc}", raw)
        self.last = stamp
        return stamp

    def parse(self, lineno: int, line: str) -> Record | None:
        if not line.strip():
            return None
        m = _LINE.match(line)
        assert m is not None  # the pattern matches every string
        rest = m.group("rest").strip("\ufeff")
        h, mi, s = (
            (m.group("h"), m.group("m"), m.group("s"))
            if m.group("h")
            else (m.group("h2"), m.group("m2"), m.group("s2"))
        )
        extra: dict[str, Any] = {}
        if h is not None:
            when = self._clock(h, mi, s, lineno, line)
            if isinstance(when, Rejected):
                return when
        elif self.last is not None:
            when, extra["time_inferred"] = self.last, True
        else:
            try:
                when = datetime.combine(self.day, time(0, 0), self.tz).astimezone(UTC)
            except (OverflowError, ValueError) as exc:
                return Rejected(lineno, f"date out of range: {exc}", line)
            extra["time_inferred"] = True
        base: dict[str, Any] = {
            "platform": self.platform,
            "group_id": self.channel,
            "message_id": f"{self.stem}-{lineno - 1}",
            "time": when,
        }

        def ev(nick: str, typ: EventType, text: str | None, subtype: str | None = None, **more: Any) -> Record:
            nick = nick[:128]
            try:
                return Event(
                    **base,
                    user_id=nick,
                    user_name=nick,
                    type=typ,
                    text=text,
                    subtype=subtype,
                    raw={**extra, **{k: v for k, v in more.items() if v is not None}},
                )
            except ValueError as exc:
                return Rejected(lineno, f"invalid event: {reason_of(exc)}", line)

        if mm := _MSG.match(rest):
            return ev(mm.group("nick"), EventType.MESSAGE, mm.group("text"))
        if (mm := _ACTION.match(rest)) and h is not None:
            return ev(mm.group("nick"), EventType.MESSAGE, mm.group("text"), "action")
        if (mm := _NOTICE.match(rest)) and h is not None:
            return ev(mm.group("nick"), EventType.MESSAGE, mm.group("text"), "notice")
        sm = _SYS.match(rest)
        if sm is None:
            return Rejected(lineno, "not an IRC log line (expected [hh:mm] <nick> text or === ...)", line)
        body = sm.group("body").strip()
        if mm := _JOIN.match(body):
            return ev(mm.group("nick"), EventType.JOIN, "", host=mm.group("host"))
        if mm := _PART.match(body):
            return ev(mm.group("nick"), EventType.LEAVE, mm.group("why") or "", "part", host=mm.group("host"))
        if mm := _QUIT.match(body):
            return ev(mm.group("nick"), EventType.LEAVE, mm.group("why") or "", "quit", host=mm.group("host"))
        if mm := _KICK.match(body):
            return ev(mm.group("nick"), EventType.LEAVE, mm.group("why") or "", "kick", by=mm.group("by"))
        if mm := _NICK.match(body):
            return ev(mm.group("nick"), EventType.SYSTEM, mm.group("new"), "nick_change", new_nick=mm.group("new"))
        if mm := _MODE.match(body):
            return ev(mm.group("by"), EventType.SYSTEM, mm.group("mode"), "mode")
        if mm := _OLD_ACTION.match(body):
            return ev(mm.group("nick"), EventType.MESSAGE, mm.group("text"), "action")
        return Rejected(lineno, "unrecognised === line", line)


def infer_mentions(records: Iterator[Record], known: KnownMembers | None) -> Iterator[Record]:
    """A leading ``nick:`` / ``nick,`` that addresses a member of the channel counts as a mention.

    Nicks seen anywhere within ``LOOKAHEAD`` events (or already known to the store) qualify, so a
    question addressed to someone who speaks a moment later is still linked.
    """
    window: deque[Event] = deque()
    nicks: dict[tuple[str, str], dict[str, str]] = {}

    def table(ev: Event) -> dict[str, str]:
        key = (ev.platform, ev.group_id)
        found = nicks.get(key)
        if found is None:
            found = nicks[key] = {}
            if known is not None:
                for uid in known(*key):
                    found[uid.lower()] = uid
        return found

    def finish(ev: Event) -> Event:
        if ev.type is EventType.MESSAGE and ev.text:
            m = _ADDRESS.match(ev.text)
            target = table(ev).get(m.group(1).lower()) if m else None
            if target and target != ev.user_id:
                ev.mentions = [target]
        return ev

    for record in records:
        if isinstance(record, Rejected):
            yield record
            continue
        table(record).setdefault(record.user_id.lower(), record.user_id)
        window.append(record)
        while len(window) > LOOKAHEAD:
            yield finish(window.popleft())
    while window:
        yield finish(window.popleft())
