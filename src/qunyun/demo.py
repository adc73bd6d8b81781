"""A realistic, deterministic demo community (演示社群) for first runs, screenshots and tests.

Seven groups of the kinds operators run (seeds 002–004): a tier chain 一群 → 二群 → 留级群, a
21-day check-in camp (学习打卡群), a trial-course group (体验课群) that is lively for a week and then
cools down, a Telegram interest group and a WeCom newcomer group. ~2,000 members with a long-tail
activity distribution (a few opinion leaders, many lurkers), ~200,000 mostly Chinese messages over
60 days ending today: questions and their answers (as replies), mentions, check-ins, joins and
leaves, self-introductions from newcomers, and an ad wave posted across several groups.
The same seed always builds the same community (relative to the end date).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update

from qunyun.app import QunyunApp
from qunyun.events import Event, EventType
from qunyun.staff import StaffExists, create_user, set_password
from qunyun.store.tables import GroupRow, MemberRow, tbl

DAYS = 60
ADMIN = "admin"
#: the last hours of the window are played through the engine (dry-run) instead of imported
LIVE_HOURS = 6


@dataclass(frozen=True)
class GroupSpec:
    platform: str
    group_id: str
    name: str
    type: str
    tier: str | None
    capacity: int
    share: float  # of all members
    volume: float  # relative messages per member-day
    parent: str | None = None
    lifespan: int | None = None  # days of life for camp-like groups (then they cool down)
    start_day: int = 0


GROUPS = [
    GroupSpec("qq", "610001", "运营交流一群", "core", "一群", 100, 0.05, 3.0),
    GroupSpec("qq", "610002", "运营交流二群", "interest", "二群", 500, 0.22, 1.2, parent="610001"),
    GroupSpec("qq", "610003", "运营交流留级群", "interest", "留级群", 500, 0.18, 0.35, parent="610001"),
    GroupSpec("qq", "620001", "21天早起打卡营", "learning", None, 300, 0.12, 1.1, lifespan=21, start_day=25),
    GroupSpec("qq", "630001", "私域增长体验课·3期", "conversion", None, 200, 0.10, 1.4, lifespan=7, start_day=40),
    GroupSpec("telegram", "-1001234567890", "Growth Hackers 中文", "interest", None, 1000, 0.20, 0.6),
    GroupSpec("wecom", "wrOgQhDgAA1", "新人交流群", "newcomer", None, 500, 0.13, 0.5),
]

GROUPS_BY_ID = {g.group_id: g for g in GROUPS}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红燕飞鹏辉俊帆宇轩浩然子涵梓萱一诺欣怡思远晨阳佳琪雨桐嘉怡"
NICK_WORDS = ["运营", "小白", "增长", "阿", "老", "小", "Coco", "Leo", "Amy", "Jason", "产品", "木子", "晴天", "夏天",
              "橙子", "Momo", "Kiki", "大鹏", "七七", "豆豆", "阿杰", "一一", "芒果", "Luna", "Max"]
CITIES = ["北京", "上海", "杭州", "深圳", "广州", "成都", "南京", "武汉", "西安", "苏州", "长沙", "厦门", "重庆",
          "天津"]
JOBS = ["产品经理", "新媒体运营", "社群运营", "电商运营", "销售", "老师", "设计师", "程序员", "创业者",
        "市场专员", "HR", "宝妈", "大学生", "自由职业者"]
NEEDS = ["学习社群运营", "做私域流量", "提升转化率", "找同行交流", "学习活动策划", "做副业", "提升写作能力",
         "搭建会员体系"]

TOPICS = ["私域", "社群裂变", "拉新", "留存", "转化", "活动策划", "朋友圈文案", "直播", "小红书", "视频号", "抖音",
          "用户分层", "积分体系", "打卡活动", "红包", "SOP", "话术", "KOC", "复购", "社群活跃度"]
QUESTIONS = [
    "请问大家{t}一般怎么做？", "有人做过{t}吗？效果怎么样", "新人求助：{t}从哪里开始比较好？",
    "{t}的数据一般看哪些指标呀？", "想问下{t}有没有好用的工具推荐？", "大家{t}遇到过瓶颈吗，怎么突破的？",
    "{t}这块有没有入门资料推荐？", "请教一下，{t}和拉群冲突吗？", "有没有大佬讲讲{t}的SOP？",
]
ANSWERS = [
    "我们之前{t}是先做用户分层，再按层推内容，效果还可以", "可以看下群公告里的资料，{t}讲得挺细的",
    "{t}的关键是持续，前7天一定要有人带节奏", "建议先从小范围测试，{t}数据好了再放量",
    "我一般用表格记录{t}的数据，每周复盘一次", "这个问题之前讨论过，{t}最重要的是找准用户需求",
    "同意楼上，{t}别一上来就发广告", "可以私聊我，我把{t}的模板发你",
]
CHATTER = [
    "早上好☀️", "今天的分享太有收获了👍", "哈哈哈哈", "收到", "同问", "学到了", "晚上好各位", "周末愉快～",
    "这个思路不错", "+1", "感谢分享🙏", "有道理", "打卡", "今天加班，晚点看回放", "😂😂", "刚看到，补个课",
    "{t}真的太难了", "最近在研究{t}", "今天试了一下{t}，转化还行", "有没有一起做{t}的小伙伴", "大家中午吃啥",
    "群里好热闹", "潜水多年，冒个泡", "明天几点开始？", "回放在哪里看呀", "已报名", "这个活动还能参加吗",
]
CHECKINS = ["打卡第{n}天 ✅ 今天{h}点起床，读书30分钟", "Day {n} 打卡！早起+跑步3公里", "第{n}天打卡，今日复盘已完成",
            "打卡 Day{n}：完成今日作业", "#打卡 第{n}天 早起成功"]
COURSE = ["第{n}课的作业提交了，请老师点评", "老师，第{n}课的课件在哪下载？", "今天的直播课讲得太好了",
          "体验课结束后还有正式课吗？", "正式课多少钱呀", "已经报名正式课了🎉", "第{n}课笔记整理好了，分享给大家"]
SPAM = [
    "兼职刷单日结，加微信 vx: fuli{n}88 详聊，名额有限", "低价出售各类课程资料，加V信：ziliao{n}6 备注群名",
    "免费领取运营资料包👉 扫码进群 qm.qq.com/q/{n}abcXYZ", "想赚零花钱的姐妹加我QQ 3{n}7654321，每天1小时",
    "专业代运营，涨粉1万只要99，联系电话 13{n}12345678",
]


@dataclass
class Person:
    uid: int
    name: str
    weight: float
    kind: str  # kol, core, regular, lurker, spammer, staff
    groups: list[str] = field(default_factory=list)
    join_day: dict[str, int] = field(default_factory=dict)
    leave_day: dict[str, int] = field(default_factory=dict)
    intro: str | None = None


def _name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    if r < 0.8:
        return rng.choice(NICK_WORDS) + rng.choice(NICK_WORDS).lower() + (str(rng.randint(1, 99)) if rng.random() < .3
                                                                            else "")
    return f"{rng.choice(CITIES)}-{rng.choice(JOBS)}-{rng.choice(SURNAMES)}{rng.choice(GIVEN)}"


def _people(rng: random.Random, n: int) -> list[Person]:
    people = []
    for i in range(n):
        r = rng.random()
        if i < 4:
            kind, w = "staff", 6.0
        elif r < 0.02:
            kind, w = "kol", rng.uniform(8, 15)
        elif r < 0.10:
            kind, w = "core", rng.uniform(3, 7)
        elif r < 0.45:
            kind, w = "regular", rng.uniform(0.4, 2.0)
        elif r < 0.99:
            kind, w = "lurker", rng.uniform(0.0, 0.08)
        else:
            kind, w = "spammer", 0.0
        people.append(Person(uid=100000 + i * 7919 % 900000, name=_name(rng), weight=w, kind=kind))
    return people


def _assign(rng: random.Random, people: list[Person], until: int) -> None:
    for p in people:
        if p.kind in ("staff", "spammer"):
            p.groups = [g.group_id for g in GROUPS]
        else:
            for g in GROUPS:
                share = g.share * (2.5 if p.kind in ("kol", "core") and g.tier == "一群" else 1)
                if rng.random() < share * 1.6:
                    p.groups.append(g.group_id)
            if not p.groups:
                p.groups.append(rng.choice([g.group_id for g in GROUPS if g.tier != "一群"]))
        for gid in p.groups:
            g = GROUPS_BY_ID[gid]
            if p.kind == "staff":
                day = g.start_day
            elif p.kind == "spammer":
                day = rng.randint(max(g.start_day, 30), until - 3)
            elif g.lifespan:
                day = g.start_day + min(int(rng.expovariate(1.2)), 3)
            elif rng.random() < 0.75:
                day = -rng.randint(1, 400)  # was already there before the window
            else:
                day = rng.randint(0, until - 1)
            p.join_day[gid] = day
            if p.kind in ("regular", "lurker") and rng.random() < 0.06 and day < until - 2:
                p.leave_day[gid] = rng.randint(max(day, 0) + 1, until - 1)
        if rng.random() < 0.7:
            p.intro = (f"大家好，我是来自{rng.choice(CITIES)}的{rng.choice(JOBS)}，"
                       f"想{rng.choice(NEEDS)}，请多关照🙏")


def _day_factor(g: GroupSpec, day: int) -> float:
    if day < g.start_day:
        return 0.0
    if g.lifespan:
        age = day - g.start_day
        if age < g.lifespan:
            return 1.3 if age < 3 else 1.0
        return max(0.03, 0.6 * (0.55 ** (age - g.lifespan + 1)))  # "7 days then dead" (seeds/004)
    return 1.0


HOURS = [0.2, 0.1, 0.05, 0.03, 0.03, 0.1, 0.5, 1.0, 1.4, 1.5, 1.6, 1.6, 2.2, 1.8, 1.4, 1.4, 1.5, 1.5, 1.6, 2.0,
         2.6, 2.8, 2.2, 0.9]


def generate(seed: int = 7, scale: float = 1.0, end: date | None = None) -> Iterator[Event]:
    """Yield the demo community's events in time order (per day)."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC).date()
    start = end - timedelta(days=DAYS)
    people = _people(rng, max(50, int(1550 * scale)))  # ~2,000 platform accounts
    _assign(rng, people, DAYS)
    target = 212_000 * scale
    weights_total = sum(
        p.weight * GROUPS_BY_ID[gid].volume for p in people for gid in p.groups
    ) or 1.0
    per_weight_day = target / (weights_total * DAYS * 0.72)
    msg_no = 0
    recent_questions: dict[str, list[tuple[str, str]]] = {}
    checkin_streak: dict[tuple[int, str], int] = {}
    spam_day = DAYS - 1  # inside the live window, so moderation acts on it in the demo
    for day in range(DAYS):
        d0 = datetime.combine(start + timedelta(days=day), time(0), tzinfo=UTC)
        weekend = (start + timedelta(days=day)).weekday() >= 5
        day_events: list[Event] = []
        for g in GROUPS:
            factor = _day_factor(g, day) * (0.75 if weekend else 1.0)
            members = [p for p in people if g.group_id in p.groups and p.join_day[g.group_id] <= day
                       and p.leave_day.get(g.group_id, 10**6) > day]
            for p in people:  # joins and leaves of the day
                if p.join_day.get(g.group_id) == day and g.group_id in p.groups:
                    t = d0 + timedelta(seconds=rng.randint(8 * 3600, 23 * 3600))
                    day_events.append(_ev(g, p, f"j{day}-{p.uid}", EventType.JOIN, None, t))
                    if p.intro and p.kind != "spammer":
                        day_events.append(_ev(g, p, f"i{day}-{p.uid}", EventType.MESSAGE, p.intro,
                                              t + timedelta(minutes=rng.randint(1, 30))))
                if p.leave_day.get(g.group_id) == day:
                    t = d0 + timedelta(seconds=rng.randint(0, 86399))
                    day_events.append(_ev(g, p, f"l{day}-{p.uid}", EventType.LEAVE, None, t))
            if not factor:
                continue
            for p in members:
                lam = p.weight * g.volume * factor * per_weight_day
                n = _poisson(rng, lam)
                for _ in range(n):
                    msg_no += 1
                    hour = rng.choices(range(24), HOURS)[0]
                    t = d0 + timedelta(seconds=hour * 3600 + rng.randint(0, 3599))
                    text, reply_to, mentions = _content(rng, g, p, day, recent_questions, checkin_streak, members)
                    day_events.append(_ev(g, p, f"m{msg_no}", EventType.MESSAGE, text, t, reply_to, mentions))
                    if reply_to is None and text.endswith(("？", "吗", "?", "呀")):
                        recent_questions.setdefault(g.group_id, []).append((f"m{msg_no}", str(p.uid)))
                        recent_questions[g.group_id] = recent_questions[g.group_id][-30:]
        if day == spam_day:  # an ad wave: the same text from two accounts across five groups in minutes
            spammers = [p for p in people if p.kind == "spammer"][:2] or people[-2:]
            text = SPAM[0].format(n=7)
            t = d0 + timedelta(hours=21, minutes=13)
            for i, g in enumerate(GROUPS[:5]):
                sp = spammers[i % len(spammers)]
                day_events.append(_ev(g, sp, f"s{day}-{i}", EventType.MESSAGE, text, t + timedelta(seconds=40 * i)))
        for p in (p for p in people if p.kind == "spammer"):
            if rng.random() < 0.08:
                g = GROUPS_BY_ID[rng.choice(p.groups)]
                msg_no += 1
                t = d0 + timedelta(seconds=rng.randint(0, 86399))
                day_events.append(_ev(g, p, f"m{msg_no}", EventType.MESSAGE,
                                      rng.choice(SPAM).format(n=rng.randint(1, 9)), t))
        day_events.sort(key=lambda e: e.time)
        yield from day_events


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, lam ** 0.5)))
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _content(
    rng: random.Random,
    g: GroupSpec,
    p: Person,
    day: int,
    questions: dict[str, list[tuple[str, str]]],
    streaks: dict[tuple[int, str], int],
    members: list[Person],
) -> tuple[str, str | None, list[str]]:
    topic = rng.choice(TOPICS)
    if g.type == "learning" and rng.random() < 0.45:
        key = (p.uid, g.group_id)
        streaks[key] = streaks.get(key, 0) + 1
        return rng.choice(CHECKINS).format(n=streaks[key], h=rng.randint(5, 7)), None, []
    if g.type == "conversion" and rng.random() < 0.35:
        return rng.choice(COURSE).format(n=min(7, day - g.start_day + 1)), None, []
    pending = questions.get(g.group_id) or []
    answer_bias = {"kol": 0.55, "staff": 0.5, "core": 0.35}.get(p.kind, 0.12)
    if pending and rng.random() < answer_bias:
        mid, asker = rng.choice(pending)
        if asker != str(p.uid):
            return rng.choice(ANSWERS).format(t=topic), mid, [asker]
    if rng.random() < {"regular": 0.16, "lurker": 0.3, "core": 0.08}.get(p.kind, 0.04):
        return rng.choice(QUESTIONS).format(t=topic), None, []
    if rng.random() < 0.06 and members:
        target = rng.choice([m for m in members if m.kind in ("kol", "staff", "core")] or members)
        if target.uid != p.uid:
            return f"@{target.name} {rng.choice(['你怎么看', '求指点', '上次说的资料能发下吗', '说得太对了'])}", None, [
                str(target.uid)]
    return rng.choice(CHATTER).format(t=topic), None, []


