"""CQ codes: the string form of OneBot v11 messages (``text[CQ:at,qq=123]more``).

Implementations may report ``message`` as a CQ-code string instead of a segment array, and
older ones only understand strings. Escaping follows the spec: in text ``&``, ``[`` and ``]``
become ``&amp;``, ``&#91;``, ``&#93;``; inside a CQ code's values ``,`` also becomes ``&#44;``.
"""

from __future__ import annotations

import re
from typing import Any

from qunyun.adapters.onebot.errors import OneBotParseError

_TEXT_ESC = (("&", "&amp;"), ("[", "&#91;"), ("]", "&#93;"))
_VALUE_ESC = (*_TEXT_ESC, (",", "&#44;"))
_UNESC = re.compile(r"&(amp|#91|#93|#44);")
_UNESC_MAP = {"amp": "&", "#91": "[", "#93": "]", "#44": ","}
_CODE = re.compile(r"\[CQ:([^\[\],]*)((?:,[^\[\],]*)*)\]")
_TYPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _valid_type(name: str) -> bool:
    return bool(name) and all(c in _TYPE_CHARS for c in name)


def escape(text: str, *, in_value: bool = False) -> str:
    """Escape plain text (or a CQ-code value) so it cannot be read as a CQ code."""
    for raw, esc in _VALUE_ESC if in_value else _TEXT_ESC:
        text = text.replace(raw, esc)
    return text


def unescape(text: str) -> str:
    return _UNESC.sub(lambda m: _UNESC_MAP[m.group(1)], text)


def _code(body_type: str, params: str, source: str, pos: int) -> dict[str, Any]:
    if not _valid_type(body_type):
        raise OneBotParseError(f"CQ code at offset {pos} has an invalid type {body_type!r}", raw=source)
    data: dict[str, Any] = {}
    for part in params.split(",")[1:] if params else ():
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise OneBotParseError(
                f"CQ code [{body_type}] at offset {pos}: parameter {part!r} is not key=value", raw=source
            )
        data[key] = unescape(value)
    return {"type": body_type, "data": data}


def parse(message: str) -> list[dict[str, Any]]:
    """A CQ-code string → OneBot segment dicts (``{"type", "data"}``), text unescaped.

    Raises :class:`OneBotParseError` for a malformed code (``[CQ:`` that never closes, a
    parameter without ``=``); plain brackets that are not ``[CQ:`` are kept as text.
    """
    if not isinstance(message, str):
        raise OneBotParseError(f"a CQ-code message must be a string, not {type(message).__name__}")
    segments: list[dict[str, Any]] = []
    pos = 0
    for m in _CODE.finditer(message):
        if m.start() > pos:
            _text(segments, message[pos : m.start()], message, pos)
        segments.append(_code(m.group(1), m.group(2), message, m.start()))
        pos = m.end()
    if pos < len(message):
        _text(segments, message[pos:], message, pos)
    return segments


def _text(segments: list[dict[str, Any]], chunk: str, source: str, pos: int) -> None:
    bad = chunk.find("[CQ:")
    if bad >= 0:
        raise OneBotParseError(f"unterminated or malformed CQ code at offset {pos + bad}", raw=source)
    segments.append({"type": "text", "data": {"text": unescape(chunk)}})


def dumps(segments: list[dict[str, Any]]) -> str:
    """OneBot segment dicts → a CQ-code string (the inverse of :func:`parse`)."""
    out: list[str] = []
    for seg in segments:
        typ = seg.get("type")
        data = seg.get("data") or {}
        if typ == "text":
            out.append(escape(str(data.get("text", ""))))
            continue
        if not isinstance(typ, str) or not _valid_type(typ):
            raise OneBotParseError(f"segment type {typ!r} cannot be written as a CQ code")
        params = "".join(f",{k}={escape(str(v), in_value=True)}" for k, v in data.items() if v is not None)
        out.append(f"[CQ:{typ}{params}]")
    return "".join(out)
