"""The moderation plugin (秩序维护): the spam policy, cross-group waves, the ladder, the review queue.

The policy runs first on every live message (priority 10). Trusted members (admins, KOLs,
whitelisted and configured users, the bot itself) pass untouched. Otherwise the message is scored
by the detection half (:mod:`.detector`: rules + model, with the flood tracker's and newcomer
findings), offered to the :class:`.waves.WaveTracker`, and, when it is spam or part of an
acted-on wave, answered with actions — the copy deleted, the ladder's step, or the wave's
community-wide ban — plus a review-queue entry; then ``ctx.stop()`` so no other feature acts on it.
Imported history never reaches policies, so nothing is ever punished retroactively.

Live traffic takes the batch path: the batch hook hands over the engine's batch, and the first
policy call decides every message of it at once (one member query, one ``detect_many`` per rule
set, one bulk insert of wave signatures); each policy call then only acts on its own decision, and
ordinary chat is decided without touching the store. Without a hook (or when preparing a batch
fails) each message is decided on its own, with the same result.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, tuple_, update

from qunyun.actions import Action, ActionKind, Reason
from qunyun.engine.plugins import lazy_router
from qunyun.events import Event, EventType
from qunyun.i18n import both
from qunyun.store.tables import MemberRow, OutboxRow

from .config import SpamRulesConfig
from .ladder import delete_action, escalate, key, record_strike
from .review import create_review, set_actions
from .scope import ModerationSettings, effective_rules, is_whitelisted, list_entries, scopes_for, trusted_members
from .tables import Community, ReviewRow, community_of, tbl
from .waves import SOURCE as WAVE_SOURCE
from .waves import WaveItem, WaveResult, WaveTracker, set_status

if TYPE_CHECKING:
    from qunyun.config import Settings
    from qunyun.engine.context import Context
    from qunyun.engine.plugins import Registry
    from qunyun.store.queries import GroupRef

    from .detector import DetectContext, Detector, Verdict
    from .rules import Finding

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
#: platform roles that mark a group's owner/admins in adapters' raw payloads (OneBot sender.role)
ADMIN_ROLES = {"owner", "admin", "administrator", "creator"}
#: the members feature's roles whose holders are never moderated (意见领袖 and admins by activity)
TRUSTED_ROLES = ("admin", "kol")
#: how often the trusted roles are recomputed (the job); a preview recomputes a group's older ones
TRUST_REFRESH_SECONDS = 600
#: why a sender is trusted (catalog keys ``moderation.trusted_as.<reason>``)
TRUST_REASONS = ("bot", "staff", "whitelist", "group_admin", *(f"role_{r}" for r in TRUSTED_ROLES))


#: rules, communities and trust are re-read this often (an edit elsewhere applies within this delay)
CACHE_SECONDS = 10.0
#: how often the current model is asked for (it changes after ``retrain``)
MODEL_CHECK_SECONDS = 60.0


@dataclass(slots=True)
class _GroupState:
    expires: float
    cfg: ModerationSettings
    community: Community
    entries: list[dict[str, Any]]
    rules: SpamRulesConfig
    rules_key: str


#: where the batch hook leaves the batch in ``ctx.batch``
BATCH_KEY = "moderation"


@dataclass(slots=True)
class _Prepared:
    """One message decided by the batch path (or the per-message path): what ``_act`` needs."""

    gs: _GroupState | None = None
    member: Any = None
    verdict: Verdict | None = None
    newcomer: bool = False
    is_spam: bool = False
    flag: bool = False
    spared: str | None = None
    wave_score: float = 0.0
    wave: WaveItem | None = None
    #: the score this message had to reach (the group's threshold, or the newcomer one, + trust)
    threshold: float = 0.0


#: trusted member, rules off, or a join/leave: nothing to do
SKIP = _Prepared()


@dataclass(slots=True)
class _Batch:
    """The batch hook's share of ``ctx.batch``: the events, then every message's decision."""

    events: list[Event]
    #: id(event) → decision; None until the batch's first policy call prepares it
    prepared: dict[int, _Prepared] | None = None
    failed: bool = False
    #: id(event) → flood findings already taken (so a fallback never feeds the tracker twice)
    flood: dict[int, list[Finding]] = field(default_factory=dict)


class TrustedCache:
    """Members the members feature calls ``admin`` or ``kol``, per group, refreshed by a job.

    Computing roles (PageRank over the reply graph) is far too slow for the message path, so the
    policy only reads this cache; :meth:`refresh` runs from the scheduled job, and the preview
    (试一试) fills in the one group it asks about with :meth:`refresh_group`.
    """

    def __init__(self) -> None:
        self._roles: dict[tuple[str, str], dict[str, str]] = {}
        #: when each group's roles were set (time.monotonic), so a reader can tell stale ones
        self._stamps: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def role(self, platform: str, group_id: str, user_id: str) -> str | None:
        """The trusted role (``kol``, ``admin``) of a member, None when not trusted."""
        return self._roles.get((platform, group_id), {}).get(user_id)

    def has(self, platform: str, group_id: str, max_age: float | None = None) -> bool:
        """Whether this group's roles were computed (an empty set counts), within ``max_age`` seconds."""
        stamp = self._stamps.get((platform, group_id))
        return stamp is not None and (max_age is None or _time.monotonic() - stamp <= max_age)

    def set(self, platform: str, group_id: str, roles: Mapping[str, str]) -> None:
        """The trusted members of a group, ``{user: role}``."""
        with self._lock:
            self._roles[(platform, group_id)] = dict(roles)
            self._stamps[(platform, group_id)] = _time.monotonic()

    def refresh(self, conn: Connection, settings: Settings, roles: Sequence[str] = TRUSTED_ROLES) -> int:
        """Recompute the trusted roles of every group (needs the members feature); returns groups done."""
        from qunyun.store import queries

        done = 0
        for g in queries.list_groups(conn):
            if self.refresh_group(conn, settings, queries.GroupRef(g["platform"], g["group_id"]), roles):
                done += 1
        return done

    def refresh_group(
        self, conn: Connection, settings: Settings, ref: GroupRef, roles: Sequence[str] = TRUSTED_ROLES
    ) -> bool:
        """Recompute one group's trusted roles; False without the members feature or on failure."""
        try:
            from qunyun.features.members.config import MembersConfig
            from qunyun.features.members.roles import compute_insights
        except ImportError:
            return False
        from qunyun.store import queries

        cfg = settings.feature("members", MembersConfig)
        _, members = queries.list_members(conn, ref)
        try:
            insights, _ = compute_insights(conn, ref, members, cfg)
        except Exception:  # one broken group must not stop the refresh
            log.exception("trusted-role refresh failed for %s", ref)
            return False
        self.set(ref.platform, ref.group_id, {u: ins.role for u, ins in insights.items() if ins.role in roles})
        return True


