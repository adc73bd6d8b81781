"""Rule-based spam detectors (规则检测): keywords, contact handles, links, invites, mentions, QR codes.

Every detector returns :class:`Finding` objects: a short reason code (``contact:wechat``,
``url:deny``, ``keyword:加微信``), a weight in log-odds and the evidence (the matched text). The
detectors run over a whole batch at once: the batch is normalized into one joined string
(:func:`.normalize.normalize_batch`) and each compiled regex / the Aho-Corasick automaton scans it
in a single C-level pass; Python only runs for the (rare) hits.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import ahocorasick

from . import keywords as kw
from .config import SpamRulesConfig
from .normalize import SEP, compact, normalize, normalize_batch


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence: ``code`` is the reason shown to operators, ``weight`` its log-odds."""

    code: str
    weight: float
    evidence: str = ""


# --- weights (log-odds) -----------------------------------------------------------------------
W_CONTACT = 2.5  # a contact handle with context (vx: abc123, QQ 12345678)
W_PHONE = 1.5  # a bare mainland mobile number
W_COMBO = 2.5  # contact handle + solicitation vocabulary in the same message
W_INVITE = 4.5  # invite link to another group
W_DENY = 6.0
W_ALLOW = -3.0
W_SHORTENER = 1.5
W_URL = 0.5
W_TG_LINK = 1.0
W_MASS_MENTION = 3.0
W_MENTION_ALL = 1.5
#: weak keywords only count together; their sum is capped
WEAK_CAP = 2.5
MEDIUM_CAP = 4.0

# --- patterns over the norm form (digits already ASCII and re-joined) ------------------------
_ZH_WECHAT = r"(?:微信号?|威信|薇信|徽信|v信|卫星号?|加v|加我v|加vx|加wx)"
_ID = r"(?:wxid_[a-z0-9_-]{4,}|[a-z][a-z0-9_-]{5,19}|\d{6,11})"
#: a Chinese handle word may be followed by any ID; a Latin one (vx/wx/wechat) needs a colon or
#: an ID holding a digit, so "wxpython" or "wechat users" are not handles
_RE_WECHAT = re.compile(
    rf"{_ZH_WECHAT}[ \t]*(?:id|号)?[ \t]*[:：=]?[ \t]*{_ID}"
    rf"|(?<![a-z])(?:vx|wx|wechat|weixin)(?:号|id)?[ \t]*"
    rf"(?:[:：=][ \t]*{_ID}|(?=[a-z0-9_-]*\d)[a-z0-9][a-z0-9_-]{{5,19}})"
)
_RE_V_HANDLE = re.compile(r"(?<![a-z])v[ \t]*[:：=][ \t]*([a-z][a-z0-9_-]{5,19}|\d{6,11})")
#: on the compact form (w.e.i.x.i.n: abc888 → weixinabc888): the ID must hold a digit
_RE_WECHAT_COMPACT = re.compile(
    r"(?:weixin|wechat|微信号?|薇信|v信|威信|徽信|卫星号|加vx|加wx|vx号|wx号|加v|加我v)"
    r"(?=[a-z0-9_-]*\d)([a-z0-9][a-z0-9_-]{5,19})"
)
#: context right before a 5-11 digit number that makes it a QQ number (QQ号/群号/加我…)
_RE_QQ_CTX = re.compile(
    r"(?:(?<![a-z])qq|(?<![a-z])q|扣扣|扣|企鹅|群号|q群|群|加我|加|找|联系|咨询|私聊|私信|戳|滴滴|(?<![a-z])dd)"
    r"[ \t]*(?:号码|号|群)?[ \t]*[:：=]?[ \t]*$"
)
_RE_DIGITS = re.compile(r"\d{5,}")
_RE_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_TLDS = (
    "com|cn|net|org|top|xyz|cc|me|io|ly|gg|ru|info|club|vip|shop|site|online|ltd|fr|link|co|tk|ml|"
    "app|dev|icu|fun|work|live|pro|biz|tv|us|uk|de|jp|hk|tw|so|to|in|im|ai|store|win|bet|cloud"
)
#: cheap prefilter: only texts with one of these are searched with the full URL regex
_RE_URL_HINT = re.compile(rf"://|www\.|\.(?:{_TLDS})(?![a-z0-9])")
_RE_URL = re.compile(
    r"(?:https?://|www\.)[^\s\x00<>\"'，。！？）)】]+"
    rf"|(?<![\w@.])(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS})(?![a-z0-9])(?:[/:][^\s\x00<>\"'，。！？）)】]*)?"
)
_RE_MENTION_ALL = re.compile(r"@(?:全体成员|全体|所有人|all|everyone|here)(?![a-z])")

