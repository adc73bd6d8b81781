"""The scoring API everyone else calls: :func:`detect` and :func:`detect_many` (垃圾消息判定).

A message's score combines the model and the rules in log-odds:
``z = clip(model_logit, ±4) × model_weight + Σ rule weights`` and ``score = sigmoid(z)``. The
clip is what lets rules carry the model on spam it has never seen (another platform's 微商 ads):
a contact handle plus solicitation words is +5 or more whatever the model says; an allow-listed
link (ubuntu.com, pastebin) subtracts, so tech-support chat with links stays ham.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import classifier
from .config import SpamRulesConfig
from .normalize import SEP, normalize_batch
from .rules import Finding, ImageInput, RuleSet, mention_findings, qr_findings, rule_logit
from .shapes import STRUCTURAL

if TYPE_CHECKING:
    from qunyun.events import Event

T = TypeVar("T")

#: log-odds used for the model's part when the model is switched off (a prior: most chat is ham)
NO_MODEL_LOGIT = -2.0
#: where a rule recognises the *shape* of an ad or a scam (``shapes.STRUCTURAL``: a promotion with
#: a number to call, a phishing link, a new payee) rather than its words, the model's "ham" counts
#: at most this much: the model has only seen QQ-group trade, English SMS and Telegram, and is
#: confidently wrong on Chinese commercial SMS (on the masked-SMS blind sets the model alone
#: reaches F1 0.04-0.12 and scores most of those ads below 0.05)
STRUCTURAL_FLOOR = 2.0
#: a Chinese text longer than this (normalized characters) is outside what the model has seen:
#: its Chinese training data is QQ-group chat (21 of 2,129 messages are longer, most of them cheat
#: ads), so on long e-mails, notices and posts its "spam" vote only measures length and numbers
#: (it scored business mail and school notices 0.8-0.98). There its vote counts at most as much as
#: no model at all (:data:`NO_MODEL_LOGIT`): the rules decide, its "ham" still counts. On three
#: blind Chinese e-mail sets F1 0.824 → 0.878, 0.817 → 0.830, 0.895 → 0.924; the QQ, SMS and
#: Telegram 8-re-split F1 and the #ubuntu probe unchanged (the one long QQ cheat ad it cost is
#: caught by ``promo:list``, its [+] feature list)
LONG_CJK_CHARS = 150
#: the same text (compact form) as known spam / as a message operators marked "not spam"
W_MEMORY_SPAM = 4.0
W_MEMORY_HAM = -6.0
#: "model:0.00" … "model:1.00", formatted once
_MODEL_TAGS = [f"model:{k / 100:.2f}" for k in range(101)]
_BOOSTED = (
    "contact:", "url:other", "url:risky", "url:obfuscated", "url:shortener", "url:telegram", "url:deny",
    "invite:", "qr:",
)  # fmt: skip


@dataclass(slots=True)
class Verdict:
    """The decision on one message: ``label`` is ``spam`` or ``ham``, ``score`` P(spam) in [0, 1].

    ``reasons`` are short codes for operators and the audit log (``contact:wechat``, ``url:deny``,
    ``keyword:加微信``, ``qr:invite``, ``model:0.93``); ``findings`` hold the evidence behind them.
    """

    label: str
    score: float
    reasons: list[str]
    findings: tuple[Finding, ...] = ()
    model_score: float | None = None

    @property
    def is_spam(self) -> bool:
        return self.label == "spam"

    def to_dict(self, evidence: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "score": round(self.score, 4), "reasons": list(self.reasons)}
        if evidence:
            out["findings"] = [{"code": f.code, "weight": f.weight, "evidence": f.evidence} for f in self.findings]
            out["model_score"] = None if self.model_score is None else round(self.model_score, 4)
        return out


@dataclass(slots=True)
class Labels:
    """Bulk decisions as columns (see :meth:`Detector.label_many`)."""

    spam: list[bool]
    scores: list[float]
    #: reason codes per message, ``;``-joined (``contact:wechat;keyword:加微信;model:0.93``)
    reasons: list[str]

    def __len__(self) -> int:
        return len(self.spam)

    def extend(self, other: Labels) -> None:
        self.spam.extend(other.spam)
        self.scores.extend(other.scores)
        self.reasons.extend(other.reasons)


@dataclass
class DetectContext:
    """What is known about a message beyond its text.

    ``images`` are bytes or local paths (never URLs: detection does no network I/O); ``extra``
    carries findings from stateful checks such as :class:`.flood.FloodTracker`.
    """

    config: SpamRulesConfig | None = None
    mentions: int = 0
    images: Sequence[ImageInput] = ()
    newcomer: bool = False
    extra: Sequence[Finding] = field(default_factory=tuple)

    @classmethod
    def from_event(
        cls,
        event: Event,
        config: SpamRulesConfig | None = None,
        *,
        newcomer: bool = False,
        extra: Sequence[Finding] = (),
    ) -> DetectContext:
        """Mentions and local image files (``path``/``file`` of image segments) of an Event."""
        images: list[ImageInput] = []
        for seg in event.segments:
            if seg.type.value != "image":
                continue
            raw = seg.data.get("bytes")
            if isinstance(raw, bytes | bytearray):
                images.append(bytes(raw))
                continue
            for key in ("path", "file"):
                value = seg.data.get(key)
                if isinstance(value, str) and value and "://" not in value and os.path.isfile(value):
                    images.append(value)
                    break
        return cls(config=config, mentions=len(event.mentions), images=images, newcomer=newcomer, extra=extra)


class Detector:
    """Rules of one configuration plus the (shared, lazily trained) model."""

    def __init__(
        self,
        config: SpamRulesConfig | None = None,
        model: classifier.SpamModel | None = None,
        data: str | os.PathLike[str] | None = None,
    ) -> None:
        self.config = config or SpamRulesConfig()
        self.rules = RuleSet(self.config)
        self._model = model
        self._data = data

    @property
    def model(self) -> classifier.SpamModel:
        if self._model is None:
            return classifier.get_model(self._data)
        return self._model

    def detect(self, text: str, *, context: DetectContext | None = None) -> Verdict:
        return self.detect_many([text], contexts=[context] if context else None)[0]

    def detect_many(
        self,
        texts: Sequence[str],
        *,
        contexts: Sequence[DetectContext | None] | None = None,
        workers: int = 1,
    ) -> list[Verdict]:
        """Verdicts for many texts; rules and model each run once over the whole batch.

        ``workers > 1`` splits a large batch (no contexts) over forked worker processes: the
        regex and normalization passes hold the GIL, so processes, not threads, use the second
        core. Meant for bulk jobs, not for a server's event loop; :meth:`label_many` is the
        cheaper form when only label, score and reasons are needed.
        """
        if not texts:
            return []
        if workers > 1 and contexts is None and len(texts) >= 2 * PARALLEL_MIN and _can_fork():
            return self._parallel(list(texts), workers, "detect_many", list.extend)
        spam, scores, findings, model_p = self._score(texts, contexts)
        if model_p is None:
            return [
                Verdict("spam" if sp else "ham", sc, _reasons(fs) if fs else [], tuple(fs), None)
                for sp, sc, fs in zip(spam, scores, findings, strict=True)
            ]
        mps = model_p.tolist()
        tags = _model_tags(model_p)
        return [
            Verdict("spam" if sp else "ham", sc, [*_reasons(fs), tag] if fs else [tag], tuple(fs), mp)
            for sp, sc, fs, mp, tag in zip(spam, scores, findings, mps, tags, strict=True)
        ]

    def label_many(self, texts: Sequence[str], *, workers: int = 1) -> Labels:
        """Label, score and ``;``-joined reasons of many texts, as columns (批量分类).

        The same decisions as :meth:`detect_many` without the per-message objects: what
        ``qunyun spam classify`` writes. Columns of strings and floats cost little to send back
        from a worker process (10,000 :class:`Verdict` objects take ~140 ms to pickle and unpickle,
        half as long as scoring them), so this is the form that scales to two cores.
        """
        if not texts:
            return Labels([], [], [])
        if workers > 1 and len(texts) >= 2 * PARALLEL_MIN and _can_fork():
            return self._parallel(list(texts), workers, "label_many", Labels.extend)
        spam, scores, findings, model_p = self._score(texts, None)
        if model_p is None:
            reasons = [";".join(_reasons(fs)) if fs else "" for fs in findings]
        else:
            reasons = [
                ";".join([*_reasons(fs), tag]) if fs else tag
                for fs, tag in zip(findings, _model_tags(model_p), strict=True)
            ]
        return Labels(spam, scores, reasons)

    def label_chunks(self, chunks: Iterable[tuple[T, list[str]]], *, workers: int = 1) -> Iterator[tuple[T, Labels]]:
        """``(payload, texts)`` chunks in, ``(payload, labels)`` out, in order (流水线).

        With ``workers > 1`` every chunk is scored in a forked worker while this process reads
        the next ones and writes the finished ones (``qunyun spam classify``: CSV parsing and
        writing overlap the scoring instead of waiting for it). At most ``2 × workers`` chunks are
        in flight, so memory stays flat however long the input is.
        """
        if workers <= 1 or not _can_fork():
            for payload, texts in chunks:
                yield payload, self.label_many(texts)
            return
        pool = _pool(self, workers)
        pending: deque[tuple[T, Any]] = deque()
        for payload, texts in chunks:
            pending.append((payload, pool.submit(_worker_call, id(self), "label_many", texts)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def _score(
        self, texts: Sequence[str], contexts: Sequence[DetectContext | None] | None
    ) -> tuple[list[bool], list[float], list[list[Finding]], np.ndarray | None]:
        """Spam flags, scores, findings and model probabilities (``None`` without a model)."""
        n = len(texts)
        texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
        cfg = self.config
        norm, comp = normalize_batch(texts)
        findings = self.rules.scan_normalized(norm, comp, n)
        model_p: np.ndarray | None
        if cfg.use_model and cfg.model_weight > 0:
            model = self.model
            parts = norm.split(SEP)
            raw = model.logit_normalized(parts)
            if model.spam_memory or model.ham_memory:
                for i, key in enumerate(comp.split(SEP)):
                    if key in model.spam_memory:
                        findings[i].append(Finding("memory:spam", W_MEMORY_SPAM, key[:40]))
                    elif key in model.ham_memory:
                        findings[i].append(Finding("memory:ham", W_MEMORY_HAM, key[:40]))
            model_p = 1.0 / (1.0 + np.exp(-raw))
            base = np.clip(raw, -classifier.LOGIT_CLIP, classifier.LOGIT_CLIP) * cfg.model_weight
            for i in _cap_long_chinese(base, parts):  # said, so "why" shows the model was overruled
                findings[i].append(Finding("model:capped", 0.0, "long Chinese text"))
        else:
            model_p = None
            base = np.full(n, NO_MODEL_LOGIT)
        z = base.copy()
        thresholds: np.ndarray | None = None
        if contexts is not None:
            for i, ctx in enumerate(contexts):
                if ctx is None:
                    continue
                findings[i] = self._with_context(findings[i], ctx)
                if ctx.newcomer:
                    if thresholds is None:
                        thresholds = np.full(n, cfg.threshold)
                    thresholds[i] = (ctx.config or cfg).newcomer_threshold
        floor = -STRUCTURAL_FLOOR
        for i, fs in enumerate(findings):
            if fs:
                if z[i] < floor and any(f.code in STRUCTURAL for f in fs):
                    z[i] = floor
                z[i] += rule_logit(fs)
        scores_arr = 1.0 / (1.0 + np.exp(-z))
        spam = (scores_arr >= (cfg.threshold if thresholds is None else thresholds)).tolist()
        return spam, scores_arr.tolist(), findings, model_p

    def _parallel(self, texts: list[str], workers: int, method: str, merge: Any) -> Any:
        """Score ``texts`` in ``workers`` parts: the first here, the others in forked workers."""
        pool = _pool(self, workers - 1)
        size = -(-len(texts) // workers)
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        futures = [pool.submit(_worker_call, id(self), method, c) for c in chunks[1:]]
        out = getattr(self, method)(chunks[0])
        for f in futures:
            merge(out, f.result())
        return out

    def _with_context(self, fs: list[Finding], ctx: DetectContext) -> list[Finding]:
        cfg = ctx.config or self.config
        out = list(fs)
        out.extend(mention_findings(ctx.mentions, cfg))
        if ctx.images and cfg.qr_scan:
            out.extend(qr_findings(ctx.images, cfg))
        out.extend(ctx.extra)
        if ctx.newcomer and cfg.newcomer_boost:
            boost = cfg.newcomer_boost
            boosted = [Finding(f.code, f.weight + boost, f.evidence) if f.code.startswith(_BOOSTED) else f for f in out]
            out = [*boosted, Finding("newcomer", 0.0, "")]
        return out


def _cap_long_chinese(base: np.ndarray, parts: Sequence[str]) -> list[int]:
    """The model's spam vote on a long Chinese text counts no more than no model (in place);
    returns the texts it capped.

    Chinese means at least a quarter of the characters: an English phishing mail under a
    "主题：" line is the model's own ground (SMS spam), and there it is right."""
    capped = []
    for i in [i for i, n in enumerate(map(len, parts)) if n > LONG_CJK_CHARS]:
        t = parts[i]
        if base[i] > NO_MODEL_LOGIT and 4 * len(classifier.CJK.findall(t)) >= len(t):
            base[i] = NO_MODEL_LOGIT
            capped.append(i)
    return capped