def plugin_of(registry: Registry) -> ModerationPlugin | None:
    """The app's own moderation plugin (the instance whose policy its engine runs), if loaded:
    the preview then shares its caches — the trusted roles its job refreshes, the group rules."""
    for reg in registry.policies:
        owner = getattr(reg.fn, "__self__", None)
        if isinstance(owner, ModerationPlugin):
            return owner
    return None


class ModerationPlugin:
    """Built-in plugin ``moderation`` (entry point group ``qunyun.plugins``)."""

    name = "moderation"

    def __init__(self) -> None:
        self.trusted = TrustedCache()
        self._trackers: dict[str, WaveTracker] = {}
        self._last_tracker: tuple[ModerationSettings, WaveTracker] | None = None
        self._floods: dict[str, Any] = {}
        self._cfg_cache: tuple[int, str, ModerationSettings] | None = None
        self._groups: dict[tuple[str, str], _GroupState] = {}
        self._detectors: dict[tuple[str, int], Detector] = {}
        self._model: tuple[float, Any] | None = None
        #: this database's review decisions (:func:`.classifier.feedback_path_for`), set by
        #: :meth:`use_database`; the live model trains on them, never on another database's
        self.feedback: Path | None = None
        self._feedback_url: str | None = None
        self._trust: tuple[float, dict[tuple[str, str], float]] | None = None

    # -- registration --------------------------------------------------------------------------
    def setup(self, registry: Registry) -> None:
        from .cli import app as spam_app

        registry.add_cli(spam_app, "spam", "Spam/ad detection: classify, check, train, eval. 垃圾/广告检测")
        registry.add_batch_hook(self.collect_batch, name="moderation.batch")
        registry.add_policy(
            self.policy,
            priority=10,
            name="moderation.spam",
            types=[EventType.MESSAGE, EventType.JOIN, EventType.LEAVE],
        )
        try:
            from .modcli import app as mod_app

            registry.add_cli(mod_app, "moderation", "Review queue, incidents and rules. 复核队列、刷屏事件与规则")
        except ImportError:  # pragma: no cover - the CLI needs typer, always installed
            log.exception("moderation CLI not available")
        # routers are imported when the web app is built, not on every CLI start
        registry.add_api_router(lazy_router("qunyun.features.moderation.api"))
        registry.add_web_router(lazy_router("qunyun.features.moderation.web"))
        registry.add_template_dir(TEMPLATES)
        registry.add_nav("nav.moderation", "/moderation/review", order=40, min_role="operator")
        # KOLs are trusted from the first message after a restart, not ten minutes later
        registry.add_job(
            "moderation.refresh_trusted",
            self.refresh_trusted_job,
            interval_seconds=TRUST_REFRESH_SECONDS,
            at_start=True,
        )
        registry.add_job("moderation.retrain", retrain_job, interval_seconds=3600)

    def refresh_trusted_job(self, app: Any) -> int:
        with app.db.engine.connect() as conn:
            return self.trusted.refresh(conn, app.settings)

    # -- configuration -------------------------------------------------------------------------
    def config(self, settings: Settings) -> ModerationSettings:
        """The validated ``[features.moderation]`` section (cached while the section is unchanged)."""
        section = settings.features.get("moderation", {})
        stamp = repr(section)
        cached = self._cfg_cache
        if cached is not None and cached[0] == id(settings) and cached[1] == stamp:
            return cached[2]
        cfg = settings.feature("moderation", ModerationSettings)
        self._cfg_cache = (id(settings), stamp, cfg)
        return cfg  # type: ignore[no-any-return]

    def tracker(self, cfg: ModerationSettings) -> WaveTracker:
        """The wave tracker of these settings (one per distinct ``waves`` section; asked per message)."""
        last = self._last_tracker
        if last is not None and last[0] is cfg:
            return last[1]
        k = cfg.waves.model_dump_json()
        tr = self._trackers.get(k)
        if tr is None:
            tr = self._trackers[k] = WaveTracker(cfg.waves)
        self._last_tracker = (cfg, tr)
        return tr

    def flood(self, cfg: ModerationSettings) -> Any:
        from .flood import FloodTracker

        k = cfg.rules.model_dump_json()
        tr = self._floods.get(k)
        if tr is None:
            if len(self._floods) > 16:
                self._floods.clear()
            tr = self._floods[k] = FloodTracker(cfg.rules)
        return tr

    # -- the policy ----------------------------------------------------------------------------
    def is_trusted(
        self, settings: Settings, cfg: ModerationSettings, ev: Event, entries: list[dict[str, Any]], member: Any
    ) -> bool:
        """Staff, group admins, KOLs, configured and whitelisted members, and the bot itself."""
        return self.trust_reason(settings, cfg, ev, entries, member) is not None

    def trust_reason(
        self, settings: Settings, cfg: ModerationSettings, ev: Event, entries: list[dict[str, Any]], member: Any
    ) -> str | None:
        """Why a sender is never moderated (:data:`TRUST_REASONS`), or None: the bot itself,
        ``[features.members]`` staff, the whitelist or ``trusted_users``, a group admin (the
        platform's role, with ``trust_admins``), or a KOL/admin by the members feature's roles."""
        if ev.self_id and ev.user_id == ev.self_id:
            return "bot"
        if members_admin(settings, ev):
            return "staff"
        if is_whitelisted(cfg, entries, ev.platform, ev.user_id):
            return "whitelist"
        if cfg.trust_admins:
            sender = ev.raw.get("sender") if isinstance(ev.raw.get("sender"), dict) else {}
            role = str((sender or {}).get("role") or ev.raw.get("role") or "").lower()
            if role in ADMIN_ROLES or (member is not None and member.is_admin):
                return "group_admin"
        kind = self.trusted.role(ev.platform, ev.group_id, ev.user_id)
        return None if kind is None else f"role_{kind}"

    # -- the batch path ------------------------------------------------------------------------
    def collect_batch(self, events: Sequence[Event], batch: dict[str, Any]) -> None:
        """Batch hook: remember the batch; its first policy call decides every message at once.

        A hook is handed no database, and trust, newcomer status and per-group rules all need
        one, so the bulk work runs in :meth:`_prepare_batch` from the first policy call (which
        has ``ctx.db``): one member query, one ``detect_many`` per rule set, one wave insert.
        """
        batch[BATCH_KEY] = _Batch(list(events))

    def _prepared(self, ctx: Context, cfg: ModerationSettings) -> _Prepared | None:
        """This event's precomputed decision, or None (no batch hook ran, or preparing failed)."""
        batch = ctx.batch.get(BATCH_KEY)
        if not isinstance(batch, _Batch) or batch.failed:
            return None
        if batch.prepared is None:
            try:
                batch.prepared = self._prepare_batch(ctx, cfg, batch)
            except Exception:  # the per-message path still decides every message
                log.exception("moderation: preparing a batch of %d events failed", len(batch.events))
                batch.failed = True
                return None
        return batch.prepared.get(id(ctx.event))

    def _prepare_batch(self, ctx: Context, cfg: ModerationSettings, batch: _Batch) -> dict[int, _Prepared]:
        """Decide every message of the batch in event order, with bulk reads and writes.

        The flood tracker is fed in event order (it is order-dependent); the member rows already
        count the whole batch (projections ran before any policy), as they do per message.
        """
        out: dict[int, _Prepared] = {}
        flood = self.flood(cfg)
        rules_on = cfg.rules.enabled or bool(cfg.groups)
        messages = [ev for ev in batch.events if ev.type is EventType.MESSAGE]
        pending: list[tuple[Event, _GroupState, Any, str, bool, DetectContext]] = []
        with ctx.db.engine.begin() as conn:
            members = self._members(conn, messages) if rules_on else {}
            for ev in batch.events:
                if ev.type in (EventType.JOIN, EventType.LEAVE):
                    flood.observe(ev, cfg.rules)
                    batch.flood[id(ev)] = []
                    out[id(ev)] = SKIP
                    continue
                if ev.type is not EventType.MESSAGE:
                    continue
                if not rules_on:
                    out[id(ev)] = SKIP
                    continue
                gs = self.group_state(conn, cfg, ev.platform, ev.group_id)
                member = members.get((ev.platform, ev.group_id, ev.user_id))
                if (
                    not gs.rules.enabled
                    or self.is_trusted(ctx.settings, cfg, ev, gs.entries, member)
                ):
                    out[id(ev)] = SKIP
                    continue
                extra = batch.flood[id(ev)] = list(flood.observe(ev, gs.rules))
                newcomer, context = self._context(gs, ev, member, extra)
                pending.append((ev, gs, member, ev.plain_text(), newcomer, context))
            # one detect_many per compiled rule set (one for every group that has no override)
            by_detector: dict[int, tuple[Detector, list[int]]] = {}
            for i, (_, gs, *_rest) in enumerate(pending):
                det = self.detector(gs)
                by_detector.setdefault(id(det), (det, []))[1].append(i)
            verdicts: list[Any] = [None] * len(pending)
            for det, idxs in by_detector.values():
                found = det.detect_many([pending[i][3] for i in idxs], contexts=[pending[i][5] for i in idxs])
                for i, v in zip(idxs, found, strict=True):
                    verdicts[i] = v
            items: list[WaveItem] = []
            for (ev, gs, member, text, newcomer, _), verdict in zip(pending, verdicts, strict=True):
                prep = self._decision(conn, cfg, ev, gs, member, verdict, newcomer)
                if cfg.waves.enabled:
                    prep.wave = _wave_item(ev, gs.community.key, text, prep.wave_score, verdict.reasons)
                    items.append(prep.wave)
                out[id(ev)] = prep
            if items:
                self.tracker(cfg).prepare(conn, items)
        return out

    def _members(self, conn: Connection, events: Sequence[Event]) -> dict[tuple[str, str, str], Any]:
        """The member rows of a batch's senders, in one query per few hundred senders."""
        m = tbl(MemberRow)
        wanted = sorted({(ev.platform, ev.group_id, ev.user_id) for ev in events})
        found: dict[tuple[str, str, str], Any] = {}
        for start in range(0, len(wanted), 300):
            chunk = wanted[start : start + 300]
            query = select(m.c.platform, m.c.group_id, m.c.user_id, m.c.messages, m.c.is_admin, m.c.joined_at).where(
                tuple_(m.c.platform, m.c.group_id, m.c.user_id).in_(chunk)
            )
            for row in conn.execute(query):
                found[(row.platform, row.group_id, row.user_id)] = row
        return found

    # -- the policy ----------------------------------------------------------------------------
    def policy(self, ctx: Context) -> list[Action]:
        ev = ctx.event
        cfg = self.config(ctx.settings)
        self.use_database(ctx.db.url)
        prep = self._prepared(ctx, cfg)
        if prep is not None:
            return [] if prep is SKIP else self._act(ctx, cfg, prep, None)
        # the per-message path: no batch hook ran (or preparing the batch failed)
        batch = ctx.batch.get(BATCH_KEY)
        seen = batch.flood if isinstance(batch, _Batch) else {}
        if ev.type in (EventType.JOIN, EventType.LEAVE):  # the flood tracker marks newcomers
            if id(ev) not in seen:
                self.flood(cfg).observe(ev, cfg.rules)
            return []
        if not cfg.rules.enabled and not cfg.groups:
            return []
        text = ev.plain_text()
        with ctx.db.engine.begin() as conn:
            gs = self.group_state(conn, cfg, ev.platform, ev.group_id)
            if not gs.rules.enabled:
                return []
            member = member_row(conn, ev.platform, ev.group_id, ev.user_id)
            if self.is_trusted(ctx.settings, cfg, ev, gs.entries, member):
                return []
            extra = seen[id(ev)] if id(ev) in seen else list(self.flood(cfg).observe(ev, gs.rules))
            newcomer, context = self._context(gs, ev, member, extra)
            verdict = self.detector(gs).detect(text, context=context)
            prep = self._decision(conn, cfg, ev, gs, member, verdict, newcomer)
            if cfg.waves.enabled:
                prep.wave = _wave_item(ev, gs.community.key, text, prep.wave_score, verdict.reasons)
                self.tracker(cfg).prepare(conn, [prep.wave])
            return self._act(ctx, cfg, prep, conn)

    def _decision(
        self,
        conn: Connection,
        cfg: ModerationSettings,
        ev: Event,
        gs: _GroupState,
        member: Any,
        verdict: Verdict,
        newcomer: bool,
    ) -> _Prepared:
        """Spam, flagged for a human, or left alone; and the score the wave tracker records."""
        rules = gs.rules
        bonus = self.trust_bonus(conn, ev.platform, ev.user_id)
        threshold = min((rules.newcomer_threshold if newcomer else rules.threshold) + bonus, 0.999)
        is_spam = verdict.score >= threshold
        # without hard evidence, only a near-certain score acts; below it the message is flagged
        # for a human (review entry, nothing done, nothing stopped). An established member's
        # vocabulary-only message is left alone altogether (their community's jargon, not spam)
        hard = hard_evidence(verdict)
        established = not newcomer and _established(cfg, member)
        soft = not hard and (verdict.score < cfg.certain_score or established)
        flag = is_spam and soft and not established
        spared = None
        if is_spam and soft:
            is_spam = False  # never acted on: flagged, or (established) left alone
            spared = "flagged" if flag else "established"
        # a soft copy never pushes a wave to its action threshold: regulars repeating the same
        # 红包 tip across groups is a watch, never a ban
        wave_score = min(verdict.score, cfg.waves.min_score * 0.99) if soft else verdict.score
        return _Prepared(gs, member, verdict, newcomer, is_spam, flag, spared, wave_score, threshold=threshold)

    def _act(self, ctx: Context, cfg: ModerationSettings, prep: _Prepared, conn: Connection | None) -> list[Action]:
        """Waves, the ladder or a flag for one decided message; the store only when there is work."""
        assert prep.verdict is not None and prep.gs is not None
        verdict = prep.verdict
        ctx.state["moderation"] = verdict.to_dict()
        if prep.spared:
            ctx.state["moderation"]["spared"] = prep.spared
        wave_work = prep.wave is not None and self.tracker(cfg).needs_store(prep.wave)
        if not (wave_work or prep.flag or prep.is_spam):
            return []  # ordinary chat: decided without touching the store
        if conn is None:
            with ctx.db.engine.begin() as own:
                actions = self._act_in(own, ctx, cfg, prep)
        else:
            actions = self._act_in(conn, ctx, cfg, prep)
        if any(a.kind is not ActionKind.NOTIFY_STAFF for a in actions):
            ctx.stop("spam")
        return actions

    def _act_in(self, conn: Connection, ctx: Context, cfg: ModerationSettings, prep: _Prepared) -> list[Action]:
        assert prep.verdict is not None and prep.gs is not None
        ev, verdict = ctx.event, prep.verdict
        actions: list[Action] = []
        if prep.wave is not None:
            wave = self.tracker(cfg).resolve(conn, prep.wave, dry_run=ctx.dry_run)
            if wave is not None and wave.incident is not None:
                # re-read the community: a group added since the cache filled must be banned from too
                fresh = community_of(conn, ev.platform, ev.group_id)
                actions = self._wave_actions(conn, cfg, ctx, fresh, wave)
        if not actions and prep.flag:
            ctx.state["moderation"]["flagged"] = self._flag(conn, ctx, prep.gs.community, verdict, prep.newcomer)
        elif not actions and prep.is_spam:
            fresh = community_of(conn, ev.platform, ev.group_id)
            actions = self._ladder_actions(conn, cfg, ctx, fresh, verdict, prep.newcomer, prep.member)
        return actions

    def _context(self, gs: _GroupState, ev: Event, member: Any, extra: list[Finding]) -> tuple[bool, DetectContext]:
        """Newcomer status and the detection context (the flood tracker's findings for this message)."""
        from .detector import DetectContext

        rules = gs.rules
        newcomer = any(f.code == "newcomer" for f in extra)
        if not newcomer and member is not None and rules.newcomer_messages > 0:
            newcomer = member.messages <= rules.newcomer_messages and member.joined_at is not None
        extra = [f for f in extra if f.code != "newcomer"]
        return newcomer, DetectContext.from_event(ev, rules, newcomer=newcomer, extra=extra)

    # -- caches (the message path must not re-read rules, communities and the model each time) ----
    def group_state(self, conn: Connection, cfg: ModerationSettings, platform: str, group_id: str) -> _GroupState:
        """Community, rule lists and effective rules of a group, re-read at most every CACHE_SECONDS."""
        key = (platform, group_id)
        now = _time.monotonic()
        st = self._groups.get(key)
        if st is not None and st.expires > now and st.cfg is cfg:
            return st
        community = community_of(conn, platform, group_id)
        entries = list_entries(conn, scopes_for(platform, group_id, community.key))
        rules = effective_rules(cfg, conn, platform, group_id, community, entries)
        if len(self._groups) > 20_000:
            self._groups.clear()
        st = self._groups[key] = _GroupState(
            now + CACHE_SECONDS, cfg, community, entries, rules, rules.model_dump_json()
        )
        return st

    def detector(self, gs: _GroupState) -> Detector:
        """A compiled detector per rule set, holding the current model (re-checked every minute)."""
        from . import classifier
        from .detector import Detector

        model = None
        if gs.rules.use_model and gs.rules.model_weight > 0:
            now = _time.monotonic()
            if self._model is None or self._model[0] < now:
                self._model = (now + MODEL_CHECK_SECONDS, classifier.get_model(feedback=self.feedback))
            model = self._model[1]
        key = (gs.rules_key, id(model))
        det = self._detectors.get(key)
        if det is None:
            if len(self._detectors) > 64:
                self._detectors.clear()
            det = self._detectors[key] = Detector(gs.rules, model=model)
        return det

    def use_database(self, db_url: str) -> None:
        """Train the live model on this database's decisions (cheap when the database is the same)."""
        if db_url != self._feedback_url:
            from . import classifier

            self._feedback_url = db_url
            self.feedback = classifier.feedback_path_for(db_url)
            self._model = None

    def trust_bonus(self, conn: Connection, platform: str, user_id: str) -> float:
        """Trust bonuses of every member (a small table), re-read at most every CACHE_SECONDS."""
        now = _time.monotonic()
        if self._trust is None or self._trust[0] < now:
            self._trust = (
                now + CACHE_SECONDS,
                {(r["platform"], r["user_id"]): float(r["bonus"]) for r in trusted_members(conn)},
            )
        return self._trust[1].get((platform, user_id), 0.0)

    def invalidate(self) -> None:
        """Forget cached rules, communities and trust (after an edit in this process; tests)."""
        self._groups.clear()
        self._trust = None
        self._model = None

    def _flag(self, conn: Connection, ctx: Context, community: Community, verdict: Verdict, newcomer: bool) -> int:
        """A review entry with no action: a human decides ("spam" then applies the ladder)."""
        evidence = {**_evidence(verdict, newcomer), "flag": True}
        return _message_review(conn, ctx, community, verdict, evidence, step="flag", actions=[])

    def _ladder_actions(
        self,
        conn: Connection,
        cfg: ModerationSettings,
        ctx: Context,
        community: Community,
        verdict: Verdict,
        newcomer: bool,
        member: Any,
    ) -> list[Action]:
        ev = ctx.event
        evidence = _evidence(verdict, newcomer)
        review_id = _message_review(conn, ctx, community, verdict, evidence)
        decision = escalate(
            conn,
            cfg.ladder,
            community=community,
            group_id=ev.group_id,
            user_id=ev.user_id,
            user_name=ev.user_name,
            message_id=ev.message_id,
            time=ev.time,
            score=verdict.score,
            codes=verdict.reasons,
            evidence=evidence,
            newcomer=newcomer,
            review_id=review_id,
        )

        conn.execute(update(tbl(ReviewRow)).where(tbl(ReviewRow).c.id == review_id).values(step=decision.step.action))
        cause = ":".join(ev.key)
        actions = [_with_cause(a, cause) for a in decision.actions]
        set_actions(conn, review_id, actions)
        return actions

    def _wave_actions(
        self, conn: Connection, cfg: ModerationSettings, ctx: Context, community: Community, wave: WaveResult
    ) -> list[Action]:
        inc = wave.incident
        assert inc is not None
        status = inc["status"]
        if status in ("dismissed",):
            return []
        if status in ("open", "watch"):
            if inc["score"] >= cfg.waves.min_score:
                status = "actioned"
                set_status(conn, inc["id"], status, ctx.now)
            elif status == "open" and inc["accounts"] >= cfg.waves.watch_min_accounts:
                set_status(conn, inc["id"], "watch")
                zh, en = both(
                    "moderation.watch_text",
                    incident=inc["id"],
                    groups=inc["groups"],
                    text=(inc["sample_text"] or "")[:200],
                )
                rz, re_ = both("moderation.reason.watch", incident=inc["id"], groups=inc["groups"])
                return [
                    Action(
                        kind=ActionKind.NOTIFY_STAFF,
                        platform=community.platform,
                        group_id=ctx.event.group_id,
                        text=zh + "\n" + en,
                        reason=Reason(zh=rz, en=re_, evidence={"incident_id": inc["id"]}),
                        source=WAVE_SOURCE,
                        idempotency_key=key("moderation.watch", inc["id"]),
                    )
                ]
            else:
                return []
        # actioned or confirmed: every copy deleted, every sender banned in every group, once
        codes = ", ".join((inc["reasons"] or [])[:5]) or "wave"
        rz, re_ = both(
            "moderation.reason.wave",
            incident=inc["id"],
            groups=inc["groups"],
            accounts=inc["accounts"],
            codes=codes,
        )
        evidence = {
            "incident_id": inc["id"],
            "groups": inc["groups"],
            "accounts": inc["accounts"],
            "messages": inc["messages"],
            "score": round(float(inc["score"]), 4),
            "rules": list(inc["reasons"] or []),
            "matched": (inc["sample_text"] or "")[:200],
        }
        reason = Reason(zh=rz, en=re_, evidence=evidence)
        dz, de = both("moderation.reason.wave_delete", incident=inc["id"])
        wanted: list[Action] = []
        for copy in inc["copies"]:
            wanted.append(
                delete_action(
                    copy["platform"],
                    copy["group_id"],
                    copy["message_id"],
                    Reason(zh=dz, en=de, evidence=evidence),
                    WAVE_SOURCE,
                )
            )
        for user in inc["senders"]:
            for g in community.groups:
                wanted.append(
                    Action(
                        kind=ActionKind.BAN,
                        platform=community.platform,
                        group_id=g,
                        user_id=user,
                        reason=reason,
                        source=WAVE_SOURCE,
                        idempotency_key=key("moderation.wave.ban", inc["id"], community.platform, g, user),
                    )
                )
        # not yet queued, and not produced earlier in this batch (the outbox is written per batch)
        review_id = self._incident_review(conn, ctx, community, inc)
        r = tbl(ReviewRow)
        produced = conn.execute(select(r.c.actions).where(r.c.id == review_id)).scalar() or []
        done = {a.get("idempotency_key") for a in produced}
        fresh = [a for a in _not_queued(conn, wanted) if a.idempotency_key not in done]
        if not fresh:
            return []
        cause = ":".join(ctx.event.key)
        fresh = [_with_cause(a, cause) for a in fresh]
        set_actions(conn, review_id, fresh, append=True)
        new_senders = {a.user_id for a in fresh if a.kind is ActionKind.BAN}
        for user in new_senders:
            if user is None:
                continue
            record_strike(
                conn,
                platform=community.platform,
                community=community.key,
                user_id=user,
                group_id=ctx.event.group_id,
                time=ctx.event.time,
                step=len(cfg.ladder.steps) - 1,
                source=WAVE_SOURCE,
                incident_id=inc["id"],
                weight=float(len(cfg.ladder.steps)),
            )
        return fresh

    def _incident_review(self, conn: Connection, ctx: Context, community: Community, inc: dict[str, Any]) -> int:

        r = tbl(ReviewRow)
        found = conn.execute(select(r.c.id).where(r.c.incident_id == inc["id"])).scalar()
        if found is not None:
            return int(found)
        first = inc["copies"][0] if inc["copies"] else {}
        return create_review(
            conn,
            created_at=ctx.now,
            kind="incident",
            platform=community.platform,
            community=community.key,
            group_id=first.get("group_id"),
            user_id=first.get("user_id"),
            user_name=None,
            message_id=first.get("message_id"),
            text=inc["sample_text"],
            score=float(inc["score"]),
            model_score=None,
            reasons=list(inc["reasons"] or []),
            evidence={"incident_id": inc["id"], "groups": inc["groups"], "accounts": inc["accounts"]},
            step="wave",
            incident_id=inc["id"],
            dry_run=ctx.dry_run,
        )


