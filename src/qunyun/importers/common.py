"""Helpers the chat-export importers share: text decoding, times, stable ids, options.

Exports rarely carry ids or time zones, so importers derive *deterministic* message ids from
what the file says (re-importing the same file inserts nothing) and read naive local times in
a configurable zone (default: the zone most of our operators' exporters ran in).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, tzinfo
from pathlib import PurePath
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qunyun.importers.base import ImporterError

#: WeChat and QQ desktop exporters write the local time of the exporting PC
CHINA_TZ = "Asia/Shanghai"
_CHUNK = 1 << 16


def parse_tz(value: str, option: str = "tz") -> tzinfo:
    """``UTC``, ``+08:00`` or an IANA name → tzinfo; a clear error otherwise."""
    text = value.strip()
    if text.upper() in ("UTC", "Z"):
        return UTC
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", text)
    if m:
        from datetime import timedelta, timezone

        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise ImporterError(f"option {option}: offset out of range: {value!r}")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ImporterError(
            f"option {option}: unknown time zone {value!r} (use UTC, +08:00 or Asia/Shanghai)"
        ) from exc


def parse_date(value: str, option: str = "date") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ImporterError(f"option {option}: expected YYYY-MM-DD, got {value!r}") from exc


def check_options(name: str, given: Mapping[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        choices = ", ".join(sorted(allowed)) or "none"
        raise ImporterError(f"format {name}: unknown option(s) {', '.join(unknown)} (accepted: {choices})")


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
)


def parse_time(value: str | int | float | None, tz: tzinfo) -> datetime:
    """Unix seconds/milliseconds, ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` (naive = ``tz``) → aware UTC.

    Raises ``ValueError`` with the offending value; callers turn it into a ``Rejected``.
    """
    if value is None:
        raise ValueError("missing time")
    if isinstance(value, bool):
        raise ValueError(f"invalid time {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = value.strip()
    if not text:
        raise ValueError("empty time")
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    for fmt in _DATETIME_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=tz).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unrecognised time {text[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    if seconds <= 0:
        raise ValueError("time is zero or negative")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"time out of range: {seconds!r}") from exc


def stable_id(*parts: object, size: int = 16) -> str:
    """A short deterministic id from the parts (so a re-import finds the same key)."""
    h = hashlib.blake2b(
        "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"), digest_size=size // 2
    )
    return h.hexdigest()


class Occurrences:
    """Disambiguates identical keys *within one timestamp* with a counter, in constant memory.

    Two identical messages in the same second get ``…`` and ``…#2``; a re-import assigns the
    same suffixes because files are read in order.
    """

    def __init__(self) -> None:
        self._stamp: object = None
        self._seen: dict[str, int] = {}

    def tag(self, stamp: object, key: str) -> str:
        if stamp != self._stamp:
            self._stamp, self._seen = stamp, {}
        n = self._seen.get(key, 0) + 1
        self._seen[key] = n
        return key if n == 1 else f"{key}#{n}"


def sniff_encoding(head: bytes, default: str = "utf-8") -> str:
    """BOM first; then UTF-8 if the head decodes (or nearly all of it does); else GB18030
    (Chinese Windows and Excel exports)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return default
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut by the head boundary
            return default
    # GBK text read as UTF-8 is nearly all errors; a UTF-8 file with a stray bad byte is nearly
    # all valid multi-byte characters: keep UTF-8 then (reading it as GB18030 would garble it all)
    text = head[: len(head) - 4].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    wide = sum(1 for ch in text if ch > "\x7f") - bad
    return default if wide >= 3 * bad else "gb18030"  # GBK read as UTF-8: about 0.3 : 1


def text_lines(stream: BinaryIO, encoding: str | None = None) -> Iterator[str]:
    """Decoded lines without their end-of-line, streaming; undecodable bytes become U+FFFD."""
    first = stream.read(_CHUNK)
    enc = encoding or sniff_encoding(first)
    decoder = codecs.getincrementaldecoder(enc)(errors="replace")
    pending = ""
    chunk = first
    while chunk:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split(
            "\n"
        )  # only \n: str.splitlines() would also split on \x0c, \u2028 ...
        for line in lines:
            yield line.removesuffix("\r")
        chunk = stream.read(_CHUNK)
    pending += decoder.decode(b"", final=True)
    *lines, pending = pending.split("\n")
    for line in lines:
        yield line.removesuffix("\r")
    if pending:
        yield pending.removesuffix("\r")


def source_stem(source: str) -> str:
    """File name without directory and export suffixes.

    ``2004-12-25.train-c.raw.txt`` → ``2004-12-25.train-c``.
    """
    name = PurePath(source).name
    for suffix in (".gz", ".txt", ".log", ".raw", ".csv", ".json", ".jsonl"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "import"


def reason_of(exc: Exception) -> str:
    """A one-line reason from a pydantic ValidationError (field: message) or any ValueError."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:3]:
            loc = ".".join(str(p) for p in err["loc"]) or "event"
            parts.append(f"{loc}: {err['msg']}")
        return "; ".join(parts)
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
