"""The trained spam model (训练模型): two linear models averaged in log-odds.

* char 1-3-grams, hashed TF-IDF, NB-scaled logistic regression (robust to spelling tricks);
* word 1-2-grams (jieba dictionary segmentation), hashed TF-IDF, logistic regression
  (:data:`WORD_WEIGHT`; see :func:`fit` for what it gains).

Optionally (:data:`ZH_SPLIT`, off) a second linear model is trained on the texts that contain CJK
characters and scores those texts; the general model scores the rest (see :func:`fit`).

The recipe is this module; the model file is a cache. ``qunyun spam train`` (or the first call to
:func:`get_model`) trains on the shared data (and the operators' feedback CSV) and writes
``spam-model-<fingerprint>.joblib`` into the cache directory (``$QUNYUN_CACHE_DIR`` or
``~/.cache/qunyun``). The fingerprint hashes the data files, the feedback file and
:data:`RECIPE_VERSION`, so new data or a new recipe never loads a stale model.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import (
    CHAT_HAM_WEIGHT,
    Sample,
    chat_ham,
    data_dir,
    data_files,
    fingerprint,
    load_sets,
    read_labelled_csv,
    split,
)
from .features import HashedCharTfidf, HashedWordTfidf
from .normalize import CJK, SEP, compact, normalize_batch

#: bump when features or training change: old cached models are then ignored
RECIPE_VERSION = "spam-recipe-19"
NGRAM_RANGE = (1, 3)
HASH_BITS = 20
C = 30.0
NB_ALPHA = 1.0
#: the Chinese model: plain (not NB-scaled) logistic regression, weaker regularization (by CV)
ZH_NGRAM_RANGE = (1, 3)
ZH_C = 100.0
ZH_NB = False
#: train and use the separate Chinese model at all
ZH_SPLIT = False
#: share of the word model in the averaged log-odds (0 switches it off)
WORD_WEIGHT = 0.6
WORD_NGRAM_RANGE = (1, 2)
WORD_C = 30.0
#: each model's log-odds are clipped to this before averaging (one confident model cannot
#: outvote the other by an arbitrary margin)
PART_CLIP = 4.0
#: texts shorter than this (compact form) are not remembered as known spam/ham
MEMORY_MIN_CHARS = 4
#: feedback rows count this many times (an operator's decision outweighs one public sample)
FEEDBACK_WEIGHT = 3.0
#: model log-odds are clipped so strong rules can always overrule the model
LOGIT_CLIP = 4.0


def cache_dir() -> Path:
    base = os.environ.get("QUNYUN_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "qunyun"


#: training weight by sample source (everything else 1.0)
_SOURCE_WEIGHT = {"feedback": FEEDBACK_WEIGHT, "chat": CHAT_HAM_WEIGHT}


def _data_root() -> Path:
    base = os.environ.get("QUNYUN_DATA_DIR")
    return Path(base) if base else Path.home() / ".local" / "share" / "qunyun"


def default_feedback_path() -> Path:
    """The feedback CSV of commands that have no database (``spam classify/check/train``):
    ``$QUNYUN_SPAM_FEEDBACK``, else ``spam-feedback.csv`` in the data directory."""
    env = os.environ.get("QUNYUN_SPAM_FEEDBACK")
    if env:
        return Path(env)
    return _data_root() / "spam-feedback.csv"


def feedback_path_for(db_url: str) -> Path:
    """Where one database's review decisions accumulate, and what its live model trains on.

    ``$QUNYUN_SPAM_FEEDBACK`` when set; else a file named after the database, so that decisions
    taken on a demo (``make demo``) never train another community's model. A relative SQLite path
    is made absolute first: ``sqlite:///qunyun.db`` in two directories is two databases.
    """
    env = os.environ.get("QUNYUN_SPAM_FEEDBACK")
    if env:
        return Path(env)
    from qunyun.store.db import normalize_url

    url = normalize_url(db_url)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith(("/", ":memory:")) and url != prefix:
        url = prefix + str(Path(url[len(prefix) :].split("?", 1)[0]).resolve())
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return _data_root() / f"spam-feedback-{digest}.csv"




def cjk_mask(texts: Sequence[str]) -> np.ndarray:
    """Which texts contain CJK characters (these go to the Chinese model); ASCII texts skip the regex."""
    search = CJK.search
    return np.fromiter((not t.isascii() and search(t) is not None for t in texts), dtype=bool, count=len(texts))


@dataclass
class LinearPart:
    """One hashed TF-IDF vectorizer with the coefficients of its linear model."""

    vectorizer: HashedCharTfidf
    coef: np.ndarray
    intercept: float

    def logit(self, model_input: Sequence[str]) -> np.ndarray:
        return self.vectorizer.decision(model_input, self.coef, self.intercept)


def model_texts(texts: Sequence[str]) -> list[str]:
    """Raw texts → what the model reads: the ``norm`` form (see :mod:`.normalize`)."""
    norm, _ = normalize_batch(texts)
    return norm.split(SEP)


@dataclass
class SpamModel:
    """A fitted vectorizer + linear model, and what it was trained on."""

    vectorizer: HashedCharTfidf
    coef: np.ndarray
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)
    #: compact forms of known spam (training spam + operators' "spam") and of operators' "not spam"
    spam_memory: frozenset[str] = frozenset()
    ham_memory: frozenset[str] = frozenset()
    #: the model for texts with CJK characters (None: the general model scores everything)
    zh: LinearPart | None = None
    #: the word model averaged with the char model (None: char model only)
    words: LinearPart | None = None
    word_weight: float = 0.0

    def logit_normalized(self, model_input: Sequence[str]) -> np.ndarray:
        """Log-odds of spam for texts already passed through :func:`model_texts`."""
        chars = self._char_logit(model_input)
        if self.words is None or self.word_weight <= 0:
            return chars
        w = self.word_weight
        words = self.words.logit(model_input)
        return (1.0 - w) * np.clip(chars, -PART_CLIP, PART_CLIP) + w * np.clip(words, -PART_CLIP, PART_CLIP)

    def _char_logit(self, model_input: Sequence[str]) -> np.ndarray:
        if self.zh is None:
            return self.vectorizer.decision(model_input, self.coef, self.intercept)
        mask = cjk_mask(model_input)
        if mask.all():
            return self.zh.logit(model_input)
        if not mask.any():
            return self.vectorizer.decision(model_input, self.coef, self.intercept)
        out = np.empty(len(model_input))
        zh_idx = np.flatnonzero(mask)
        other_idx = np.flatnonzero(~mask)
        out[zh_idx] = self.zh.logit([model_input[i] for i in zh_idx.tolist()])
        out[other_idx] = self.vectorizer.decision(
            [model_input[i] for i in other_idx.tolist()], self.coef, self.intercept
        )
        return out

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(spam) for raw texts."""
        return 1.0 / (1.0 + np.exp(-self.logit_normalized(model_texts(texts))))