def member_row(conn: Connection, platform: str, group_id: str, user_id: str) -> Any:
    """What the policy needs of one member (message count, admin flag, join time), or None."""
    m = tbl(MemberRow)
    return conn.execute(
        select(m.c.messages, m.c.is_admin, m.c.joined_at).where(
            m.c.platform == platform, m.c.group_id == group_id, m.c.user_id == user_id
        )
    ).first()


def members_admin(settings: Settings, ev: Event) -> bool:
    """Admins listed in ``[features.members] admins`` (``platform:user`` or ``platform:group:user``)."""
    admins = settings.features.get("members", {}).get("admins") or []
    return f"{ev.platform}:{ev.user_id}" in admins or f"{ev.platform}:{ev.group_id}:{ev.user_id}" in admins


#: finding codes that are evidence by themselves (vocabulary alone is not)
HARD_CODES = ("contact:", "invite:", "qr:", "url:deny", "url:shortener", "flood:", "mention:mass", "memory:spam")


def hard_evidence(verdict: Verdict) -> bool:
    """A contact handle, invite, QR code, denied/shortened link, flood or a strong keyword."""
    from .keywords import STRONG

    return any(
        f.code.startswith(HARD_CODES) or (f.code.startswith("keyword:") and f.weight >= STRONG)
        for f in verdict.findings
    )


