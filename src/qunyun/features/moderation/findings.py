"""One piece of spam evidence (证据), shared by the rule modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence: ``code`` is the reason shown to operators, ``weight`` its log-odds."""

    code: str
    weight: float
    evidence: str = ""


#: weights (log-odds) used by both :mod:`.rules` and :mod:`.shapes`
W_PHONE = 1.5  # a bare mainland mobile number (or one masked as xxxxxxxxxxx)
W_SHORTCODE = 2.5  # "text WIN to 80082", "call 09061701461", 回复x获取: premium-rate SMS ads


def bounds(norm: str, norm_starts: Sequence[int], i: int) -> tuple[int, int]:
    """Start and end offsets of message ``i`` in a ``SEP``-joined batch."""
    return norm_starts[i], (norm_starts[i + 1] - 1 if i + 1 < len(norm_starts) else len(norm))


def has_code(findings: Sequence[Finding], code: str) -> bool:
    """Whether one of ``findings`` carries ``code`` (shapes add a code once per message)."""
    return any(f.code == code for f in findings)


def without(findings: Sequence[Finding], code: str) -> list[Finding]:
    """``findings`` minus those with ``code``: a scam dressed as a notice loses the notice."""
    return [f for f in findings if f.code != code]


def find_all(text: str, needle: str) -> Iterator[int]:
    """Start of every occurrence of a literal (``str.find`` in C: cheaper than a regex pass when
    most batches have none, and than a regex whose alternatives start with different characters)."""
    k = text.find(needle)
    while k != -1:
        yield k
        k = text.find(needle, k + len(needle))
