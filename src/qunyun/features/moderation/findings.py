"""One piece of spam evidence (证据), shared by the rule modules."""

from __future__ import annotations

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
