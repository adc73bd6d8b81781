"""The labelled spam data (训练数据) and the fixed held-out split used to measure the model.

Only the files in the shared ``spam`` directory are used (QQ-group ads, English SMS, Telegram
samples) plus the operators' own feedback CSV, and a fixed sample of ordinary chat as extra ham:
:data:`CHAT_HAM_N` messages of the shared #ubuntu IRC log (``../chat/``, see :func:`chat_ham`).
The directory is, in order: the ``--data`` argument, ``$QUNYUN_SPAM_DATA``, ``../shared/data/spam``
next to the repository (or the current directory). There is no built-in fallback: without data
there is no honest model.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ZH_QQ = "zh_qq_group_ads_train.csv"
EN_SMS = "en_sms_train.csv"
TG_SPAM = "tg_spam_samples_spam.txt"
TG_HAM = "tg_spam_samples_ham.txt"
SEED = 42
HOLDOUT = 0.2
#: the shared IRC log, relative to the spam directory (optional: skipped when absent)
CHAT_LOG = Path("..") / "chat" / "ubuntu_irc_train.jsonl.gz"
#: how many of its messages are sampled as ham, and the weight each one gets in training
CHAT_HAM_N = 3000
CHAT_HAM_WEIGHT = 0.3


class DataMissingError(FileNotFoundError):
    """The training data directory (or a file in it) does not exist."""


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    label: str  # "spam" | "ham"
    source: str  # set name: zh_qq, en_sms, tg, feedback, chat


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[4]


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the training data lives; raises :class:`DataMissingError` naming the directory."""
    if explicit:
        candidates = [Path(explicit)]
    elif os.environ.get("QUNYUN_SPAM_DATA"):
        candidates = [Path(os.environ["QUNYUN_SPAM_DATA"])]
    else:
        candidates = [_repo_root().parent / "shared" / "data" / "spam", Path.cwd().parent / "shared" / "data" / "spam"]
    for c in candidates:
        if (c / ZH_QQ).is_file() or (c / EN_SMS).is_file():
            return c
    raise DataMissingError(
        f"spam training data not found in {candidates[0]} "
        f"(expected {ZH_QQ}, {EN_SMS}, tg_spam_samples_*.txt); "
        "pass --data DIR or set QUNYUN_SPAM_DATA"
    )


def read_labelled_csv(path: Path, source: str, text_column: str = "text") -> list[Sample]:
    """A ``text,label`` CSV (UTF-8 with or without BOM, RFC 4180 multi-line fields)."""
    out: list[Sample] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            text = row.get(text_column) or ""
            label = (row.get("label") or "").strip().lower()
            if label in ("1", "true", "yes"):
                label = "spam"
            elif label in ("0", "false", "no", "not spam", "not_spam"):
                label = "ham"
            if text and label in ("spam", "ham"):
                out.append(Sample(text, label, source))
    return out


def _read_lines(path: Path, label: str) -> list[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Sample(line, label, "tg") for line in lines if line.strip()]


def load_sets(directory: Path) -> dict[str, list[Sample]]:
    """Every shared set that exists in ``directory``, by name."""
    sets: dict[str, list[Sample]] = {}
    for name, fname in (("zh_qq", ZH_QQ), ("en_sms", EN_SMS)):
        path = directory / fname
        if path.is_file():
            sets[name] = read_labelled_csv(path, name)
    if (directory / TG_SPAM).is_file() and (directory / TG_HAM).is_file():
        sets["tg"] = _read_lines(directory / TG_SPAM, "spam") + _read_lines(directory / TG_HAM, "ham")
    if not sets:
        raise DataMissingError(f"no spam data files in {directory}")
    return sets


def split(samples: Sequence[Sample], seed: int = SEED, holdout: float = HOLDOUT) -> tuple[list[Sample], list[Sample]]:
    """Stratified split: shuffle each label with ``random.Random(seed)``, the last share is held out."""
    train: list[Sample] = []
    test: list[Sample] = []
    for label in ("ham", "spam"):
        group = [s for s in samples if s.label == label]
        random.Random(seed).shuffle(group)
        k = round(len(group) * holdout)
        test.extend(group[len(group) - k :])
        train.extend(group[: len(group) - k])
    return train, test


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """Content hash of the data files (and the recipe version): names the cached model."""
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        if p.is_file():
            h.update(p.name.encode())
            h.update(_file_digest(p))
    return h.hexdigest()[:16]


def _stat_key(path: Path) -> tuple[str, int, int]:
    """Identifies one version of a file (path, size, mtime) for the caches below."""
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


_digests: dict[tuple[str, int, int], bytes] = {}


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a file, remembered while its size and mtime stay the same (the IRC log is 5 MB
    and the model path is computed on every scoring call)."""
    key = _stat_key(path)
    digest = _digests.get(key)
    if digest is None:
        digest = _digests[key] = hashlib.sha256(path.read_bytes()).digest()
    return digest


def data_files(directory: Path) -> list[Path]:
    return [directory / ZH_QQ, directory / EN_SMS, directory / TG_SPAM, directory / TG_HAM, directory / CHAT_LOG]


def chat_ham(directory: Path, n: int = CHAT_HAM_N, seed: int = SEED) -> list[Sample]:
    """A fixed random sample of ordinary chat messages, labelled ham (普通聊天，作为正常样本).

    None of the labelled sets has technical chat in English: SMS ham is personal texting and the
    Telegram ham is Russian. Without it the model flagged 5.3 % of #ubuntu IRC messages (shell
    commands, URLs, "server", "free partition") as spam; with 3,000 of them at weight 0.3 it is
    0.12 %, while QQ-ads and SMS F1 change by 0.003 (8 re-splits) (docs/moderation.md, "Recipe experiments").
    The log is nearly all ham; its one flood incident is abuse, not ads. Returns ``[]`` when the
    log is not next to the spam data.
    """
    texts = chat_messages(directory)
    if n <= 0 or not texts:
        return []
    return [Sample(texts[i], "ham", "chat") for i in _chat_order(len(texts), seed)[:n]]


def chat_probe(directory: Path, n: int = 20000, seed: int = SEED) -> list[str]:
    """Chat messages *not* in the training sample: the false-positive probe of ``spam eval``."""
    texts = chat_messages(directory)
    return [texts[i] for i in _chat_order(len(texts), seed)[CHAT_HAM_N : CHAT_HAM_N + n]]


def _chat_order(n: int, seed: int) -> list[int]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


_chat_cache: dict[tuple[str, int, int], list[str]] = {}


def chat_messages(directory: Path) -> list[str]:
    """The non-empty message texts of the shared IRC log (``[]`` when it is absent)."""
    path = directory / CHAT_LOG
    if not path.is_file():
        return []
    key = _stat_key(path)
    cached = _chat_cache.get(key)
    if cached is not None:
        return cached
    import gzip

    import orjson

    texts: list[str] = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if b'"message"' not in line:
                continue
            event = orjson.loads(line)
            text = event.get("text")
            if event.get("type") == "message" and isinstance(text, str) and text.strip():
                texts.append(text)
    _chat_cache.clear()
    _chat_cache[key] = texts
    return texts