def _established(cfg: ModerationSettings, member: Any) -> bool:
    return bool(cfg.established_messages) and member is not None and member.messages >= cfg.established_messages


def _evidence(verdict: Verdict, newcomer: bool) -> dict[str, Any]:
    return {
        "rules": list(verdict.reasons),
        "score": round(verdict.score, 4),
        "model_score": None if verdict.model_score is None else round(verdict.model_score, 4),
        "matched": [f.evidence for f in verdict.findings if f.evidence][:10],
        "newcomer": newcomer,
    }


def _with_cause(action: Action, cause: str) -> Action:
    """Set the cause now (the engine would too) while keeping an explicit idempotency key."""
    if action.cause is not None:
        return action
    was_default = action.idempotency_key == action.default_key()
    out = action.model_copy(update={"cause": cause})
    if was_default:
        out.idempotency_key = out.default_key()
    return out


def _not_queued(conn: Connection, actions: Sequence[Action]) -> list[Action]:
    """The actions whose idempotency key is not in the outbox yet (and not repeated in the list)."""
    if not actions:
        return []
    ob = tbl(OutboxRow)
    keys = [a.idempotency_key for a in actions]
    queued = {k for (k,) in conn.execute(select(ob.c.idempotency_key).where(ob.c.idempotency_key.in_(keys)))}
    out, seen = [], set()
    for a in actions:
        if a.idempotency_key in queued or a.idempotency_key in seen:
            continue
        seen.add(a.idempotency_key)
        out.append(a)
    return out