def _fit_part(
    texts: Sequence[str],
    y: np.ndarray,
    weights: np.ndarray | None,
    *,
    ngram_range: tuple[int, int] = NGRAM_RANGE,
    c: float = C,
    nb: bool = True,
    words: bool = False,
) -> LinearPart:
    """Hashed char (or word) n-gram TF-IDF → (NB-scaled) class-balanced logistic regression."""
    # imported here: scoring needs neither (it saves ~1 s on every `qunyun spam check`)
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    vec = HashedWordTfidf(ngram_range, HASH_BITS) if words else HashedCharTfidf(ngram_range, HASH_BITS)
    x = vec.fit_transform(texts)
    if nb:
        present = (x > 0).astype(np.float64)
        p = NB_ALPHA + np.asarray(present[y].sum(axis=0)).ravel()
        q = NB_ALPHA + np.asarray(present[~y].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        xr = x @ sp.diags(r)
    else:
        r = np.ones(vec.n_features)
        xr = x
    clf = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000, random_state=0)
    clf.fit(xr, y.astype(np.int8), sample_weight=weights)
    return LinearPart(vec, clf.coef_.ravel().astype(np.float64) * r, float(clf.intercept_[0]))


def fit(samples: Sequence[Sample], weights: Sequence[float] | None = None) -> SpamModel:
    """Train on samples: normalize → hashed char 1-3-grams TF-IDF → NB-scaled logistic regression,
    averaged with a word 1-2-gram model.

    The word model (jieba segmentation, plain LR, C = 30, weight 0.6 after clipping each model's
    log-odds to ±4) was chosen on 8 stratified 80/20 re-splits of the shared files (seeds 42 and
    1-7; the other sets' train parts in training, as the real model sees them). Mean rules + model
    F1 of the whole recipe: QQ ads 0.894 → 0.921 (σ 0.013), English SMS 0.959 → 0.966; plain char
    TF-IDF + LinearSVC on the same splits: 0.868 / 0.954. Word weights 0.5 / 0.7 / 0.8 gave QQ
    0.917 / 0.918 / 0.912; char-only ensembles (a second char 2-5-gram model, NB or not) and a
    nearest-neighbour vote gained ≤ 0.008; docs/moderation.md "Recipe experiments" has the table.

    The NB scaling (Wang & Manning 2012, "NBSVM") multiplies each feature by its log-count ratio
    ``r = log(P(f|spam) / P(f|ham))`` before the linear model; on short texts it beats plain
    TF-IDF (4-fold CV on the train part: SMS F1 0.946 → 0.955, Telegram 0.931 → 0.935, QQ equal).
    ``r`` is folded into the stored coefficients, so scoring costs nothing extra.

    With :data:`ZH_SPLIT` (off by default) texts with CJK characters get their own model, trained
    on the CJK texts only (own IDF, intercept and class balance instead of being outweighed by
    4,000 English SMS; plain LR, C = 100). Together with ``features.UNSEEN_IDF = 0`` it reaches
    QQ-ads F1 (rules + model) 0.902 in 5-fold CV on the train part (3 seeds; 0.887 today), but
    the held-out QQ F1 fell to 0.887 (0.912 today), so neither is on; docs/moderation.md has the
    figures.
    """
    texts = model_texts([s.text for s in samples])
    y = np.array([s.label == "spam" for s in samples], dtype=bool)
    if weights is None:
        weights = [_SOURCE_WEIGHT.get(s.source, 1.0) for s in samples]
    w = np.asarray(weights, dtype=np.float64)
    general = _fit_part(texts, y, w)
    words = (
        _fit_part(texts, y, w, ngram_range=WORD_NGRAM_RANGE, c=WORD_C, nb=False, words=True)
        if WORD_WEIGHT > 0
        else None
    )
    mask = cjk_mask(texts)
    zh: LinearPart | None = None
    if ZH_SPLIT and y[mask].any() and (~y[mask]).any():
        idx = np.flatnonzero(mask)
        zh = _fit_part(
            [texts[i] for i in idx.tolist()],
            y[idx],
            None if w is None else w[idx],
            ngram_range=ZH_NGRAM_RANGE,
            c=ZH_C,
            nb=ZH_NB,
        )
    spam_mem, ham_mem = _memories(samples, texts)
    return SpamModel(
        general.vectorizer,
        general.coef,
        general.intercept,
        {"recipe": RECIPE_VERSION, "n": len(samples), "n_zh": int(mask.sum())},
        spam_mem,
        ham_mem,
        zh,
        words,
        WORD_WEIGHT if words is not None else 0.0,
    )


