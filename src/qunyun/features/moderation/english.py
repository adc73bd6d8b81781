"""Shapes of English scam chat (Telegram, Discord, YouTube comments): investment testimonials.

"Wow I just made 5600usd with just 500usd working with Annie", "I invested $300 and received
$4,000": a stake, a payout and a verb of earning in one message is the shape of a recovery or
investment scam's planted testimonial, whatever the names and amounts. The shared Telegram spam
samples hold five such messages; the SMS ham, the Telegram ham and the 197,000 #ubuntu messages
hold none.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .findings import Finding, bounds

W_TESTIMONIAL = 2.5

#: verbs of earning (a literal-led alternation: one fast pass over the batch)
_RE_EARN = re.compile(
    r"made|earn|received|receiving|profit|returns|withdrew|withdraw|payout|paid me|got \$|got over|i got"
)
#: a stake put in first
_RE_STAKE = re.compile(r"deposit|invest|with just|with only|started with|from just|from only|capital of")
#: an amount of money: $300, $4,000, 5600usd, 1 eth, 500 dollars
_RE_MONEY = re.compile(
    r"\$ ?\d[\d,.]*k?|\d[\d,.]*k? ?(?:usdt|usd|dollars|eth|btc|euros?|€|\$)(?![a-z])"
)


def scan_english(norm: str, norm_starts: list[int], out: list[list[Finding]]) -> None:
    """Investment testimonials: an earning verb, a stake and two amounts of money in one message."""
    seen: set[int] = set()
    for m in _RE_EARN.finditer(norm):
        k = m.start()
        if k > 0 and "a" <= norm[k - 1] <= "z":
            continue  # "homemade", "learn"
        i = bisect_right(norm_starts, k) - 1
        if i in seen:
            continue
        seen.add(i)
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_STAKE.search(norm, lo, hi) is None:
            continue
        amounts = _RE_MONEY.findall(norm, lo, hi)
        if len(amounts) >= 2:
            out[i].append(Finding("claim:income", W_TESTIMONIAL, " … ".join(amounts[:2])))
