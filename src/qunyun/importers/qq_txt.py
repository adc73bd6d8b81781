"""QQ 消息管理器 text export (``导出消息记录 → .txt``)::

    消息记录（此消息记录为文本格式，不支持重新导入）

    ================================================================
    消息分组:我的QQ群
    ================================================================
    消息对象:运营交流群
    ================================================================

    2024-05-01 12:00:00 昵称(123456)
    消息正文（可多行）

    2024-05-01 12:00:05 另一个人<someone@example.com>
    ...

One file may hold several ``消息对象`` sections (one per group). The export usually has no group
numbers (when ``消息对象`` reads ``名称(群号)`` the number is used) and no message ids: the group id
is the ``消息对象`` name unless ``--option group=<群号>`` sets it
(for single-group files, so history joins the live OneBot data); message ids are derived from time,
sender and text (identical messages in the same second are numbered), so re-importing is a no-op.
Times are local to the exporting PC: ``--option tz=`` (default Asia/Shanghai). UTF-8 (with or
without BOM), UTF-16 and GB18030 files are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from qunyun.events import Event, EventType, Segment
from qunyun.importers.base import ImporterError, KnownMembers, Record, Rejected
from qunyun.importers.common import (
    CHINA_TZ,
    Occurrences,
    check_options,
    parse_tz,
    reason_of,
    source_stem,
    stable_id,
    text_lines,
)

_HEADER = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2})\s+(?P<time>\d{1,2}:\d{2}:\d{2})(?:\s*(?P<ampm>[AP]M))?\s+"
    r"(?P<name>.*?)(?:\((?P<qq>\d{4,12})\)|<(?P<mail>[^<>\s]+)>)\s*$"
)
_GROUP_KIND = re.compile(r"^消息分组[:：]\s*(?P<v>.*)$")
_OBJECT = re.compile(r"^消息对象[:：]\s*(?P<v>.*)$")
_NUMBERED = re.compile(r"^(.*?)[(（](\d{5,12})[)）]$")
_RULE = re.compile(r"^={8,}\s*$")
_PREAMBLE = ("消息记录", "Message Record")
_IMAGE = "[图片]"


@dataclass(frozen=True, slots=True)
class _Opts:
    group: str | None = None
    tz: str = CHINA_TZ
    platform: str = "qq"


@dataclass
class _Pending:
    lineno: int
    header: str
    time: datetime | None
    name: str
    user_id: str
    body: list[str]
    error: str | None = None


class QQTxtImporter:
    name = "qq-txt"
    description = "QQ 消息管理器 .txt export (消息分组 / 消息对象 headers)"

    def __init__(self, options: _Opts | None = None) -> None:
        self.options = options or _Opts()
        self._tz: tzinfo = parse_tz(self.options.tz)

    def with_options(self, **options: str) -> QQTxtImporter:
        """``group`` (group id to use), ``tz`` (default Asia/Shanghai), ``platform`` (default qq)."""
        check_options(self.name, options, {"group", "tz", "platform"})
        opts = self.options
        if "group" in options:
            if not options["group"].strip():
                raise ImporterError("option group: empty")
            opts = replace(opts, group=options["group"].strip())
        if "tz" in options:
            parse_tz(options["tz"])
            opts = replace(opts, tz=options["tz"])
        if "platform" in options:
            opts = replace(opts, platform=options["platform"].strip().lower() or "qq")
        return QQTxtImporter(opts)

    def sniff(self, path: Path, head: bytes) -> bool:
        for enc in ("utf-8", "utf-16", "gb18030"):
            try:
                text = head[:16384].decode(enc, errors="ignore")
            except LookupError:  # pragma: no cover
                continue
            if "消息对象:" in text or "消息对象：" in text:
                return True
            if sum(1 for ln in text.splitlines()[:60] if _HEADER.match(ln.strip("\ufeff"))) >= 2:
                return True
        return False

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        opts = self.options
        group_name = source_stem(source)
        group_id = opts.group or group_name
        pending: _Pending | None = None
        occurrences = Occurrences()

        def flush(p: _Pending) -> Record:
            text = "\n".join(p.body).strip("\n")
            if p.error is not None or p.time is None:  # keep the whole message with the rejection
                return Rejected(p.lineno, p.error or "no time", "\n".join([p.header, *p.body]).rstrip("\n"))
            key = stable_id(p.user_id, text)
            mid = occurrences.tag((group_id, p.time), f"{int(p.time.timestamp())}-{key}")
            segments = [Segment.text(text)] if text else []
            if _IMAGE in text:
                segments.append(Segment(type="image", data={"file": None}))
            extra: dict[str, Any] = {"source_line": p.lineno}
            typ = EventType.SYSTEM if p.user_id in ("10000", "1000000") else EventType.MESSAGE
            try:
                return Event(
                    platform=opts.platform,
                    group_id=group_id,
                    group_name=group_name,
                    message_id=mid,
                    user_id=p.user_id,
                    user_name=p.name or None,
                    type=typ,
                    time=p.time,
                    text=text,
                    segments=segments,
                    raw=extra,
                )
            except ValueError as exc:
                return Rejected(p.lineno, f"invalid message: {reason_of(exc)}", p.header)

        for lineno, line in enumerate(text_lines(stream), start=1):
            stripped = line.strip().lstrip("\ufeff")
            if pending is None and not stripped:
                continue
            if _RULE.match(stripped):
                continue
            if m := _OBJECT.match(stripped):
                if pending is not None:
                    yield flush(pending)
                    pending = None
                value = m.group("v").strip()
                numbered = _NUMBERED.match(value)  # some versions write 群名(群号)
                group_name = (numbered.group(1).strip() if numbered else value) or group_name
                group_id = opts.group or (numbered.group(2) if numbered else group_name)
                continue
            if _GROUP_KIND.match(stripped):
                if pending is not None:
                    yield flush(pending)
                    pending = None
                continue
            if (h := _HEADER.match(stripped)) is not None:
                when = self._time(h.group("date"), h.group("time"), h.group("ampm"))
                if pending is not None:
                    yield flush(pending)
                user = h.group("qq") or h.group("mail")
                if isinstance(when, str):
                    pending = _Pending(lineno, line, None, h.group("name").strip(), user, [], error=when)
                else:
                    pending = _Pending(lineno, line, when, h.group("name").strip(), user, [])
                continue
            if pending is None:
                if stripped.startswith(_PREAMBLE):
                    continue
                yield Rejected(lineno, "text before the first message header (YYYY-MM-DD HH:MM:SS 昵称(QQ号))", line)
                continue
            pending.body.append(line)
        if pending is not None:
            yield flush(pending)

    def _time(self, day: str, clock: str, ampm: str | None) -> datetime | str:
        try:
            naive = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return f"invalid date/time {day} {clock}"
        if ampm:
            hour = naive.hour % 12 + (12 if ampm == "PM" else 0)
            naive = naive.replace(hour=hour)
        try:
            return naive.replace(tzinfo=self._tz).astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            return f"time out of range: {exc}"
