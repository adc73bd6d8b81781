"""Cross-group waves (跨群刷屏): near-same text in ``k`` or more groups within ``T`` minutes.

Each eligible message gets a MinHash signature (datasketch's scheme, computed for a whole batch in
one numpy pass) over character shingles of its normalized, compacted text, so ``加 V 信 abc`` and
``加v信abc!!`` are the same text. Signatures are cut into LSH bands; messages sharing a band in the
window are candidates, and the signatures' agreement estimates their Jaccard similarity.

The store (``moderation_wave_entries``) is the durable copy: every tracked message is one row,
written in one multi-row INSERT per batch, so a restart loses nothing. Candidates are found in an
in-memory band index warmed from the store on first use, topped up once per batch with rows other
processes wrote, and pruned with the store (past twice the window, at most ``max_entries``), so
memory stays bounded. The index only proposes: a message whose near-same copies could make or join
a wave re-reads them from the store before they count; the rest (most chat) never touch the store
again. (``moderation_wave_bands`` is no longer written — band keys are recomputed from the stored
signatures — and is only pruned.)

Ham is tracked too: copies are scored one by one (newcomer boost, flood, per-group rules), so a
copy that scored as chat still counts toward ``min_groups`` when a later copy is suspicious.

When the near-same text has been seen in ``min_groups`` distinct groups of one community, the
messages become ONE incident (``moderation_incidents`` with its messages and members); later
copies join it. The plugin then deletes every copy and bans every sender once, everywhere.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, delete, func, select, update

from .normalize import SEP, compact, normalize, normalize_batch
from .tables import IncidentMemberRow, IncidentMessageRow, IncidentRow, WaveBandRow, WaveEntryRow, tbl

SOURCE = "moderation.wave"
#: the store (and the in-memory index) are pruned once per this many tracked messages
PRUNE_EVERY = 200
#: shingle hashes remembered (about 100 bytes each), cleared when full
HASH_CACHE = 200_000


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, datasketch's pre-mix for its ``affine32`` permutations."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


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


@dataclass(slots=True)
class WaveItem:
    """One message offered to the tracker; :meth:`WaveTracker.prepare` fills the last three fields."""

    platform: str
    community: str
    group_id: str
    message_id: str
    user_id: str
    time: datetime
    text: str
    score: float
    reasons: Sequence[str] = ()
    #: the stored entry (None: too short to track)
    entry_id: int | None = None
    #: entries the in-memory index found near-same (verified against the store by ``resolve``)
    similar: list[int] = field(default_factory=list)
    sig: np.ndarray | None = None


def _ts(value: datetime) -> float:
    """Seconds since the epoch; a naive datetime is UTC (how SQLite may hand stored times back)."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()


@dataclass(slots=True)
class _Mem:
    ts: float
    group_id: str
    message_id: str
    user_id: str
    score: float
    incident_id: int | None
    sig: np.ndarray
    keys: list[int]