def _reasons(fs: Sequence[Finding]) -> list[str]:
    """Distinct codes, strongest first (negative evidence such as ``url:allow`` last)."""
    if len(fs) == 1:
        return [fs[0].code]
    best: dict[str, float] = {}
    for f in fs:
        if f.weight > best.get(f.code, -1e9):
            best[f.code] = f.weight
    return sorted(best, key=best.__getitem__, reverse=True)


#: below this many texts per worker, forking and pickling cost more than they save
PARALLEL_MIN = 4096
_forked: dict[int, Detector] = {}
_pools: dict[tuple[int, int], Any] = {}


def auto_workers(limit: int = 2) -> int:
    """Processes for a bulk job: the CPUs this process may run on, at most ``limit``.

    Not reduced by the load average: the 1-minute average still counts work that has just
    ended (a previous job), which made ``spam classify`` run on one core on an idle machine;
    and when the cores really are busy, one extra worker costs little (chunks are pipelined).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - no affinity API (macOS, Windows)
        cpus = os.cpu_count() or 1
    return max(1, min(limit, cpus))


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and mp.parent_process() is None


def _pool(det: Detector, n: int) -> Any:
    """A process pool forked with ``det`` (and its model) already in memory; kept for reuse."""
    import atexit
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    key = (id(det), n)
    pool = _pools.get(key)
    if pool is None:
        if det.config.use_model:
            _ = det.model  # load (or train) the model before forking, so workers share it
        _forked[id(det)] = det
        pool = _pools[key] = ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"))
        atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


def _worker_call(key: int, method: str, texts: list[str]) -> Any:
    return getattr(_forked[key], method)(texts)


def _model_tags(model_p: np.ndarray) -> list[str]:
    return [_MODEL_TAGS[k] for k in np.rint(model_p * 100).astype(np.int64).tolist()]


_detectors: dict[str, Detector] = {}


def get_detector(config: SpamRulesConfig | None = None) -> Detector:
    """A cached :class:`Detector` per configuration (compiling the automata costs ~10 ms)."""
    key = "" if config is None else config.model_dump_json()
    det = _detectors.get(key)
    if det is None:
        if len(_detectors) > 64:
            _detectors.clear()
        det = _detectors[key] = Detector(config)
    return det


def detect(text: str, *, context: DetectContext | None = None) -> Verdict:
    """Score one message. ``context.config`` selects the group's rules (default rules otherwise)."""
    return get_detector(context.config if context else None).detect(text, context=context)


def detect_many(
    texts: Sequence[str],
    *,
    config: SpamRulesConfig | None = None,
    contexts: Sequence[DetectContext | None] | None = None,
    workers: int = 1,
) -> list[Verdict]:
    """Score many messages at once (vectorized; see :meth:`Detector.detect_many` for ``workers``)."""
    return get_detector(config).detect_many(texts, contexts=contexts, workers=workers)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
