"""The members plugin: rollup projection, score/role enricher, CLI, pages, API and the board-post job."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from qunyun.engine.plugins import Registry, lazy_router
from qunyun.events import Event, utcnow
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.rollup import project
from qunyun.store.queries import GroupRef

if TYPE_CHECKING:
    from qunyun.features.members.roles import Insight

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"


def members_config(settings: Any) -> MembersConfig:
    """The validated ``[features.members]`` section (defaults when there are no settings)."""
    if settings is None:
        return MembersConfig()
    cfg: MembersConfig = settings.feature("members", MembersConfig)
    return cfg


def enrich_rows(
    conn: Connection,
    ref: GroupRef | None,
    rows: list[dict[str, Any]],
    cfg: MembersConfig,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Add score, role, reason (zh-CN), reason_en and evidence to member rows."""
    from qunyun.features.members.roles import compute_insights

    by_group: dict[GroupRef, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = ref if ref is not None else GroupRef(row["platform"], row["group_id"])
        by_group[key].append(row)
    for group, members in by_group.items():
        try:
            insights, _meta = compute_insights(conn, group, members, cfg, now=now)
        except Exception:  # a listing must never fail because of the analysis: degrade, loudly
            log.exception("members: scores/roles failed for %s; falling back to message counts", group)
            insights = {m["user_id"]: fallback_insight(m, now) for m in members}
        for row in members:
            ins = insights[row["user_id"]]
            row["score"] = ins.score
            row["role"] = ins.role
            row["reason"] = ins.reason_zh
            row["reason_en"] = ins.reason_en
            row["evidence"] = ins.evidence
    return rows


def fallback_insight(m: dict[str, Any], now: datetime | None) -> Insight:
    """Role from the members row alone (no rollup): used only if the real analysis failed."""
    from qunyun.features.members.roles import Insight
    from qunyun.i18n import both

    when = now or utcnow()
    first = m.get("first_seen")
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    tenure = (when - first).days if first else 0
    msgs = int(m.get("messages") or 0)
    if m.get("is_admin"):
        role = "admin"
    elif tenure < 7:
        role = "newcomer"
    elif msgs <= 2 and tenure >= 14:
        role = "lurker"
    else:
        role = "regular"
    zh, en = both("members.reason.fallback", role=role, messages=msgs, days=tenure)
    return Insight(
        user_id=m["user_id"],
        score=0.0,
        role=role,
        reason_zh=zh,
        reason_en=en,
        evidence={"fallback": True, "messages": msgs, "tenure_days": tenure},
    )


class MembersPlugin:
    name = "members"

    def setup(self, registry: Registry) -> None:
        self.registry = registry
        registry.add_projection(project, name="members.rollup")
        registry.add_projection(self.intros, name="members.intros")
        registry.add_member_enricher(self.enrich)
        registry.add_job("members.leaderboard_posts", self.post_boards_job, interval_seconds=300)
        registry.add_job("members.refresh_scores", self.refresh_job, interval_seconds=300)
        from qunyun.features.members.cli import app as cli_app
        from qunyun.features.members.cli import leaderboard_command
        from qunyun.features.members.profile_cli import app as profile_app

        registry.add_cli(cli_app, "scores", help="Activity scores, roles and the daily rollup.")
        registry.add_cli(profile_app, "profile", help="Member profiles (用户画像): identities, tags, notes.")
        registry.add_cli_command("leaderboard", leaderboard_command)
        registry.add_template_dir(TEMPLATES)
        registry.add_nav("nav.leaderboard", "/leaderboard", order=35)
        # routers are imported when the web app is built, not on every CLI start
        registry.add_web_router(lazy_router("qunyun.features.members.web"))
        registry.add_api_router(lazy_router("qunyun.features.members.api"))

    def config(self) -> MembersConfig:
        return members_config(getattr(self.registry, "settings", None))

    def intros(self, conn: Connection, events: Sequence[Event]) -> None:
        """Fill newcomers' profiles from their self-introductions (地区/行业/需求)."""
        from qunyun.features.members.profiles import detect_intros

        detect_intros(conn, events, self.config().intro_days)

    def enrich(
        self, conn: Connection, ref: GroupRef | None, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return enrich_rows(conn, ref, rows, self.config())

    def refresh_job(self, app: Any) -> int:
        """Keep scores fresh in the background so listings rarely have to refresh them."""
        from qunyun.features.members.scores import needs_refresh, refresh_scores

        cfg = members_config(app.settings)
        with app.db.engine.begin() as conn:
            return refresh_scores(conn, cfg) if needs_refresh(conn, cfg) else 0

    def post_boards_job(self, app: Any) -> int:
        """Queue due leaderboard posts (``[[features.members.leaderboard_posts]]``); returns how many."""
        from qunyun.features.members.schedule import post_due_boards

        return post_due_boards(app.db, members_config(app.settings), dry_run=app.settings.engine.dry_run)