class _Index:
    """The store's recent wave entries in memory: LSH band keys → entry ids.

    Only a candidate generator: whatever it proposes is re-read from the store (the durable copy,
    and the authority on links and scores) before it counts. Warmed from the store on first use,
    topped up with entries other processes wrote (``id > max_id``) once per batch, pruned like the
    store, so it stays bounded by ``max_entries``.
    """

    def __init__(self) -> None:
        self.entries: dict[int, _Mem] = {}
        self.bands: dict[tuple[str, str], dict[int, list[int]]] = {}
        self.spaces: dict[int, tuple[str, str]] = {}
        self.max_id = 0
        self.dead = 0
        self.bound: tuple[int, str] | None = None

    def reset(self) -> None:
        self.entries.clear()
        self.bands.clear()
        self.spaces.clear()
        self.max_id = self.dead = 0

    def add(self, entry_id: int, space: tuple[str, str], mem: _Mem) -> None:
        old = self.entries.get(entry_id)
        if old is not None:
            if old.keys == mem.keys and self.spaces.get(entry_id) == space:  # read twice: keep one
                self.entries[entry_id] = mem
                return
            self.dead += 1  # an id reused after a rollback: its old band keys are dead
        self.entries[entry_id] = mem
        self.spaces[entry_id] = space
        bands = self.bands.setdefault(space, {})
        for k in mem.keys:
            lst = bands.get(k)
            if lst is None:
                bands[k] = [entry_id]
            else:
                lst.append(entry_id)
        if entry_id > self.max_id:
            self.max_id = entry_id

    def lookup(self, space: tuple[str, str], keys: list[int], cutoff: float, limit: int) -> list[tuple[int, _Mem]]:
        """Live entries sharing a band, in the window, those sharing the most bands first."""
        bands = self.bands.get(space)
        if not bands:
            return []
        counts: dict[int, int] = {}
        for k in keys:
            for eid in bands.get(k, ()):
                counts[eid] = counts.get(eid, 0) + 1
        if not counts:
            return []
        entries, spaces = self.entries, self.spaces
        found = []
        for eid, n in counts.items():
            mem = entries.get(eid)
            if mem is not None and mem.ts >= cutoff and spaces[eid] == space:
                found.append((n, eid, mem))
        if len(found) > limit:
            found.sort(key=lambda t: -t[0])
            found = found[:limit]
        return [(eid, mem) for _, eid, mem in found]

    def prune(self, before: float, max_entries: int) -> None:
        drop = [eid for eid, m in self.entries.items() if m.ts < before]
        excess = len(self.entries) - len(drop) - max_entries
        if excess > 0:
            keep = sorted(set(self.entries) - set(drop))
            drop.extend(keep[:excess])
        for eid in drop:
            del self.entries[eid]
            del self.spaces[eid]
        self.dead += len(drop)
        if self.dead > max(1000, len(self.entries)):  # band lists hold too many dead ids: rebuild
            entries, spaces = list(self.entries.items()), dict(self.spaces)
            max_id = self.max_id
            self.reset()
            for eid, mem in entries:
                self.add(eid, spaces[eid], mem)
            self.max_id = max(self.max_id, max_id)


