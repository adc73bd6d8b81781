"""What a WeCom bot may not do becomes a task for a staff member (a ``notify_staff`` action).

WeCom group robots (群机器人) can only *post* text/markdown/images to the one group they were
added to. They cannot delete or recall messages, mute, remove or ban members, approve joins,
rename groups or send to groups they are not in. Customer-group bulk messages (客户群群发) can only
be *created* through the API: a staff member must confirm each one in the WeCom client, and each
customer receives at most 4 enterprise bulk messages a month. So those actions are turned into
tasks that say, in both languages, exactly what to do by hand and why.
"""

from __future__ import annotations

from qunyun.actions import Action, ActionKind, Reason
from qunyun.i18n import t

_KEYS: dict[ActionKind, str] = {
    ActionKind.DELETE_MESSAGE: "wecom.staff.delete",
    ActionKind.MUTE: "wecom.staff.mute",
    ActionKind.UNMUTE: "wecom.staff.unmute",
    ActionKind.KICK: "wecom.staff.kick",
    ActionKind.BAN: "wecom.staff.kick",
    ActionKind.WHOLE_MUTE: "wecom.staff.whole_mute",
    ActionKind.APPROVE_REQUEST: "wecom.staff.approve",
    ActionKind.REJECT_REQUEST: "wecom.staff.reject",
    ActionKind.SET_GROUP_NAME: "wecom.staff.rename",
}
_SENDS = {ActionKind.SEND_MESSAGE, ActionKind.REPLY, ActionKind.WARN}


def staff_task(action: Action, *, has_robot: bool) -> Action | None:
    """The ``notify_staff`` action that replaces ``action``, or None if the robot can do it itself.

    Idempotent: the task's key is derived from the original's, so converting twice queues one task.
    """
    if action.kind is ActionKind.NOTIFY_STAFF:
        return None
    if action.kind in _SENDS:
        if has_robot and not action.params.get("customer_group"):
            return None
        key = "wecom.staff.broadcast" if action.params.get("customer_group") else "wecom.staff.no_robot"
    else:
        key = _KEYS.get(action.kind, "wecom.staff.generic")
    fmt = {
        "group": action.group_id or "-",
        "user": action.user_id or "-",
        "message": action.message_id or "-",
        "text": (action.text or "")[:500],
        "kind": action.kind.value,
        "minutes": (action.duration or 0) // 60,
    }
    zh = t(key, "zh-CN", **fmt, reason=action.reason.zh)
    en = t(key, "en", **fmt, reason=action.reason.en)
    return Action(
        kind=ActionKind.NOTIFY_STAFF,
        platform="wecom",
        group_id=action.group_id,
        user_id=action.user_id,
        text=en,
        reason=Reason(
            zh=zh,
            en=en,
            evidence={**action.reason.evidence, "original_kind": action.kind.value, "original_source": action.source},
        ),
        source=f"wecom.staff:{action.source}"[:128],
        idempotency_key=f"wecom-staff:{action.idempotency_key}"[:128],
        cause=action.cause,
        params={"original": action.model_dump(mode="json"), "task": key},
    )
