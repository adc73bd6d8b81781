"""Bot API Update payloads shaped like the documentation's objects."""

from __future__ import annotations

from typing import Any

GROUP = {"id": -1001234567890, "title": "运营群", "type": "supergroup"}
ANN = {"id": 42, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "username": "ann"}
BOB = {"id": 7, "is_bot": False, "first_name": "Bob"}
ADMIN = {"id": 1, "is_bot": False, "first_name": "Admin"}


def message(**extra: Any) -> dict[str, Any]:
    # "👋 @bob see https://x.org" — the emoji is 2 UTF-16 units, so offsets are in UTF-16
    text = "👋 @bob see https://x.org"
    msg: dict[str, Any] = {
        "message_id": 100,
        "from": ANN,
        "chat": GROUP,
        "date": 1714536000,
        "text": text,
        "entities": [{"type": "mention", "offset": 3, "length": 4}, {"type": "url", "offset": 12, "length": 13}],
    }
    msg.update(extra)
    return msg


def member_update(
    old: str,
    new: str,
    *,
    user: dict[str, Any] = BOB,
    actor: dict[str, Any] = BOB,
    link_name: str | None = None,
    date: int = 1714536100,
    **new_extra: Any,
) -> dict[str, Any]:
    upd: dict[str, Any] = {
        "chat": GROUP,
        "from": actor,
        "date": date,
        "old_chat_member": {"status": old, "user": user},
        "new_chat_member": {"status": new, "user": user, **new_extra},
    }
    if link_name is not None:
        upd["invite_link"] = {
            "invite_link": "https://t.me/+abc",
            "creator": ADMIN,
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
            "name": link_name,
        }
    return upd
