"""The one way every face decides reviews (复核判定): the CLI, the REST API and the dashboard.

:func:`.review.decide` needs the reviewer, the review and ladder settings, dry-run and the time;
this module takes them from the app, so the three faces cannot drift apart. It imports neither
FastAPI nor Typer (the CLI loads it without the web stack), and :mod:`.review` stays free of the
settings (``scope`` imports ``review``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qunyun.events import utcnow

from . import scope as sc
from .review import DecisionResult, ReviewError, decide, decide_many

if TYPE_CHECKING:
    from qunyun.app import QunyunApp


def moderation_settings(qapp: QunyunApp) -> sc.ModerationSettings:
    """The validated ``[features.moderation]`` section of the app's settings."""
    return qapp.settings.feature("moderation", sc.ModerationSettings)  # type: ignore[no-any-return]


def decision_kwargs(qapp: QunyunApp, actor: str) -> dict[str, Any]:
    """What :func:`.review.decide` needs besides the review and the verdict."""
    cfg = moderation_settings(qapp)
    return {
        "actor": actor,
        "cfg": cfg.review,
        "dry_run": qapp.settings.engine.dry_run,
        "now": utcnow(),
        "ladder": cfg.ladder,
    }


def apply_decision(qapp: QunyunApp, review_id: int, decision: str, actor: str) -> DecisionResult:
    """Decide one review (raises :class:`.review.ReviewError`)."""
    return decide(qapp.db, review_id, decision, **decision_kwargs(qapp, actor))


def apply_decisions(
    qapp: QunyunApp, review_ids: list[int], decision: str, actor: str
) -> tuple[list[DecisionResult], list[tuple[int, ReviewError]]]:
    """Several reviews, each as :func:`apply_decision` (one already decided does not stop the rest)."""
    return decide_many(qapp.db, review_ids, decision, **decision_kwargs(qapp, actor))