#: invite links to other groups: (substring of the URL without scheme, code)
_INVITES = [
    ("qm.qq.com", "invite:qq"),
    ("jq.qq.com", "invite:qq"),
    ("qun.qq.com/qqweb/qunpro/share", "invite:qq"),
    ("t.me/joinchat", "invite:telegram"),
    ("t.me/+", "invite:telegram"),
    ("telegram.me/joinchat", "invite:telegram"),
    ("discord.gg/", "invite:discord"),
    ("discord.com/invite", "invite:discord"),
    ("chat.whatsapp.com", "invite:whatsapp"),
    ("weixin.qq.com/g/", "invite:wechat"),
    ("work.weixin.qq.com/gm", "invite:wechat"),
    ("u.wechat.com", "contact:wechat"),
    ("weixin.qq.com/r/", "contact:wechat"),
    ("line.me/ti/g", "invite:line"),
]


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/:?#]", rest, maxsplit=1)[0]
    return host.removeprefix("www.").strip(".")


def _domain_in(host: str, domains: Iterable[str]) -> str | None:
    for d in domains:
        d = d.lower().removeprefix("www.")
        if host == d or host.endswith("." + d):
            return d
    return None


def classify_url(url: str, config: SpamRulesConfig) -> Finding:
    """One finding for one link: invite, deny/allow list, shortener, Telegram or plain link."""
    low = url.lower()
    bare = low.split("://", 1)[1] if "://" in low else low
    bare = bare.removeprefix("www.")
    for needle, code in _INVITES:
        if bare.startswith(needle) or ("." + needle) in bare:
            return Finding(code, W_INVITE, url)
    host = _host(low)
    if _domain_in(host, config.deny_domains):
        return Finding("url:deny", W_DENY, url)
    if _domain_in(host, config.allow_domains):
        return Finding("url:allow", W_ALLOW, url)
    if _domain_in(host, config.shortener_domains):
        return Finding("url:shortener", W_SHORTENER, url)
    if host in ("t.me", "telegram.me"):
        return Finding("url:telegram", W_TG_LINK, url)
    return Finding("url:other", W_URL, url)


