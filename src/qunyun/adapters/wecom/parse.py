"""Decrypted WeCom callback XML → qunyun events.

- Application messages (``MsgType`` text/image/voice/video/location/link, sent by a member to the
  self-built app) → MESSAGE in group ``app:<AgentID>`` (the app's inbox), id ``MsgId``.
- ``change_external_chat`` (客户群变更): ``add_member`` → JOIN, ``del_member`` → LEAVE for each
  ``MemChangeList/Item`` (``raw.join_scene`` 0 direct invite / 1 invite link / 3 group QR code;
  ``raw.quit_scene`` 0 left / 1 removed); without the member list (older API versions) or for
  other details (rename, owner change, dismiss) → NOTICE with the change in ``raw``.
- Anything else → no event (returned as ``[]``; qunyun does not use it).

Group *message contents* of customer groups are not delivered by WeCom callbacks at all (only via
会话内容存档, a separately licensed archive API) — see docs/adapters.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from qunyun.events import Event, EventType, Segment, SegmentType


class WeComParseError(ValueError):
    pass


def parse_xml(data: bytes | str) -> Element:
    """Parse untrusted XML without entity expansion (billion laughs, external entities)."""
    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise WeComParseError(f"not valid XML: {exc}") from exc
    if root.tag != "xml":
        raise WeComParseError(f"root element must be <xml>, got <{root.tag}>")
    return root


def _text(root: Element, tag: str) -> str | None:
    node = root.find(tag)
    return node.text.strip() if node is not None and node.text is not None else None


def _time(root: Element) -> datetime:
    raw = _text(root, "CreateTime")
    if raw is None or not raw.isdigit():
        raise WeComParseError(f"CreateTime must be unix seconds, got {raw!r}")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise WeComParseError(f"CreateTime {raw} is out of range") from exc


_MEDIA = {
    "image": SegmentType.IMAGE,
    "voice": SegmentType.VOICE,
    "video": SegmentType.VIDEO,
    "link": SegmentType.LINK,
    "location": SegmentType.OTHER,
    "file": SegmentType.FILE,
}


def parse_callback(xml: bytes | str, *, account: str = "wecom") -> list[Event]:
    root = parse_xml(xml)
    msg_type = _text(root, "MsgType")
    if msg_type is None:
        raise WeComParseError("MsgType is missing")
    if msg_type == "event":
        return _event(root, account)
    return [_message(root, msg_type, account)]


def _message(root: Element, msg_type: str, account: str) -> Event:
    user = _text(root, "FromUserName")
    msg_id = _text(root, "MsgId")
    if not user or not msg_id:
        raise WeComParseError("a message needs FromUserName and MsgId")
    agent = _text(root, "AgentID") or "0"
    text = _text(root, "Content") if msg_type == "text" else None
    segments: list[Segment] = [Segment.text(text)] if text else []
    if msg_type in _MEDIA:
        data: dict[str, Any] = {
            k: v for k in ("PicUrl", "MediaId", "Url", "Title", "Label") if (v := _text(root, k)) is not None
        }
        segments.append(Segment(type=_MEDIA[msg_type], data=data))
    return Event(
        platform="wecom",
        group_id=f"app:{agent}",
        message_id=msg_id,
        user_id=user,
        type=EventType.MESSAGE,
        time=_time(root),
        text=text,
        segments=segments,
        subtype="app" if msg_type == "text" else msg_type,
        self_id=account,
        raw={"agent_id": agent, "msg_type": msg_type},
    )


def _event(root: Element, account: str) -> list[Event]:
    kind = _text(root, "Event")
    if kind != "change_external_chat":
        return []
    chat = _text(root, "ChatId")
    if not chat:
        raise WeComParseError("change_external_chat without ChatId")
    when = _time(root)
    change, detail = _text(root, "ChangeType") or "", _text(root, "UpdateDetail") or ""
    version = _text(root, "CurMemVer") or ""
    raw: dict[str, Any] = {"change_type": change, "update_detail": detail}
    for tag, key in (("JoinScene", "join_scene"), ("QuitScene", "quit_scene"), ("MemChangeCnt", "count")):
        value = _text(root, tag)
        if value is not None:
            raw[key] = int(value) if value.lstrip("-").isdigit() else value
    members = [item.text.strip() for item in root.findall("MemChangeList/Item") if item.text and item.text.strip()]
    base: dict[str, Any] = {"platform": "wecom", "group_id": chat, "time": when, "self_id": account}
    if detail in ("add_member", "del_member") and members:
        typ = EventType.JOIN if detail == "add_member" else EventType.LEAVE
        if typ is EventType.JOIN:
            sub = {0: "invited", 1: "invite_link", 3: "qrcode"}.get(raw.get("join_scene", -1), "joined")  # type: ignore[call-overload]
        else:
            sub = "removed" if raw.get("quit_scene") == 1 else "left"
        return [
            Event(
                **base,
                message_id=f"chat:{detail}:{user}:{int(when.timestamp())}:{version}"[:191],
                user_id=user[:128],
                type=typ,
                subtype=sub,
                raw=raw,
            )
            for user in members
        ]
    return [
        Event(
            **base,
            message_id=f"chat:{change}:{detail}:{int(when.timestamp())}:{version}"[:191],
            user_id="system",
            type=EventType.NOTICE,
            subtype=(detail or change or "change")[:32],
            raw=raw,
        )
    ]
