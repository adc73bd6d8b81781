"""Cross-group waves (跨群刷屏): near-same text in ``k`` or more groups within ``T`` minutes.

Each eligible message gets a MinHash signature (datasketch) over character shingles of its
normalized, compacted text, so ``加 V 信 abc`` and ``加v信abc!!`` are the same text. The signature is
cut into LSH bands; messages sharing a band in the window are candidates, and the signatures'
agreement estimates their Jaccard similarity. Signatures and bands live in the store
(``moderation_wave_entries`` / ``moderation_wave_bands``), so a restart loses nothing, and are
pruned past the window and capped in number, so the state stays bounded.

When the near-same text has been seen in ``min_groups`` distinct groups of one community, the
messages become ONE incident (``moderation_incidents`` with its messages and members); later
copies join it. The plugin then deletes every copy and bans every sender once, everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from datasketch import MinHash
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, delete, func, select, update

from .normalize import compact, normalize
from .tables import IncidentMemberRow, IncidentMessageRow, IncidentRow, WaveBandRow, WaveEntryRow, tbl

SOURCE = "moderation.wave"


class WaveConfig(BaseModel):
    """``[features.moderation.waves]``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: distinct groups of one community the near-same text must reach (k)
    min_groups: int = Field(default=3, ge=2)
    #: ... within this many minutes (T)
    window_minutes: float = Field(default=30.0, gt=0, le=7 * 24 * 60)
    #: estimated Jaccard similarity of the shingle sets for "near-same"
    similarity: float = Field(default=0.7, gt=0, le=1)
    #: shorter texts (after compaction) are never tracked: "好的" in ten groups is no wave
    min_chars: int = Field(default=12, ge=4)
    shingle: int = Field(default=3, ge=1, le=8)
    num_perm: int = Field(default=64, ge=16, le=256)
    bands: int = Field(default=16, ge=2)
    #: a wave is acted on when its most suspicious copy scores at least this; below it the
    #: incident is only watched and staff are notified (a popular link shared honestly)
    min_score: float = Field(default=0.5, ge=0, le=1)
    #: a low-scoring wave is watched (staff notified) only when this many accounts post it; one
    #: member cross-posting an honest question to several groups is left alone
    watch_min_accounts: int = Field(default=2, ge=1)
    #: ... and when its most suspicious copy scores at least this (ordinary chat scores ~0.02-0.12)
    watch_min_score: float = Field(default=0.2, ge=0, le=1)
    #: most stored entries compared with one message (those sharing the most LSH bands)
    max_candidates: int = Field(default=200, ge=10, le=10_000)
    #: most entries kept per store (oldest dropped first), whatever the window
    max_entries: int = Field(default=50_000, ge=100)
    #: characters of the text kept with each entry (for the incident page)
    keep_chars: int = Field(default=500, ge=0)

    @model_validator(mode="after")
    def _check(self) -> WaveConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        return self


@dataclass(slots=True)
class WaveResult:
    """What observing one message found."""

    entry_id: int
    #: the incident this message belongs to (None: not (yet) a wave)
    incident: dict[str, Any] | None = None
    #: True when this message made the wave reach ``min_groups``
    new_incident: bool = False
    #: True when the sender was not yet linked to the incident
    new_member: bool = False
    similar: list[int] = field(default_factory=list)


