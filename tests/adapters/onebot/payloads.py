"""Spec-shaped OneBot v11 event payloads (field names and values as the v11 event pages define)."""

from __future__ import annotations

from typing import Any

SELF = 10000
GROUP = 20001
T0 = 1714564800  # 2024-05-01 12:00:00 UTC


def group_message(
    n: int = 1,
    *,
    text: str = "大家好",
    user: int = 30001,
    cq: bool = False,
    group: int = GROUP,
    self_id: int = SELF,
    post_type: str = "message",
) -> dict[str, Any]:
    message: Any = (
        f"[CQ:at,qq={SELF}] {text}"
        if cq
        else [{"type": "at", "data": {"qq": str(SELF)}}, {"type": "text", "data": {"text": f" {text}"}}]
    )
    return {
        "time": T0 + n,
        "self_id": self_id,
        "post_type": post_type,
        "message_type": "group",
        "sub_type": "normal",
        "message_id": 5000 + n,
        "group_id": group,
        "user_id": user,
        "anonymous": None,
        "message": message,
        "raw_message": f"[CQ:at,qq={SELF}] {text}",
        "font": 0,
        "sender": {
            "user_id": user,
            "nickname": "小明",
            "card": "群名片",
            "sex": "unknown",
            "age": 0,
            "area": "",
            "level": "1",
            "role": "member",
            "title": "",
        },
    }


def private_message(n: int = 1) -> dict[str, Any]:
    return {
        "time": T0 + n,
        "self_id": SELF,
        "post_type": "message",
        "message_type": "private",
        "sub_type": "friend",
        "message_id": 7000 + n,
        "user_id": 30002,
        "message": "你好&amp;再见",
        "raw_message": "你好&amp;再见",
        "font": 0,
        "sender": {"user_id": 30002, "nickname": "小红"},
    }


def group_increase(sub: str = "invite", operator: int = 30001, user: int = 30009) -> dict[str, Any]:
    return {
        "time": T0 + 100,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": sub,
        "group_id": GROUP,
        "operator_id": operator,
        "user_id": user,
    }


def group_decrease(sub: str = "kick", operator: int = 30001, user: int = 30009) -> dict[str, Any]:
    return {
        "time": T0 + 200,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": "group_decrease",
        "sub_type": sub,
        "group_id": GROUP,
        "operator_id": operator,
        "user_id": user,
    }


def group_ban() -> dict[str, Any]:
    return {
        "time": T0 + 300,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": "group_ban",
        "sub_type": "ban",
        "group_id": GROUP,
        "operator_id": 30001,
        "user_id": 30003,
        "duration": 600,
    }


def group_recall() -> dict[str, Any]:
    return {
        "time": T0 + 400,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": "group_recall",
        "group_id": GROUP,
        "user_id": 30003,
        "operator_id": 30003,
        "message_id": 5001,
    }


def group_admin() -> dict[str, Any]:
    return {
        "time": T0 + 500,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": "group_admin",
        "sub_type": "set",
        "group_id": GROUP,
        "user_id": 30004,
    }


def friend_request() -> dict[str, Any]:
    return {
        "time": T0 + 600,
        "self_id": SELF,
        "post_type": "request",
        "request_type": "friend",
        "user_id": 30005,
        "comment": "加个好友",
        "flag": "flag-f-1",
    }


def group_request() -> dict[str, Any]:
    return {
        "time": T0 + 700,
        "self_id": SELF,
        "post_type": "request",
        "request_type": "group",
        "sub_type": "add",
        "group_id": GROUP,
        "user_id": 30006,
        "comment": "我想进群",
        "flag": "flag-g-1",
    }


def heartbeat() -> dict[str, Any]:
    return {
        "time": T0 + 800,
        "self_id": SELF,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
        "status": {"online": True, "good": True},
        "interval": 5000,
    }


def lifecycle(sub: str = "connect") -> dict[str, Any]:
    return {"time": T0, "self_id": SELF, "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": sub}


ALL_EXAMPLES = [
    group_message(),
    private_message(),
    group_increase(),
    group_decrease(),
    group_ban(),
    group_recall(),
    group_admin(),
    friend_request(),
    group_request(),
    heartbeat(),
    lifecycle(),
]