class WaveTracker:
    """Signatures and incident bookkeeping; one per process, the durable state is in the store.

    The hot path is :meth:`prepare` (a whole batch: signatures in one vectorized pass, one query
    for entries other processes wrote, one bulk insert, near-duplicates found in memory) followed
    by :meth:`resolve` per message, which touches the store only for a message that has
    near-same copies. :meth:`observe` is both for one message.
    """

    def __init__(self, config: WaveConfig | None = None, *, seed: int = 7) -> None:
        self.config = config or WaveConfig()
        self.seed = seed
        self._template_mh: Any = None
        self._observed = 0
        #: store prunes decided in memory, run at the next batch (cutoff, newest entry id then)
        self._pending: list[tuple[datetime, int]] = []
        self._index = _Index()
        #: guards the in-memory index when engines on several threads share this tracker
        self._lock = threading.Lock()
        self._hashes: dict[str, int] = {}
        rows = self.config.num_perm // self.config.bands
        # per-band mixing weights for the in-memory band keys (any fixed odd numbers will do)
        rng = np.random.RandomState(seed)
        self._mix = (rng.randint(1, 1 << 62, size=rows, dtype=np.int64).astype(np.uint64) << np.uint64(1)) | np.uint64(
            1
        )

    # -- signatures ----------------------------------------------------------------------------
    @property
    def _template(self) -> Any:
        """datasketch's MinHash with our seed: its permutations are the signature's definition.

        Built (and datasketch, which pulls in scipy, imported) on first use only: most CLI
        commands never compute a signature and start ~0.6 s faster for it.
        """
        if self._template_mh is None:
            from datasketch import MinHash

            self._template_mh = MinHash(num_perm=self.config.num_perm, seed=self.seed)
        return self._template_mh

    def shingles(self, text: str) -> list[bytes] | None:
        """Character shingles of the compacted text, or None when the text is too short to track."""
        return self._shingles(compact(normalize(text or "")))

    def _shingles(self, comp: str) -> list[bytes] | None:
        if len(comp) < self.config.min_chars:
            return None
        k = self.config.shingle
        return list({comp[i : i + k].encode() for i in range(len(comp) - k + 1)})

    def signature(self, text: str) -> np.ndarray | None:
        sh = self.shingles(text)
        if sh is None:
            return None
        from datasketch import MinHash

        mh = MinHash(
            num_perm=self.config.num_perm,
            seed=self.seed,
            permutations=self._template.permutations,
            scheme=self._template.scheme,
        )
        mh.update_batch(sh)
        return np.asarray(mh.hashvalues, dtype=np.uint64)

    def signatures(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """:meth:`signature` of many texts at once: one normalization pass, one numpy pass.

        Equal to :meth:`signature` value for value (a test holds it to that): datasketch's
        ``affine32`` scheme, ``min(fmix32(sha1_32(shingle)) * a + b mod 2^32)`` per permutation,
        computed for every shingle of the batch in one matrix instead of one MinHash per text.
        """
        if not texts:
            return []
        if self._template.scheme != "affine32":  # pragma: no cover - another datasketch default
            return [self.signature(t) for t in texts]
        _, joined = normalize_batch([t or "" for t in texts])
        hashfunc = self._template.hashfunc
        hashes: list[int] = []
        starts: list[int] = []
        tracked: list[int] = []
        cache = self._hashes
        if len(cache) > HASH_CACHE:
            cache.clear()
        k, min_chars = self.config.shingle, self.config.min_chars
        for i, comp in enumerate(joined.split(SEP)):
            if len(comp) < min_chars:
                continue
            tracked.append(i)
            starts.append(len(hashes))
            for s in {comp[j : j + k] for j in range(len(comp) - k + 1)}:
                h = cache.get(s)
                if h is None:  # chat reuses the same few thousand shingles: hash each once
                    h = cache[s] = hashfunc(s.encode())
                hashes.append(h)
        out: list[np.ndarray | None] = [None] * len(texts)
        if not tracked:
            return out
        a, b = self._template.permutations
        hv = _fmix32(np.asarray(hashes, dtype=np.uint32)).reshape(-1, 1)
        phv = hv * a + b  # uint32 arithmetic wraps: mod 2^32, as datasketch does
        mins = np.minimum.reduceat(phv, np.asarray(starts, dtype=np.intp), axis=0).astype(np.uint64)
        for row, i in enumerate(tracked):
            out[i] = mins[row]
        return out

    def band_keys(self, sig: np.ndarray, platform: str, community: str) -> list[str]:
        rows = self.config.num_perm // self.config.bands
        out = []
        for b in range(self.config.bands):
            chunk = sig[b * rows : (b + 1) * rows].tobytes()
            out.append(hashlib.sha1(f"{platform}|{community}|{b}|".encode() + chunk).hexdigest()[:32])
        return out

    def _memory_keys(self, sigs: np.ndarray) -> list[list[int]]:
        """In-memory band keys of many signatures (n × num_perm → n × bands ints)."""
        n = sigs.shape[0]
        cut = sigs.reshape(n, self.config.bands, -1)
        keys = (cut * self._mix).sum(axis=2, dtype=np.uint64)
        keys ^= np.arange(self.config.bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return keys.tolist()  # type: ignore[no-any-return]

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """MinHash estimate of the Jaccard similarity of two signatures."""
        return float(np.count_nonzero(a == b)) / float(len(a))

    # -- the in-memory index ---------------------------------------------------------------------
    def _sync(self, conn: Connection) -> None:
        """Warm the index from the store (first use, or another database), else read what others wrote."""
        idx = self._index
        bound = (id(conn.engine), conn.engine.url.render_as_string(hide_password=True))
        e = tbl(WaveEntryRow)
        cols = (
            e.c.id,
            e.c.platform,
            e.c.community,
            e.c.group_id,
            e.c.message_id,
            e.c.user_id,
            e.c.time,
            e.c.score,
            e.c.incident_id,
            e.c.signature,
        )
        with self._lock:
            warm = idx.bound != bound
            if warm:
                idx.reset()
                idx.bound = bound
            after = idx.max_id
        if warm:
            query = select(*cols).order_by(e.c.id.desc()).limit(self.config.max_entries)
            rows = list(reversed(conn.execute(query).all()))
        else:
            rows = list(conn.execute(select(*cols).where(e.c.id > after).order_by(e.c.id)))
        width = self.config.num_perm * 8
        rows = [r for r in rows if r.signature is not None and len(r.signature) == width]
        if not rows:
            return
        sigs = np.frombuffer(b"".join(r.signature for r in rows), dtype=np.uint64).reshape(len(rows), -1)
        with self._lock:
            for r, sig, keys in zip(rows, sigs, self._memory_keys(sigs), strict=True):
                score = float(r.score or 0.0)
                held = _Mem(_ts(r.time), r.group_id, r.message_id, r.user_id, score, r.incident_id, sig, keys)
                idx.add(int(r.id), (r.platform, r.community), held)

    # -- the store -----------------------------------------------------------------------------
    def prepare(self, conn: Connection, items: Sequence[WaveItem]) -> None:
        """Record a batch of messages (in order) and find each one's near-same predecessors.

        Every message long enough to track gets an entry, ham included: copies are scored one by
        one (newcomer boost, flood, per-group rules), so a copy that scored as chat still counts
        toward a wave's ``min_groups`` when a later copy is suspicious.
        """
        cfg = self.config
        pending, self._pending = self._pending, []
        for before_time, upto in pending:
            prune(conn, before_time, cfg.max_entries, upto=upto)
        self._sync(conn)
        sigs = self.signatures([it.text for it in items])
        tracked = [(it, sig) for it, sig in zip(items, sigs, strict=True) if sig is not None]
        if not tracked:
            return
        rows = [
            {
                "platform": it.platform,
                "community": it.community,
                "group_id": it.group_id,
                "message_id": it.message_id,
                "user_id": it.user_id,
                "time": it.time,
                "signature": sig.tobytes(),
                "score": it.score,
                "text": (it.text or "")[: cfg.keep_chars],
                "incident_id": None,
            }
            for it, sig in tracked
        ]
        ids = self._insert(conn, rows)
        idx = self._index
        matrix = np.stack([sig for _, sig in tracked])
        window = cfg.window_minutes * 60.0
        with self._lock:  # memory only under the lock, never a database call
            for entry_id in ids:  # an id the store hands out again (SQLite, after a rollback or reset)
                if idx.entries.pop(entry_id, None) is not None:
                    idx.spaces.pop(entry_id, None)
                    idx.dead += 1
            for (it, sig), entry_id, keys in zip(tracked, ids, self._memory_keys(matrix), strict=True):
                ts = _ts(it.time)
                space = (it.platform, it.community)
                found = idx.lookup(space, keys, ts - window, cfg.max_candidates)
                if found:
                    agree = (np.stack([m.sig for _, m in found]) == sig).mean(axis=1)
                    it.similar = [
                        eid
                        for (eid, m), a in zip(found, agree.tolist(), strict=True)
                        if a >= cfg.similarity and (m.message_id != it.message_id or m.group_id != it.group_id)
                    ]
                it.entry_id, it.sig = int(entry_id), sig
                held = _Mem(ts, it.group_id, it.message_id, it.user_id, it.score, None, sig, keys)
                idx.add(int(entry_id), space, held)
                self._observed += 1
                if self._observed % PRUNE_EVERY == 0:
                    # as often and as far as a message-at-a-time tracker would; the store follows at
                    # the next batch, so this batch's copies found before this point still count
                    idx.prune(ts - 2 * window, cfg.max_entries)
                    self._pending.append((it.time - timedelta(minutes=2 * cfg.window_minutes), int(entry_id)))

    @staticmethod
    def _insert(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert entries in bulk; their ids in row order.

        ``sort_by_parameter_order`` would make SQLAlchemy send one INSERT per row on SQLite (the
        table has no sentinel column), so the multi-row INSERT returns the message key with the
        id and the rows are matched by it (a batch holds each message once).
        """
        e = tbl(WaveEntryRow)
        keys = [(r["platform"], r["group_id"], r["message_id"]) for r in rows]
        if len(set(keys)) < len(keys):  # pragma: no cover - the same message twice in one call
            return list(conn.execute(e.insert().returning(e.c.id, sort_by_parameter_order=True), rows).scalars())
        got = conn.execute(e.insert().returning(e.c.id, e.c.platform, e.c.group_id, e.c.message_id), rows)
        by_key = {(p, g, m): int(i) for i, p, g, m in got}
        return [by_key[k] for k in keys]

    def needs_store(self, item: WaveItem) -> bool:
        """False when the near-same copies can neither join an incident nor open one (yet).

        Mirrors ``_conclude``'s early exits from memory, asked when the message is resolved (so
        links made earlier in the same batch count): scores never change once stored and links
        are made only by this tracker and mirrored in memory, so templated chat from many members
        costs no store round trip per message. A copy memory no longer holds sends it to the store.
        """
        if item.entry_id is None or not item.similar:
            return False
        entries = self._index.entries
        with self._lock:
            similar = [entries.get(eid) for eid in item.similar]
        if any(m is None or m.incident_id is not None for m in similar):
            return True
        cfg = self.config
        held = [m for m in similar if m is not None]
        if len({m.group_id for m in held} | {item.group_id}) < cfg.min_groups:
            return False
        accounts = {m.user_id for m in held} | {item.user_id}
        top = max([item.score, *(m.score for m in held)])
        return not (top < cfg.min_score and (len(accounts) < cfg.watch_min_accounts or top < cfg.watch_min_score))

    def resolve(self, conn: Connection, item: WaveItem, *, dry_run: bool = False) -> WaveResult | None:
        """Link a prepared message to (or open) an incident when it completes a wave.

        Store work only when the index found near-same entries: they are re-read (links, scores
        and signatures as the store has them now) and checked again before they count.
        """
        if item.entry_id is None or item.sig is None:
            return None
        if not self.needs_store(item):
            return WaveResult(item.entry_id, similar=list(item.similar))
        cfg = self.config
        e = tbl(WaveEntryRow)
        rows = conn.execute(
            select(
                e.c.id,
                e.c.platform,
                e.c.community,
                e.c.group_id,
                e.c.user_id,
                e.c.message_id,
                e.c.time,
                e.c.signature,
                e.c.score,
                e.c.incident_id,
            ).where(e.c.id.in_(item.similar))
        ).all()
        cutoff = _ts(item.time) - cfg.window_minutes * 60.0
        width = cfg.num_perm * 8
        similar = [
            r
            for r in rows
            if r.platform == item.platform
            and r.community == item.community
            and _ts(r.time) >= cutoff
            and r.signature is not None
            and len(r.signature) == width
            and (r.message_id != item.message_id or r.group_id != item.group_id)
            and self.similarity(np.frombuffer(r.signature, dtype=np.uint64), item.sig) >= cfg.similarity
        ]
        return self._conclude(conn, item, item.entry_id, similar, dry_run)

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
        item = WaveItem(platform, community, group_id, message_id, user_id, time, text, score, reasons)
        self.prepare(conn, [item])
        return self.resolve(conn, item, dry_run=dry_run)

    def _conclude(
        self, conn: Connection, item: WaveItem, entry_id: int, similar: Sequence[Any], dry_run: bool
    ) -> WaveResult:
        cfg = self.config
        group_id, message_id, user_id, time, score = item.group_id, item.message_id, item.user_id, item.time, item.score
        platform, community, text, reasons = item.platform, item.community, item.text, item.reasons
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
        for r in rows:  # the in-memory copy learns the link too (see _may_matter)
            held = self._index.entries.get(r[0])
            if held is not None:
                held.incident_id = incident_id
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


def prune(conn: Connection, before: datetime, max_entries: int, *, upto: int | None = None) -> int:
    """Delete wave entries (and their bands) older than ``before`` or beyond the newest ``max_entries``.

    ``upto``: consider only entries up to this id (the prune as it would have run when that entry
    was written; the tracker defers its store prunes to the next batch).
    """
    e, b = tbl(WaveEntryRow), tbl(WaveBandRow)
    scope = [e.c.id <= upto] if upto is not None else []
    old = select(e.c.id).where(e.c.time < before, *scope)
    conn.execute(delete(b).where(b.c.entry_id.in_(old)))
    removed = conn.execute(delete(e).where(e.c.time < before, *scope)).rowcount or 0
    total = conn.execute(select(func.count()).select_from(e).where(*scope)).scalar_one()
    if total > max_entries:
        newest = select(e.c.id).where(*scope).order_by(e.c.id.desc()).offset(max_entries).limit(1)
        edge = conn.execute(newest).scalar_one_or_none()
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