class WaveTracker:
    """Signatures and incident bookkeeping; one per process, the state itself is in the store."""

    def __init__(self, config: WaveConfig | None = None, *, seed: int = 7) -> None:
        self.config = config or WaveConfig()
        self.seed = seed
        self._template = MinHash(num_perm=self.config.num_perm, seed=seed)
        self._observed = 0

    # -- signatures ----------------------------------------------------------------------------
    def shingles(self, text: str) -> list[bytes] | None:
        """Character shingles of the compacted text, or None when the text is too short to track."""
        comp = compact(normalize(text or ""))
        if len(comp) < self.config.min_chars:
            return None
        k = self.config.shingle
        return list({comp[i : i + k].encode() for i in range(len(comp) - k + 1)})

    def signature(self, text: str) -> np.ndarray | None:
        sh = self.shingles(text)
        if sh is None:
            return None
        mh = MinHash(
            num_perm=self.config.num_perm,
            seed=self.seed,
            permutations=self._template.permutations,
            scheme=self._template.scheme,
        )
        mh.update_batch(sh)
        return np.asarray(mh.hashvalues, dtype=np.uint64)

    def band_keys(self, sig: np.ndarray, platform: str, community: str) -> list[str]:
        rows = self.config.num_perm // self.config.bands
        out = []
        for b in range(self.config.bands):
            chunk = sig[b * rows : (b + 1) * rows].tobytes()
            out.append(hashlib.sha1(f"{platform}|{community}|{b}|".encode() + chunk).hexdigest()[:32])
        return out

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """MinHash estimate of the Jaccard similarity of two signatures."""
        return float(np.count_nonzero(a == b)) / float(len(a))

    # -- the store -----------------------------------------------------------------------------
    def observe(
        self,
        conn: Connection,
        *,
        platform: str,
        community: str,
        group_id: str,
        message_id: str,
        user_id: str,
        time: datetime,
        text: str,
        score: float,
        reasons: Sequence[str] = (),
        dry_run: bool = False,
    ) -> WaveResult | None:
        """Record one message; link it to (or open) an incident when it completes a wave."""
        cfg = self.config
        sig = self.signature(text)
        if sig is None:
            return None
        bands = self.band_keys(sig, platform, community)
        cutoff = time - timedelta(minutes=cfg.window_minutes)
        e, b = tbl(WaveEntryRow), tbl(WaveBandRow)
        # the entries sharing the most bands first; a template everybody posts cannot flood us
        shared = (
            select(b.c.entry_id, func.count().label("n"))
            .where(b.c.band.in_(bands), b.c.time >= cutoff)
            .group_by(b.c.entry_id)
            .order_by(func.count().desc())
            .limit(cfg.max_candidates)
            .subquery()
        )
        candidates = conn.execute(
            select(
                e.c.id, e.c.group_id, e.c.user_id, e.c.message_id, e.c.time, e.c.signature, e.c.score, e.c.incident_id
            )
            .join(shared, shared.c.entry_id == e.c.id)
            .where(e.c.time >= cutoff, e.c.platform == platform, e.c.community == community)
        ).all()
        similar = []
        if candidates:
            sigs = np.frombuffer(b"".join(r.signature for r in candidates), dtype=np.uint64)
            agree = (sigs.reshape(len(candidates), -1) == sig).mean(axis=1)
            similar = [
                r
                for r, a in zip(candidates, agree, strict=True)
                if a >= cfg.similarity and (r.message_id != message_id or r.group_id != group_id)
            ]
        entry_id = int(
            conn.execute(
                e.insert().values(
                    platform=platform,
                    community=community,
                    group_id=group_id,
                    message_id=message_id,
                    user_id=user_id,
                    time=time,
                    signature=sig.tobytes(),
                    score=score,
                    text=(text or "")[: cfg.keep_chars],
                    incident_id=None,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        conn.execute(b.insert(), [{"entry_id": entry_id, "band": k, "time": time} for k in bands])
        self._maybe_prune(conn, time)
        result = WaveResult(entry_id, similar=[r.id for r in similar])

        linked = sorted({r.incident_id for r in similar if r.incident_id is not None})
        if linked:
            incident_id = linked[0]
            rows = [
                (r.id, r.group_id, r.message_id, r.user_id, r.time, r.score) for r in similar if r.incident_id is None
            ]
            rows.append((entry_id, group_id, message_id, user_id, time, score))
            result.new_member = self._link(conn, incident_id, rows)
            self._refresh(conn, incident_id, time, score, reasons)
            result.incident = self.incident(conn, incident_id)
            return result
        groups = {r.group_id for r in similar} | {group_id}
        if len(groups) < cfg.min_groups:
            return result
        accounts = {r.user_id for r in similar} | {user_id}
        top = max([score, *(r.score for r in similar)])
        if top < cfg.min_score and (len(accounts) < cfg.watch_min_accounts or top < cfg.watch_min_score):
            return result  # honest cross-posting or templated chat ("收到", 打卡): not a wave (yet)
        first = min([r.time for r in similar] + [time])
        i = tbl(IncidentRow)
        incident_id = int(
            conn.execute(
                i.insert().values(
                    platform=platform,
                    community=community,
                    status="open",
                    sample_text=(text or "")[:2000],
                    groups=0,
                    messages=0,
                    accounts=0,
                    score=score,
                    reasons=list(reasons),
                    first_seen=first,
                    last_seen=time,
                    actioned_at=None,
                    dry_run=dry_run,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        members = [(r.id, r.group_id, r.message_id, r.user_id, r.time, r.score) for r in similar]
        members.append((entry_id, group_id, message_id, user_id, time, score))
        self._link(conn, incident_id, members)
        self._refresh(conn, incident_id, time, max([score, *(r.score for r in similar)]), reasons)
        result.incident = self.incident(conn, incident_id)
        result.new_incident = True
        result.new_member = True
        return result

    def _link(self, conn: Connection, incident_id: int, rows: Sequence[tuple[Any, ...]]) -> bool:
        """Attach entries (and their messages and senders) to an incident; True if a sender is new."""
        e = tbl(WaveEntryRow)
        msg, mem = tbl(IncidentMessageRow), tbl(IncidentMemberRow)
        conn.execute(update(e).where(e.c.id.in_([r[0] for r in rows])).values(incident_id=incident_id))
        platform = conn.execute(select(IncidentRow.platform).where(IncidentRow.id == incident_id)).scalar_one()
        new_member = False
        have_msgs = {
            (g, m)
            for g, m in conn.execute(select(msg.c.group_id, msg.c.message_id).where(msg.c.incident_id == incident_id))
        }
        have_users = {u for (u,) in conn.execute(select(mem.c.user_id).where(mem.c.incident_id == incident_id))}
        for _eid, group_id, message_id, user_id, time, score in rows:
            if (group_id, message_id) not in have_msgs:
                conn.execute(
                    msg.insert().values(
                        incident_id=incident_id,
                        platform=platform,
                        group_id=group_id,
                        message_id=message_id,
                        user_id=user_id,
                        time=time,
                        score=score,
                    )
                )
                have_msgs.add((group_id, message_id))
            if user_id not in have_users:
                conn.execute(mem.insert().values(incident_id=incident_id, platform=platform, user_id=user_id))
                have_users.add(user_id)
                new_member = True
        return new_member

    def _refresh(
        self, conn: Connection, incident_id: int, time: datetime, score: float, reasons: Sequence[str]
    ) -> None:
        i, msg, mem = tbl(IncidentRow), tbl(IncidentMessageRow), tbl(IncidentMemberRow)
        row = conn.execute(select(i.c.score, i.c.reasons, i.c.last_seen).where(i.c.id == incident_id)).one()
        merged = list(dict.fromkeys([*(row.reasons or []), *reasons]))[:20]
        conn.execute(
            update(i)
            .where(i.c.id == incident_id)
            .values(
                groups=select(func.count(func.distinct(msg.c.group_id)))
                .where(msg.c.incident_id == incident_id)
                .scalar_subquery(),
                messages=select(func.count())
                .select_from(msg)
                .where(msg.c.incident_id == incident_id)
                .scalar_subquery(),
                accounts=select(func.count())
                .select_from(mem)
                .where(mem.c.incident_id == incident_id)
                .scalar_subquery(),
                score=max(row.score or 0.0, score),
                reasons=merged,
                last_seen=max(row.last_seen, time),
            )
        )

    @staticmethod
    def incident(conn: Connection, incident_id: int) -> dict[str, Any]:
        """The incident with its copies and senders."""
        i, msg, mem = tbl(IncidentRow), tbl(IncidentMessageRow), tbl(IncidentMemberRow)
        row = dict(conn.execute(select(i).where(i.c.id == incident_id)).one()._mapping)
        row["copies"] = [
            dict(r._mapping)
            for r in conn.execute(select(msg).where(msg.c.incident_id == incident_id).order_by(msg.c.time, msg.c.id))
        ]
        row["senders"] = [r[0] for r in conn.execute(select(mem.c.user_id).where(mem.c.incident_id == incident_id))]
        return row

    def _maybe_prune(self, conn: Connection, now: datetime) -> None:
        """Every 200 observations: drop entries past twice the window, then keep at most max_entries."""
        self._observed += 1
        if self._observed % 200:
            return
        prune(conn, now - timedelta(minutes=2 * self.config.window_minutes), self.config.max_entries)


def prune(conn: Connection, before: datetime, max_entries: int) -> int:
    """Delete wave entries (and their bands) older than ``before`` or beyond the newest ``max_entries``."""
    e, b = tbl(WaveEntryRow), tbl(WaveBandRow)
    old = select(e.c.id).where(e.c.time < before)
    conn.execute(delete(b).where(b.c.entry_id.in_(old)))
    removed = conn.execute(delete(e).where(e.c.time < before)).rowcount or 0
    total = conn.execute(select(func.count()).select_from(e)).scalar_one()
    if total > max_entries:
        edge = conn.execute(select(e.c.id).order_by(e.c.id.desc()).offset(max_entries).limit(1)).scalar_one_or_none()
        if edge is not None:
            conn.execute(delete(b).where(b.c.entry_id <= edge))
            removed += conn.execute(delete(e).where(e.c.id <= edge)).rowcount or 0
    return int(removed)


def list_incidents(
    conn: Connection, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    i = tbl(IncidentRow)
    conds = [i.c.status == status] if status else []
    total = conn.execute(select(func.count()).select_from(i).where(*conds)).scalar_one()
    rows = conn.execute(select(i).where(*conds).order_by(i.c.id.desc()).offset(offset).limit(limit))
    return int(total), [dict(r._mapping) for r in rows]


def set_status(conn: Connection, incident_id: int, status: str, when: datetime | None = None) -> None:
    values: dict[str, Any] = {"status": status}
    if when is not None:
        values["actioned_at"] = when
    conn.execute(update(tbl(IncidentRow)).where(tbl(IncidentRow).c.id == incident_id).values(**values))