class RuleSet:
    """The compiled rules of one :class:`SpamRulesConfig` (automata and domain lists)."""

    def __init__(self, config: SpamRulesConfig | None = None) -> None:
        self.config = config or SpamRulesConfig()
        words: dict[str, float] = kw.default_keywords() if self.config.use_default_keywords else {}
        for w in self.config.weak_keywords:
            words[w] = max(kw.WEAK, words.get(w, 0.0))
        for w in self.config.keywords:
            words[w] = kw.STRONG + 2.0  # an operator's own 违禁词 is decisive
        ignored = {self._key(w)[0] for w in self.config.ignore_keywords}
        self._compact_ac = ahocorasick.Automaton()
        self._word_ac = ahocorasick.Automaton()
        n_compact = n_word = 0
        for word, weight in words.items():
            key, on_compact = self._key(word)
            if not key or key in ignored:
                continue
            if on_compact:
                self._compact_ac.add_word(key, (word, weight))
                n_compact += 1
            else:
                self._word_ac.add_word(key, (word, weight, len(key)))
                n_word += 1
        self._has_compact = n_compact > 0
        self._has_word = n_word > 0
        if self._has_compact:
            self._compact_ac.make_automaton()
        if self._has_word:
            self._word_ac.make_automaton()

    @staticmethod
    def _key(word: str) -> tuple[str, bool]:
        """Normalize a keyword like the text; CJK and contact spellings match on ``compact``."""
        norm = " ".join(normalize(word).split())
        is_cjk = any("\u3400" <= ch <= "\u9fff" for ch in norm)
        latin_compact = norm in {w for w, _ in kw.COMPACT_LATIN}
        if is_cjk or latin_compact:
            return compact(norm), True
        return norm, False

    # -- batch scanning ------------------------------------------------------------------------
    def scan_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text (same order); the text-only rules (no images, no mentions)."""
        norm, comp = normalize_batch(texts)
        return self.scan_normalized(norm, comp, len(texts))

    def scan_normalized(self, norm: str, comp: str, n: int) -> list[list[Finding]]:
        out: list[list[Finding]] = [[] for _ in range(n)]
        norm_starts = _starts(norm)
        comp_starts = _starts(comp)
        # whitespace runs collapsed so multi-word phrases match; SEP is not whitespace
        spaced = " ".join(norm.split())
        spaced_starts = _starts(spaced)

        if self._has_compact:
            for end, (word, weight) in self._compact_ac.iter(comp):
                i = bisect_right(comp_starts, end) - 1
                out[i].append(Finding(f"keyword:{word}", weight, word))
        if self._has_word:
            for end, (word, weight, keylen) in self._word_ac.iter(spaced):
                start = end - keylen + 1
                before = spaced[start - 1] if start > 0 else " "
                after = spaced[end + 1] if end + 1 < len(spaced) else " "
                if before.isalnum() or after.isalnum():
                    continue
                i = bisect_right(spaced_starts, end) - 1
                out[i].append(Finding(f"keyword:{word}", weight, word))

        for m in _RE_WECHAT.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_CONTACT, m.group(0)))
        for m in _RE_V_HANDLE.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_CONTACT, m.group(0)))
        for m in _RE_WECHAT_COMPACT.finditer(comp):
            i = bisect_right(comp_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_CONTACT, m.group(0)))
        # numbers: one scan for digit runs, then QQ context / phone shape per (rare) hit
        for m in _RE_DIGITS.finditer(norm):
            digits = m.group(0)
            if len(digits) > 11:
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
                out[i].append(Finding("contact:phone", W_PHONE, digits))
            before = norm[max(norm_starts[i], m.start() - 12) : m.start()]
            if before and _RE_QQ_CTX.search(before):
                out[i].append(Finding("contact:qq", W_CONTACT, before.strip() + digits))
        hinted = sorted({bisect_right(norm_starts, m.start()) - 1 for m in _RE_URL_HINT.finditer(norm)})
        if hinted:
            parts = norm.split(SEP)
            for i in hinted:
                for m in _RE_URL.finditer(parts[i]):
                    out[i].append(classify_url(m.group(0).rstrip(".,;:!?"), self.config))
        if "@" in norm:
            for m in _RE_MENTION_ALL.finditer(norm):
                i = bisect_right(norm_starts, m.start()) - 1
                out[i].append(Finding("mention:all", W_MENTION_ALL, m.group(0)))
        return out

    def scan(self, text: str) -> list[Finding]:
        return self.scan_batch([text])[0]


def _starts(joined: str) -> list[int]:
    """Start offset of each SEP-separated part of a joined string."""
    lengths = [len(p) + 1 for p in joined.split(SEP)]
    return [0, *accumulate(lengths[:-1])]


# --- combining --------------------------------------------------------------------------------


def rule_logit(findings: Sequence[Finding]) -> float:
    """Sum of finding weights with caps: weak and medium keywords only add up so far.

    A contact handle (WeChat/QQ/phone) next to any solicitation keyword earns the combo bonus,
    so ``vx: abc123 兼职`` is spam even when the model has never seen such text.
    """
    total = 0.0
    weak = medium = 0.0
    seen: set[str] = set()
    has_contact = False
    solicit = 0.0
    for f in findings:
        if f.code in seen:
            continue
        seen.add(f.code)
        if f.code.startswith("keyword:"):
            solicit += f.weight
            if f.weight <= kw.WEAK:
                weak += f.weight
            elif f.weight <= kw.MEDIUM:
                medium += f.weight
            else:
                total += f.weight
        else:
            if f.code.startswith(("contact:", "qr:contact", "invite:")):
                has_contact = True
            total += f.weight
    total += min(weak, WEAK_CAP) + min(medium, MEDIUM_CAP)
    if has_contact and solicit >= kw.MEDIUM:
        total += W_COMBO
    return total


def mention_findings(mentions: int, config: SpamRulesConfig) -> list[Finding]:
    if mentions >= config.mass_mention:
        return [Finding("mention:mass", W_MASS_MENTION, str(mentions))]
    return []


# --- QR codes in images -----------------------------------------------------------------------

ImageInput = bytes | str | Path


def decode_qr(image: ImageInput) -> list[str]:
    """Texts of the QR codes (and other 2D codes) in an image given as bytes or a local path.

    Decoding uses zxing-cpp (maintained C++ port of ZXing, wheels for every platform) on an image
    opened by Pillow. Unreadable images give ``[]``: a broken image is not evidence of spam.
    """
    import io

    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(image) if isinstance(image, bytes | bytearray) else Path(image))
        img.load()
    except (OSError, UnidentifiedImageError, ValueError):
        return []
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    try:
        results = zxingcpp.read_barcodes(img)
    except Exception:  # noqa: BLE001 - a decoder failure must never break moderation
        return []
    return [r.text for r in results if r.text]


def qr_findings(images: Iterable[ImageInput], config: SpamRulesConfig) -> list[Finding]:
    """Findings for the QR codes in a message's images: ``qr:invite``, ``qr:contact``, ``qr:pay``, ..."""
    out: list[Finding] = []
    for image in images:
        for text in decode_qr(image):
            low = text.strip().lower()
            if low.startswith("wxp://") or "qr.alipay.com" in low:
                out.append(Finding("qr:pay", 3.0, text))
                continue
            m = _RE_URL.search(low)
            if m is None:
                out.append(Finding("qr:code", 1.5, text))
                continue
            f = classify_url(m.group(0), config)
            if f.code.startswith("invite:"):
                out.append(Finding("qr:invite", W_INVITE + 0.5, text))
            elif f.code == "contact:wechat":
                out.append(Finding("qr:contact", 4.0, text))
            elif f.code == "url:allow":
                out.append(Finding("qr:url", 0.5, text))
            elif f.code == "url:deny":
                out.append(Finding("qr:deny", W_DENY, text))
            else:
                out.append(Finding("qr:url", 2.0, text))
    return out