def _memories(samples: Sequence[Sample], norm_texts: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Known spam (and operator-confirmed ham) by compact form: the same ad re-posted with other
    spacing, case or punctuation is recognised at once (指纹库). Feedback wins over shared data."""
    spam: set[str] = set()
    ham: set[str] = set()
    for s, norm in zip(samples, norm_texts, strict=True):
        key = compact(norm)
        if len(key) < MEMORY_MIN_CHARS:
            continue
        if s.label == "spam" and (s.source != "feedback" or key not in ham):
            spam.add(key)
            ham.discard(key)
        elif s.label == "ham" and s.source == "feedback":
            ham.add(key)
            spam.discard(key)
    return frozenset(spam), frozenset(ham)


def read_feedback(path: Path | None) -> list[Sample]:
    if path is None or not path.is_file():
        return []
    return [Sample(s.text, s.label, "feedback") for s in read_labelled_csv(path, "feedback")]


def training_samples(directory: Path, feedback: Path | None = None, holdout: bool = False) -> list[Sample]:
    """All shared samples (or only the train part of each set when ``holdout``) plus feedback."""
    out: list[Sample] = []
    for samples in load_sets(directory).values():
        out.extend(split(samples)[0] if holdout else samples)
    out.extend(chat_ham(directory))
    out.extend(read_feedback(feedback))
    return out


def model_path(directory: Path, feedback: Path | None = None, holdout: bool = False) -> Path:
    files = data_files(directory) + ([feedback] if feedback is not None else [])
    tag = RECIPE_VERSION + (":holdout" if holdout else "")
    return cache_dir() / f"spam-model-{RECIPE_VERSION.rsplit('-', 1)[-1]}-{fingerprint(files, tag)}.joblib"


def train(
    data: str | os.PathLike[str] | None = None,
    feedback: str | os.PathLike[str] | None = None,
    *,
    holdout: bool = False,
    save: bool = True,
) -> tuple[SpamModel, Path]:
    """Train from the data directory (+ feedback CSV) and write the model to the cache."""
    directory = data_dir(data)
    fb = Path(feedback) if feedback else default_feedback_path()
    fb_used = fb if fb.is_file() else None
    if feedback and fb_used is None:
        raise FileNotFoundError(f"feedback file not found: {feedback}")
    samples = training_samples(directory, fb_used, holdout=holdout)
    t0 = time.perf_counter()
    model = fit(samples)
    model.meta.update(
        {
            "data_dir": str(directory),
            "feedback": str(fb_used) if fb_used else None,
            "holdout": holdout,
            "seconds": round(time.perf_counter() - t0, 2),
            "spam": sum(s.label == "spam" for s in samples),
            "ham": sum(s.label == "ham" for s in samples),
            "feedback_rows": sum(s.source == "feedback" for s in samples),
            "chat_ham_rows": sum(s.source == "chat" for s in samples),
        }
    )
    path = model_path(directory, fb_used, holdout)
    if save:
        path.parent.mkdir(parents=True, exist_ok=True)
        import joblib  # imported where used: commands that never touch the model start without it

        tmp = path.with_suffix(f".tmp{os.getpid()}")
        joblib.dump(model, tmp, compress=3)
        tmp.replace(path)
        _prune(path)
    return model, path


def _prune(keep: Path) -> None:
    """Remove cached models of older recipes (same-recipe files may be other data/feedback)."""
    prefix = f"spam-model-{RECIPE_VERSION.rsplit('-', 1)[-1]}-"
    for old in keep.parent.glob("spam-model-*.joblib"):
        if not old.name.startswith(prefix):
            with contextlib.suppress(OSError):
                old.unlink()


_lock = threading.Lock()
_loaded: dict[tuple[str, bool], SpamModel] = {}
_override: list[SpamModel] = []


def get_model(
    data: str | os.PathLike[str] | None = None, *, holdout: bool = False, feedback: Path | None = None
) -> SpamModel:
    """The current model: from memory, from the cache file, or trained now (first use).

    ``feedback`` is the decisions CSV to train with (a database's, :func:`feedback_path_for`);
    default :func:`default_feedback_path`.
    """
    if _override and not holdout and data is None:
        return _override[0]
    directory = data_dir(data)
    fb = feedback if feedback is not None else default_feedback_path()
    fb_used = fb if fb.is_file() else None
    path = model_path(directory, fb_used, holdout)
    key = (str(path), holdout)
    with _lock:
        model = _loaded.get(key)
        if model is not None:
            return model
        if path.is_file():
            try:
                import joblib

                loaded = joblib.load(path)
                if isinstance(loaded, SpamModel) and loaded.meta.get("recipe") == RECIPE_VERSION:
                    model = loaded
            except Exception:  # noqa: BLE001 - a broken cache file is rebuilt, never fatal
                model = None
        if model is None:
            model, _ = train(directory, fb_used, holdout=holdout)
        _loaded[key] = model
        return model


def set_model(model: SpamModel | None) -> None:
    """Replace (or with ``None`` forget) the in-memory models; used after retraining and in tests."""
    with _lock:
        _loaded.clear()
        _override.clear()
        if model is not None:
            _override.append(model)


def record_feedback(text: str, label: str, path: Path | None = None) -> Path:
    """Append one operator decision (``spam``/``ham``) to the feedback CSV the next training reads.

    The review queue calls this when a moderator marks a message "spam" or "not spam" (误判).
    """
    if label not in ("spam", "ham"):
        raise ValueError("label must be 'spam' or 'ham'")
    target = path or default_feedback_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    new = not target.exists() or target.stat().st_size == 0
    with target.open("a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["text", "label"])
        w.writerow([text, label])
    return target


def retrain(data: str | os.PathLike[str] | None = None, feedback: str | os.PathLike[str] | None = None) -> SpamModel:
    """Retrain with the feedback so far and make the new model current (for the review queue)."""
    model, _ = train(data, feedback)
    set_model(model)
    return model
