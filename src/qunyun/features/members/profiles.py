"""Profiles (用户画像): onboarding fields parsed from a self-introduction, tags, notes, linked identities.

A newcomer's self-introduction ("大家好，我是来自杭州的产品经理，想学习社群运营") fills the onboarding
template fields: region 地区 (杭州), industry 行业 (产品/互联网), needs 需求 (学习社群运营), plus motivation
tags. jieba's part-of-speech tagger finds place names; industries come from a keyword table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from qunyun.events import Event, utcnow
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.tables import MemberDailyRow, ProfileRow, table
from qunyun.store.tables import IdentityRow, MemberRow, PersonRow
from qunyun.store.writer import _dialect_insert

INTRO = re.compile(r"(自我介绍|我是|我叫|来自|坐标|从事|做.{0,6}的|大家好)")
_REGION = re.compile(
    r"(?:来自|坐标|现居|住在|base\s*在?|在)\s*([\u4e00-\u9fa5]{2,8}?)(?:市|省|的|，|,|。|\s|做|从事|工作|$)"
)
_NEEDS = re.compile(r"(?:想要|希望|想|打算|需要|期待|目的是)(?:来)?([^，。,.!！?？；;]{2,40})")
INDUSTRIES: list[tuple[str, str]] = [
    ("产品经理", "产品/互联网"),
    ("产品", "产品/互联网"),
    ("程序员", "技术/互联网"),
    ("开发", "技术/互联网"),
    ("工程师", "技术/互联网"),
    ("前端", "技术/互联网"),
    ("后端", "技术/互联网"),
    ("算法", "技术/互联网"),
    ("运营", "运营/互联网"),
    ("设计师", "设计"),
    ("设计", "设计"),
    ("电商", "电商"),
    ("老师", "教育"),
    ("教师", "教育"),
    ("教育", "教育"),
    ("培训", "教育"),
    ("医生", "医疗健康"),
    ("护士", "医疗健康"),
    ("医疗", "医疗健康"),
    ("会计", "金融/财务"),
    ("财务", "金融/财务"),
    ("金融", "金融/财务"),
    ("银行", "金融/财务"),
    ("投资", "金融/财务"),
    ("律师", "法律"),
    ("法务", "法律"),
    ("销售", "销售"),
    ("市场", "市场/营销"),
    ("营销", "市场/营销"),
    ("新媒体", "市场/营销"),
    ("自媒体", "内容/自媒体"),
    ("主播", "内容/自媒体"),
    ("学生", "学生"),
    ("研究生", "学生"),
    ("大学生", "学生"),
    ("宝妈", "家庭"),
    ("创业", "创业"),
    ("老板", "创业"),
    ("房地产", "房地产"),
    ("制造", "制造业"),
    ("外贸", "外贸"),
    ("人力", "人力资源"),
    ("HR", "人力资源"),
    ("公务员", "公共部门"),
]
MOTIVATIONS: list[tuple[str, str]] = [
    ("学习", "learning"),
    ("提升", "learning"),
    ("了解", "learning"),
    ("成长", "learning"),
    ("交流", "networking"),
    ("认识", "networking"),
    ("交朋友", "networking"),
    ("结识", "networking"),
    ("资源", "business"),
    ("合作", "business"),
    ("对接", "business"),
    ("客户", "business"),
    ("变现", "business"),
    ("工作", "career"),
    ("求职", "career"),
    ("招聘", "career"),
    ("跳槽", "career"),
    ("福利", "deals"),
    ("优惠", "deals"),
    ("羊毛", "deals"),
    ("求助", "help"),
    ("解决", "help"),
    ("问题", "help"),
]


def parse_intro(text: str) -> dict[str, Any]:
    """{region, industry, needs, motivations} from a self-introduction (missing fields are None)."""
    import jieba.posseg as pseg  # lazy: loading the dictionary takes a second

    region = None
    m = _REGION.search(text)
    if m and m.group(1):
        region = m.group(1)
        for suffix in ("市", "省"):
            region = region.removesuffix(suffix)
    if region is None:
        for word, flag in pseg.cut(text):
            if flag == "ns" and len(word) >= 2:
                region = word.removesuffix("市").removesuffix("省")
                break
    industry = next((label for kw, label in INDUSTRIES if kw in text), None)
    needs = None
    n = _NEEDS.search(text)
    if n:
        needs = n.group(1).strip()
    source = needs or text
    motivations = sorted({tag for kw, tag in MOTIVATIONS if kw in source})
    return {"region": region, "industry": industry, "needs": needs, "motivations": motivations}


def detect_intros(conn: Connection, events: Sequence[Event], intro_days: int) -> int:
    """Fill empty profiles from self-introductions of recent joiners in this batch; returns how many."""
    candidates = [
        e
        for e in events
        if e.text and not e.text.isascii() and e.is_activity and len(e.text) >= 6 and INTRO.search(e.text)
    ]
    if not candidates:
        return 0
    p, m = table(ProfileRow), table(MemberRow)
    filled = 0
    for ev in candidates:
        has = conn.execute(
            select(p.c.intro_text).where(p.c.platform == ev.platform, p.c.user_id == ev.user_id)
        ).first()
        if has is not None and has[0]:
            continue
        first = conn.execute(
            select(func.min(m.c.first_seen)).where(
                m.c.platform == ev.platform, m.c.user_id == ev.user_id, m.c.group_id == ev.group_id
            )
        ).scalar()
        if first is not None and ev.time - (
            first if first.tzinfo else first.replace(tzinfo=ev.time.tzinfo)
        ) > timedelta(days=intro_days):
            continue
        fields = parse_intro(ev.text or "")
        if not (fields["region"] or fields["industry"] or fields["needs"]):
            continue
        upsert_profile(
            conn,
            ev.platform,
            ev.user_id,
            {
                **fields,
                "intro_text": ev.text,
                "intro_group_id": ev.group_id,
                "intro_message_id": ev.message_id,
            },
            now=ev.time,
            keep_existing=True,
        )
        filled += 1
    return filled


def upsert_profile(
    conn: Connection,
    platform: str,
    user_id: str,
    values: dict[str, Any],
    *,
    now: datetime | None = None,
    keep_existing: bool = False,
) -> None:
    """Set profile fields; with ``keep_existing`` a field staff already filled is not overwritten."""
    p = table(ProfileRow)
    row = {"platform": platform, "user_id": user_id, "updated_at": now or utcnow(), **values}
    ins = _dialect_insert(conn, p)
    if keep_existing:
        set_ = {k: func.coalesce(p.c[k], ins.excluded[k]) for k in values}
    else:
        set_ = {k: ins.excluded[k] for k in values}
    set_["updated_at"] = ins.excluded.updated_at
    conn.execute(ins.on_conflict_do_update(index_elements=["platform", "user_id"], set_=set_), row)


def linked_accounts(
    conn: Connection, platform: str, user_id: str
) -> tuple[int | None, list[tuple[str, str]]]:
    i = table(IdentityRow)
    pid = conn.execute(select(i.c.person_id).where(i.c.platform == platform, i.c.user_id == user_id)).scalar()
    if pid is None:
        return None, [(platform, user_id)]
    rows = conn.execute(select(i.c.platform, i.c.user_id).where(i.c.person_id == pid).order_by(i.c.id))
    return pid, [(r[0], r[1]) for r in rows]


def link(conn: Connection, accounts: Sequence[tuple[str, str]], display_name: str | None = None) -> int:
    """Make the accounts one person (reusing a person one of them already belongs to)."""
    i = table(IdentityRow)
    pid = None
    for platform, uid in accounts:
        found = conn.execute(
            select(i.c.person_id).where(i.c.platform == platform, i.c.user_id == uid)
        ).first()
        if found is None:
            raise LookupError(f"{platform}:{uid}")
        pid = pid or found[0]
    if pid is None:
        pid = conn.execute(
            table(PersonRow).insert().returning(table(PersonRow).c.id),
            {"display_name": display_name, "created_at": utcnow()},
        ).scalar_one()
    elif display_name:
        conn.execute(
            update(table(PersonRow)).where(table(PersonRow).c.id == pid).values(display_name=display_name)
        )
    for platform, uid in accounts:
        conn.execute(update(i).where(i.c.platform == platform, i.c.user_id == uid).values(person_id=pid))
    return int(pid)


def unlink(conn: Connection, platform: str, user_id: str) -> bool:
    i = table(IdentityRow)
    res = conn.execute(
        update(i).where(i.c.platform == platform, i.c.user_id == user_id).values(person_id=None)
    )
    return bool(res.rowcount)


def profile(
    conn: Connection,
    platform: str,
    user_id: str,
    *,
    timeline_days: int = 90,
    cfg: MembersConfig | None = None,
) -> dict[str, Any]:
    """Everything about a person: accounts, groups (with scores), community-wide score, fields, tags,
    notes, activity timeline."""
    i, m, p, d = table(IdentityRow), table(MemberRow), table(ProfileRow), table(MemberDailyRow)
    if conn.execute(select(i.c.id).where(i.c.platform == platform, i.c.user_id == user_id)).first() is None:
        raise LookupError(f"{platform}:{user_id}")
    pid, accounts = linked_accounts(conn, platform, user_id)
    person = None
    if pid is not None:
        prow = conn.execute(select(table(PersonRow)).where(table(PersonRow).c.id == pid)).first()
        person = dict(prow._mapping) if prow else None
    groups: list[dict[str, Any]] = []
    fields: dict[str, Any] = {}
    tags: set[str] = set()
    notes: list[str] = []
    timeline: list[dict[str, Any]] = []
    for plat, uid in accounts:
        for r in conn.execute(
            select(
                m.c.group_id,
                m.c.user_name,
                m.c.messages,
                m.c.first_seen,
                m.c.last_seen,
                m.c.status,
                m.c.is_admin,
            ).where(m.c.platform == plat, m.c.user_id == uid)
        ):
            groups.append({"platform": plat, "user_id": uid, **dict(r._mapping)})
        prof = conn.execute(select(p).where(p.c.platform == plat, p.c.user_id == uid)).first()
        if prof is not None:
            pr = dict(prof._mapping)
            for key in ("region", "industry", "needs", "intro_text"):
                if pr.get(key) and not fields.get(key):
                    fields[key] = pr[key]
            fields.setdefault("motivations", [])
            fields["motivations"] = sorted(set(fields["motivations"]) | set(pr.get("motivations") or []))
            tags |= set(pr.get("tags") or [])
            if pr.get("notes"):
                notes.append(pr["notes"])
        last = conn.execute(
            select(func.max(d.c.day)).where(d.c.platform == plat, d.c.user_id == uid)
        ).scalar()
        if last is not None:
            for t in conn.execute(
                select(d.c.day, d.c.group_id, d.c.messages, d.c.replies_received, d.c.joins, d.c.leaves)
                .where(
                    d.c.platform == plat, d.c.user_id == uid, d.c.day > last - timedelta(days=timeline_days)
                )
                .order_by(d.c.day)
            ):
                timeline.append({"platform": plat, **dict(t._mapping)})
    return {
        "platform": platform,
        "user_id": user_id,
        "person_id": pid,
        "display_name": (person or {}).get("display_name")
        or next((g["user_name"] for g in groups if g["user_name"]), None),
        "accounts": [f"{a}:{b}" for a, b in accounts],
        "groups": groups,
        "region": fields.get("region"),
        "industry": fields.get("industry"),
        "needs": fields.get("needs"),
        "motivations": fields.get("motivations", []),
        "intro_text": fields.get("intro_text"),
        "community_scores": _community_scores(conn, accounts, cfg or MembersConfig()),
        "tags": sorted(tags),
        "notes": "\n".join(notes) or None,
        "timeline": timeline,
    }


def _community_scores(
    conn: Connection, accounts: Sequence[tuple[str, str]], cfg: MembersConfig
) -> dict[str, float]:
    """'platform:user' → community-wide activity score (every group of that platform), as of the
    platform's reference time."""
    from qunyun.features.members.rollup import COMMUNITY
    from qunyun.features.members.scores import reference_time, scores_for

    out: dict[str, float] = {}
    for plat, uid in accounts:
        when, _rule = reference_time(conn, cfg, plat)
        value = scores_for(conn, cfg, plat, COMMUNITY, when.date()).get(uid, 0.0)
        out[f"{plat}:{uid}"] = round(value, 2)
    return out


def set_tags(
    conn: Connection, platform: str, user_id: str, add: Sequence[str], remove: Sequence[str]
) -> list[str]:
    p = table(ProfileRow)
    current = conn.execute(select(p.c.tags).where(p.c.platform == platform, p.c.user_id == user_id)).scalar()
    tags = sorted((set(current or []) | set(add)) - set(remove))
    upsert_profile(conn, platform, user_id, {"tags": tags})
    return tags