def retrain_job(app: Any) -> bool:
    """Retrain the model when operators gave new feedback since the last run (kv cursor)."""
    from sqlalchemy import func

    from qunyun.events import utcnow
    from qunyun.store.tables import KeyValueRow

    from .review import retrain_from_store
    from .tables import FeedbackRow

    kv = tbl(KeyValueRow)
    with app.db.engine.connect() as conn:
        last = conn.execute(select(func.max(tbl(FeedbackRow).c.id))).scalar() or 0
        row = conn.execute(select(kv.c.value).where(kv.c.key == "moderation.retrain")).scalar()
    if last <= int((row or {}).get("feedback_id", 0)):
        return False
    retrain_from_store(app.db)
    with app.db.engine.begin() as conn:
        value = {"feedback_id": last, "at": utcnow().isoformat()}
        if conn.execute(select(kv.c.key).where(kv.c.key == "moderation.retrain")).first():
            conn.execute(kv.update().where(kv.c.key == "moderation.retrain").values(value=value, updated_at=utcnow()))
        else:
            conn.execute(kv.insert().values(key="moderation.retrain", value=value, updated_at=utcnow()))
    return True


def _message_review(
    conn: Connection, ctx: Context, community: Community, verdict: Verdict, evidence: dict[str, Any], **extra: Any
) -> int:
    """The review-queue entry for the message of ``ctx`` (flagged, or acted on by the ladder)."""
    ev = ctx.event
    return create_review(
        conn,
        created_at=ctx.now,
        kind="message",
        platform=ev.platform,
        community=community.key,
        group_id=ev.group_id,
        user_id=ev.user_id,
        user_name=ev.user_name,
        message_id=ev.message_id,
        text=ev.plain_text(),
        score=verdict.score,
        model_score=verdict.model_score,
        reasons=list(verdict.reasons),
        evidence=evidence,
        dry_run=ctx.dry_run,
        **extra,
    )


def _wave_item(ev: Event, community: str, text: str, score: float, reasons: Sequence[str]) -> WaveItem:
    """What the wave tracker needs of one scored message (batch and single-message paths alike)."""
    return WaveItem(ev.platform, community, ev.group_id, ev.message_id, ev.user_id, ev.time, text, score, reasons)