def _ev(
    g: GroupSpec,
    p: Person,
    mid: str,
    typ: EventType,
    text: str | None,
    t: datetime,
    reply_to: str | None = None,
    mentions: list[str] | None = None,
) -> Event:
    return Event(
        platform=g.platform,
        group_id=g.group_id,
        group_name=g.name,
        message_id=mid,
        user_id=str(p.uid),
        user_name=p.name,
        type=typ,
        text=text,
        time=t,
        reply_to=reply_to,
        mentions=mentions or [],
    )


def build_demo(
    app: QunyunApp,
    *,
    seed: int = 7,
    scale: float = 1.0,
    password: str | None = None,
    end: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Store the demo community (idempotent: a second run adds nothing) and an admin login."""
    import secrets

    from qunyun.engine.ingest import BATCH

    total_hint = int(200_000 * scale * 1.05)
    imported = seen = 0
    batch: list[Event] = []
    live: list[Event] = []
    end_day = end or datetime.now(UTC).date()
    live_from = datetime.combine(end_day, time(0), tzinfo=UTC) - timedelta(hours=LIVE_HOURS)
    for ev in generate(seed, scale, end):
        if ev.time >= live_from:
            live.append(ev)
            continue
        batch.append(ev)
        if len(batch) >= BATCH:
            imported += len(app.engine.store(batch).inserted)
            seen += len(batch)
            batch.clear()
            if progress:
                progress(seen, max(total_hint, seen))
    if batch:
        imported += len(app.engine.store(batch).inserted)
        seen += len(batch)
    _describe_groups(app)  # before the live part, so features see types, tiers and admins
    imported += _play_live(app, live)
    seen += len(live)
    if progress:
        progress(seen, seen)
    password = password or secrets.token_urlsafe(9)
    with app.db.engine.begin() as conn:
        try:
            create_user(conn, ADMIN, password, "owner")
        except StaffExists:
            set_password(conn, ADMIN, password)
    with app.db.engine.connect() as conn:
        from qunyun.store.queries import overview

        ov = overview(conn)
    return {
        "groups": ov["groups"],
        "members": ov["members"],
        "messages": ov["messages"],
        "events": seen,
        "imported": imported,
        "admin": ADMIN,
        "password": password,
    }


def _play_live(app: QunyunApp, events: list[Event]) -> int:
    """Run the last hours through the whole engine in dry-run, so the audit log, the outbox and the
    moderation queue show what qunyun would have done (nothing is sent: no platform is connected)."""
    import asyncio

    engine = app.engine
    was = engine.settings.engine.dry_run
    engine.settings.engine.dry_run = True
    stored = 0
    try:
        for start in range(0, len(events), 200):
            outcomes = asyncio.run(engine.aprocess(events[start : start + 200]))
            stored += sum(o.stored for o in outcomes)
    finally:
        engine.settings.engine.dry_run = was
    return stored


def _describe_groups(app: QunyunApp) -> None:
    """Group metadata (type, tier, capacity, parent) and the staff accounts' admin flags."""
    g, m = tbl(GroupRow), tbl(MemberRow)
    staff_ids = [str(100000 + i * 7919 % 900000) for i in range(4)]
    with app.db.engine.begin() as conn:
        for spec in GROUPS:
            conn.execute(
                update(g)
                .where(g.c.platform == spec.platform, g.c.group_id == spec.group_id)
                .values(name=spec.name, type=spec.type, tier=spec.tier, capacity=spec.capacity,
                        parent_group_id=spec.parent)
            )
        conn.execute(update(m).where(m.c.user_id.in_(staff_ids)).values(is_admin=True))
