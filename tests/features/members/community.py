"""A small community whose roles are known by construction (used by the members and tiers tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunyun.events import Event, EventType

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
_n = 0


def ev(
    user: str,
    days_ago: float,
    *,
    text: str = "hello",
    type: EventType = EventType.MESSAGE,
    group: str = "g1",
    reply_to: str | None = None,
    mentions: list[str] | None = None,
    mid: str | None = None,
    raw: dict | None = None,
    platform: str = "qq",
) -> Event:
    global _n
    _n += 1
    return Event(
        platform=platform,
        group_id=group,
        message_id=mid or f"m{_n}",
        user_id=user,
        user_name=f"name-{user}",
        type=type,
        time=NOW - timedelta(days=days_ago),
        text=text if type is EventType.MESSAGE else None,
        reply_to=reply_to,
        mentions=mentions or [],
        raw=raw or {},
    )


def role_community(group: str = "g1") -> list[Event]:
    """Members and what they should be:

    - ``boss`` admin (by config), talks a lot
    - ``expert`` kol: 8 different people reply to / mention them over the last month, few own messages
    - ``talker1``, ``talker2`` core: 40 messages each on 10 days in the last 30 days, nobody replies to them
    - ``gone`` silent: 60 messages in the month before going quiet 12 days ago
    - ``lurk`` lurker: joined 60 days ago, one message
    - ``fresh`` newcomer: joined 2 days ago, 1 message
    - ``asker0``..``asker7`` regular: a few messages each, recently (they talk to ``expert``)
    """
    out: list[Event] = []
    for d in range(1, 31):
        out.append(ev("boss", d, text="公告", group=group))
    out.append(ev("lurk", 60, type=EventType.JOIN, group=group))
    out.append(ev("lurk", 58, text="hi", group=group))
    out.append(ev("fresh", 2, type=EventType.JOIN, group=group))
    out.append(ev("fresh", 1.5, text="大家好", group=group))
    for talker in ("talker1", "talker2"):
        out.append(ev(talker, 80, type=EventType.JOIN, group=group))
        for d in range(1, 11):
            for k in range(4):
                out.append(ev(talker, d * 2 + k / 1440 * 3, text=f"chat {k}", group=group))
    out.append(ev("gone", 70, type=EventType.JOIN, group=group))
    for d in range(12, 42):
        out.append(ev("gone", d, text="busy day", group=group))
        out.append(ev("gone", d + 0.01, text="another", group=group))
    out.append(ev("expert", 90, type=EventType.JOIN, group=group))
    for i in range(8):
        asker = f"asker{i}"
        out.append(ev(asker, 45, type=EventType.JOIN, group=group))
        q = ev(asker, 20 - i, text="请问这个怎么配置？", group=group)
        out.append(q)
        a = ev("expert", 20 - i - 0.01, text="try this", reply_to=q.message_id, group=group)
        out.append(a)
        out.append(ev(asker, 20 - i - 0.02, text="thanks!", reply_to=a.message_id, group=group))
        out.append(ev(asker, 20 - i - 0.03, text="expert you are great", mentions=["expert"], group=group))
        out.append(ev(asker, 5 - i * 0.1, text="follow-up", reply_to=a.message_id, group=group))
    return out
