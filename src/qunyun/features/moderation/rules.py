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
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import ahocorasick

from . import keywords as kw
from .config import SpamRulesConfig
from .english import scan_english
from .findings import W_PHONE, W_SHORTCODE, Finding, bounds, find_all, has_code
from .normalize import CJK, SEP, compact, normalize, normalize_batch
from .shapes import scan_chinese

# --- weights (log-odds) -----------------------------------------------------------------------
W_CONTACT = 2.5  # a QQ number with context (QQ 12345678, 加群 12345678)
W_WECHAT = 3.0  # a WeChat handle with an ID (vx: abc123): ordinary members rarely post one
W_COMBO = 2.5  # contact handle + solicitation vocabulary in the same message
W_INVITE = 4.5  # invite link to another group
W_DENY = 6.0
W_ALLOW = -3.0
W_SHORTENER = 1.5
W_URL = 0.25
W_URL_RISKY = 1.5  # cheap TLDs ad and scam sites favour (.top, .xyz, .vip, ...)
W_TG_LINK = 1.0
W_URL_OBFUSCATED = 2.0  # http:xxx without //, "abc. top", wwwabc: hiding a link from filters
W_TRADE = 2.0  # a price (40r, 25元) next to a trade verb (出/卖/收购/找我)
W_OFFER = 2.5  # a message that opens with a trade offer: 出一个…, 收一张…, 出号, 卖vape…
W_FEATURE_LIST = 2.5  # three or more "[+]" bullets: a product's feature list (3 QQ ads, no ham, no IRC line)
W_MASS_MENTION = 3.0
W_MENTION_ALL = 1.5
#: weak keywords only count together; their sum is capped
WEAK_CAP = 2.5
MEDIUM_CAP = 4.0

# --- patterns over the norm form (digits already ASCII and re-joined) ------------------------
_ZH_WECHAT = r"(?:微信号?|威信|薇信|徽信|v信|卫星号?|加v|加我v|加vx|加wx|加威|加徽|薇)"
_ID = r"(?:wxid_[a-z0-9_-]{4,}|[a-z][a-z0-9_-]{5,19}|\d{6,11})"
#: a Chinese handle word may be followed by any ID; a Latin one (vx/wx/wechat) needs a colon or
#: an ID holding a digit, so "wxpython" or "wechat users" are not handles
#: (搜 too: 微信搜 abc123, vx搜lingquan88 — "search for this ID")
_RE_WECHAT = re.compile(
    rf"{_ZH_WECHAT}[ \t]?[^\w\s:：=]{{0,2}}[ \t]*(?:id|号|同步|同号|搜索?|搜一下)?[ \t]*[:：=]?[ \t]*{_ID}"
    rf"|(?:vx|wx|wechat|weixin)(?:号|id|搜索?)?[ \t]*"
    rf"(?:[:：=][ \t]*[+加]?[ \t]*{_ID}|(?=[a-z0-9_-]*\d)[a-z0-9][a-z0-9_-]{{5,19}})"
)
#: literals that start a WeChat handle (searched with str.find before the full regex runs)
_WECHAT_LITERALS = (
    "微信", "威信", "薇信", "徽信", "v信", "卫星", "加v", "加我v", "vx", "wx", "wechat", "weixin", "加威", "加徽", "薇",
)
#: one alternation of plain literals: a single fast pass instead of a str.find per literal
_RE_WECHAT_LIT = re.compile("|".join(map(re.escape, _WECHAT_LITERALS)))
#: ``v: abc123`` (the letter before ``v`` is checked in code: a literal first char keeps re fast)
#: (a heart or a star may sit between: v❤：abc123, V♥: …)
_RE_V_HANDLE = re.compile(r"v[^\w\s:：=]{0,2}[ \t]*(?:[:：=]|搜)[ \t]*([a-z][a-z0-9_-]{5,19}|\d{6,11})")
#: a bare 微 as WeChat (代练 … 微 id5_daili, 微：abc888, 微❤️ keji_home99): a separator or a symbol, then
#: an ID holding a digit;
#: the character before is checked in code (稍微, 微微 are words)
_RE_WEI_HANDLE = re.compile(r"微(?:[ \t:：]|[^\w\s])+(?=[a-z0-9_-]*\d)[a-z0-9][a-z0-9_-]{5,19}")
#: on the compact form (w.e.i.x.i.n: abc888 → weixinabc888): the ID must hold a digit
_RE_WECHAT_COMPACT = re.compile(
    r"(?:weixin|wechat|微信号?|薇信|v信|威信|徽信|卫星号|加vx|加wx|vx号|wx号|加v|加我v|微x|威x|威心|薇心|薇同步|微同步"
    r"|v芯|威芯|薇芯|v我)搜?"
    r"(?=[a-z0-9_-]*\d)([a-z0-9][a-z0-9_-]{5,19})"
)
#: a bare wx/vx + an ID holding a digit on the compact form of a Chinese text (ｗ ｘ ：ｍ ｅ ｉ ⑨ ⑨);
#: not looked for in Latin text, where "wxpython3" is a word
_RE_WX_COMPACT_CJK = re.compile(r"(?:wx|vx)搜?(?=[a-z0-9_-]*\d)[a-z0-9][a-z0-9_-]{5,19}")
#: a LINE ID in a Chinese text (Taiwan and Hong Kong write 加賴 for "add me on LINE"): on the compact
#: form, ``line`` or 赖 right before an ID holding a digit (Ｌ ｉ ｎ ｅ：ｍｉｎａ＿７７ → linemina77); a
#: Latin word ending in line (online, deadline) is not one
_RE_LINE_COMPACT_CJK = re.compile(r"(?<![a-z])(?:line|赖)(?:id)?(?=[a-z0-9]*\d)[a-z0-9]{4,20}")
#: ... or after the ID emoji (🆔 gain520), which the compact form drops
_RE_ID_EMOJI = re.compile(r"🆔[ \t:：]*@?[a-z][a-z0-9_]{3,19}")
#: a spaced-out Telegram handle in a Chinese text (T G ：@ziyuan_8899 → tgziyuan8899)
_RE_TG_COMPACT_CJK = re.compile(r"(?<![a-z])tg(?=[a-z0-9_]*\d)[a-z][a-z0-9_]{4,31}")
#: context right before a 5-11 digit number that makes it a QQ number (QQ号/群号/加我…; a colon or
#: a pointing emoji between: 进群👉68029431)
_RE_QQ_CTX = re.compile(
    r"(?:(?<![a-z0-9])qq|(?<![a-z0-9])q|扣扣|扣|口口|企鹅|群号|裙号|q群|群|裙|加我|加|(?:找|联系)[\u4e00-\u9fff]{0,3}|咨询|私聊"
    r"|私信|戳|滴滴|(?<![a-z0-9])dd|(?<![a-z0-9])v[^\w\s]{0,2}[ \t]*[+加]"
    r"|(?<![a-z])whatsapp|(?<![a-z])line|赖)"
    r"[ \t]*(?:号码|号|群)?[ \t]*[:：=👉💬➡→]?[ \t]*$"
)
_RE_DIGITS = re.compile(r"[0-9]{5,}")
#: what comes before a 5-digit short code in a premium-rate SMS ad ("txt stop to", "send WIN to")
#: (in the shared SMS train file: 110 of 522 spam, none of 3,614 ham; none in the IRC log)
_RE_SHORTCODE_CTX = re.compile(r"(?<![a-z])(?:text|txt|send|reply|call)(?![a-z])[^.!?\x00]{0,25}?(?<![a-z])(?:to|on) $")
_RE_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_TLDS = (
    "com|cn|net|org|top|xyz|cc|me|io|ly|gg|ru|info|club|vip|shop|site|online|ltd|fr|link|co|tk|ml|"
    "app|dev|icu|fun|work|live|pro|biz|tv|us|uk|de|jp|hk|tw|so|to|in|im|ai|store|win|bet|cloud|"
    # phishing favourites and South-East Asian country domains (tnb-bayar.online, x.help, x.my)
    "help|sg|my|asia|click|support|services|center|life|world|space|website|today|buzz|rest|cyou|ga|cf|gq"
)
#: cheap prefilter: only texts with one of these are searched with the full URL regex
#: texts with a link (``://``, ``www.``, ``.com``) get the full URL regex
_RE_URL_HINT = re.compile(rf"://|www\.|\.(?:{_TLDS})(?![a-z0-9])")
#: links spaced out to dodge filters (``abc. top``, ``abc .top``, ``abc。com``, ``abc点cn``); the
#: pattern starts at the dot (a small character set, so ``re`` skips ahead), the rest is checked in code
_RE_DOT_TLD = re.compile(r"[.。点] *(?:com|cn|net|top|xyz|vip|shop|cc|store|ly|me)(?![a-z0-9])")
#: links written so that filters miss them: ``http:abc`` (no //), ``abc. top``, ``abc点com``, ``wwwabc``.
#: Each pattern starts with a literal or a small set so ``re`` can skip ahead; the rest is checked in code.
_RE_HTTP_NO_SLASH = re.compile(r"https?:(?!//)[a-z0-9]|hxxps?:")  # hxxp:// is a link defanged to pass
_RE_WWW_NO_DOT = re.compile(r"www(?!w)(?=[a-z0-9]{4,})")
#: a price (40r, 25元, ¥99) — spam when a trade verb is in the same message
_RE_PRICE_SIGN = re.compile(r"[元块¥￥]")
_RE_PRICE_R = re.compile(r"\d ?r(?:mb)?(?![a-z])")
#: a trade offer at the start of a message (group-trade slang: 出 = selling, 收 = buying)
#: (at the start of a message of the joined batch, i.e. after SEP: one C-level pass)
_RE_OFFER_START = re.compile(r"\x00((?:出|收|卖|求购|收购|出售)(?:一个|个|一张|张|一台|台|号|[a-z0-9]))")
_RE_TRADE = re.compile(
    r"出售|出一个|出个|出号|收购|卖|售价|购买|代购|找我|需要的|私聊|特价|低价|包月|月卡|永久|终身|秒结"
)
_RE_URL = re.compile(
    r"(?:https?://|www\.)[^\s\x00<>\"'，。！？）)】]+"
    rf"|(?<![a-z0-9@.\-_])(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS})(?![a-z0-9])(?:[/:][^\s\x00<>\"'，。！？）)】]*)?"
)
#: a Telegram handle given as a contact (TG: @abc_123, 飞机 @abc_123, telegram：@abc_123): the
#: handle is found first (the pattern starts with the literal "@"), the words before it second
_RE_AT_HANDLE = re.compile(r"@[a-z][a-z0-9_]{4,31}")
#: (联系@ph_work: a Latin handle to contact is a Telegram handle too; a member's Chinese nickname is not)
_RE_TG_CTX = re.compile(
    r"(?:(?<![a-z])tg|telegram|飞机|电报|联系|加我(?:了解|咨询)?)[ \t]*(?:号|id)?[ \t]*[:：=]?[ \t]*$"
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


#: words of a phishing host name: with a hyphen in the host (maybank2u-secure.login-my.com,
#: whatsapp-verify-account.help), the site imitates a brand's page for an action
_PHISH_HOST_WORDS = frozenset(
    (
        "verify", "secure", "login", "unlock", "update", "account", "redeliver", "redelivery", "delivery", "bayar",
        "refund", "reward", "rewards", "points", "track", "tracking", "claim", "confirm", "billing", "payment", "auth",
        "wallet", "bonus",
    )  # fmt: skip
)

#: TLDs that cost next to nothing and carry most throw-away ad/scam sites
_RISKY_TLDS = frozenset(
    ("top", "xyz", "vip", "shop", "icu", "cc", "ltd", "club", "win", "bet", "fun", "work", "live", "online")
    + ("site", "store", "tk", "ml", "ga", "cf", "gq", "buzz", "rest", "cyou")
)


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/:?#]", rest, maxsplit=1)[0]
    return host.removeprefix("www.").strip(".")


def _domain_in(host: str, domains: frozenset[str]) -> str | None:
    """The listed domain ``host`` is or is under (``a.b.example.com`` is under ``example.com``)."""
    if host in domains:
        return host
    dot = host.find(".")
    while dot >= 0:
        suffix = host[dot + 1 :]
        if suffix in domains:
            return suffix
        dot = host.find(".", dot + 1)
    return None


@lru_cache(maxsize=64)
def _domain_set(domains: tuple[str, ...]) -> frozenset[str]:
    return frozenset(d.strip().lower().removeprefix("www.").strip(".") for d in domains if d.strip())


def classify_url(url: str, config: SpamRulesConfig) -> Finding:
    """One finding for one link: invite, deny/allow list, shortener, Telegram or plain link."""
    low = url.lower()
    bare = low.split("://", 1)[1] if "://" in low else low
    bare = bare.removeprefix("www.")
    for needle, code in _INVITES:
        if bare.startswith(needle) or ("." + needle) in bare:
            return Finding(code, W_INVITE, url)
    host = _host(low)
    if _domain_in(host, _domain_set(tuple(config.deny_domains))):
        return Finding("url:deny", W_DENY, url)
    if _domain_in(host, _domain_set(tuple(config.allow_domains))):
        return Finding("url:allow", W_ALLOW, url)
    if _domain_in(host, _domain_set(tuple(config.shortener_domains))):
        return Finding("url:shortener", W_SHORTENER, url)
    if host in ("t.me", "telegram.me"):
        # t.me/channel/123 is a post people share; t.me/someone is where spam sends you
        post = re.search(r"/[^/]+/\d+", bare)
        return Finding("url:telegram", W_TG_LINK / 2 if post else W_TG_LINK, url)
    if host in ("wa.me", "api.whatsapp.com"):
        return Finding("contact:whatsapp", W_CONTACT, url)  # a click-to-chat link: a WhatsApp number
    if host.rsplit(".", 1)[-1] in _RISKY_TLDS:
        return Finding("url:risky", W_URL_RISKY, url)
    if "-" in host and not _PHISH_HOST_WORDS.isdisjoint(re.split(r"[.-]", host)):
        # a brand dressed up with a hyphen and an action (dbs-sg-unlock.com, poslaju-my-redeliver…)
        return Finding("url:risky", W_URL_RISKY, url)
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
                # the finding itself is the automaton's value: one object per keyword, shared
                # by every hit (a Chinese SMS batch has ~0.8 hits per message)
                self._compact_ac.add_word(key, Finding(f"keyword:{word}", weight, word))
                n_compact += 1
            else:
                self._word_ac.add_word(key, (Finding(f"keyword:{word}", weight, word), len(key)))
                n_word += 1
        latin = {w for w, _ in kw.COMPACT_LATIN}
        self._compact_latin = {
            self._key(w)[0]: (w, weight) for w, weight in words.items() if w in latin and self._key(w)[0] not in ignored
        }
        # longest first, so the alternation prefers "jiaweixin" over "weixin"
        keys = sorted(self._compact_latin, key=len, reverse=True)
        self._compact_latin_re = re.compile("|".join(map(re.escape, keys))) if keys else None
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
        """Findings for ``n`` texts given their joined ``norm``/``compact`` forms.

        Speed matters here (it runs on every message): regexes begin with a literal so ``re`` can
        skip ahead, rare shapes are found with ``str.find`` first and only then matched, and
        the CJK keyword automaton reads only the texts that are not pure ASCII.
        """
        out: list[list[Finding]] = [[] for _ in range(n)]
        norm_parts = norm.split(SEP)
        norm_starts = _starts_of(norm_parts)
        comp_parts = comp.split(SEP)
        comp_starts = _starts_of(comp_parts)

        # the texts with CJK characters: the Chinese keywords and shapes are looked for only there
        # (Russian and other non-ASCII texts are a third of the characters of a mixed batch)
        search = CJK.search
        wide = [i for i, p in enumerate(comp_parts) if not p.isascii() and search(p) is not None]
        if self._has_compact:
            if wide:
                sub = SEP.join(comp_parts[i] for i in wide)
                sub_starts = _starts_of([comp_parts[i] for i in wide])
                for end, finding in self._compact_ac.iter(sub):
                    out[wide[bisect_right(sub_starts, end) - 1]].append(finding)
                for wx in _RE_WX_COMPACT_CJK.finditer(sub):
                    i = wide[bisect_right(sub_starts, wx.start()) - 1]
                    if not has_code(out[i], "contact:wechat"):
                        out[i].append(Finding("contact:wechat", W_WECHAT, wx.group(0)))
                for ln in _RE_LINE_COMPACT_CJK.finditer(sub):
                    i = wide[bisect_right(sub_starts, ln.start()) - 1]
                    if not has_code(out[i], "contact:line"):
                        out[i].append(Finding("contact:line", W_WECHAT, ln.group(0)))
                for tg in _RE_TG_COMPACT_CJK.finditer(sub):
                    i = wide[bisect_right(sub_starts, tg.start()) - 1]
                    if not has_code(out[i], "contact:telegram"):
                        out[i].append(Finding("contact:telegram", W_CONTACT, tg.group(0)))
            # ... and the Latin contact spellings (w.e.i.x.i.n) are found in the others
            if self._compact_latin_re is not None:
                cjk = set(wide)
                for lm in self._compact_latin_re.finditer(comp):
                    i = bisect_right(comp_starts, lm.start()) - 1
                    if i not in cjk:
                        word, weight = self._compact_latin[lm.group(0)]
                        out[i].append(Finding(f"keyword:{word}", weight, word))
        if self._has_word:
            for end, (finding, keylen) in self._word_ac.iter(norm):
                start = end - keylen + 1
                before = norm[start - 1] if start > 0 else " "
                after = norm[end + 1] if end + 1 < len(norm) else " "
                if before.isalnum() or after.isalnum():
                    continue
                out[bisect_right(norm_starts, end) - 1].append(finding)

        # contact handles: find the handle word, then match the full shape right there
        for lm in _RE_WECHAT_LIT.finditer(norm):
            pos = lm.start()
            if lm.group(0)[0].isascii() and pos > 0 and "a" <= norm[pos - 1] <= "z":
                continue
            m = _RE_WECHAT.match(norm, pos)
            if m is not None:
                i = bisect_right(norm_starts, pos) - 1
                out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        for m in _RE_V_HANDLE.finditer(norm):
            if m.start() > 0 and "a" <= norm[m.start() - 1] <= "z":
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        for m in _RE_ID_EMOJI.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            if not has_code(out[i], "contact:line"):
                out[i].append(Finding("contact:line", W_WECHAT, m.group(0)))
        for m in _RE_WEI_HANDLE.finditer(norm):
            k = m.start()
            if k > 0 and CJK.match(norm, k - 1) is not None:
                continue
            i = bisect_right(norm_starts, k) - 1
            if not has_code(out[i], "contact:wechat"):
                out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        for m in _RE_WECHAT_COMPACT.finditer(comp):
            if m.group(1).startswith("qqcom"):
                continue  # mp.weixin.qq.com/s/…: an article link, not an ID
            i = bisect_right(comp_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        # numbers: one scan for digit runs, then QQ context / phone shape per (rare) hit
        for m in _RE_DIGITS.finditer(norm):
            digits = m.group(0)
            if len(digits) > 11:
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
                k = m.start()
                # not inside a product code or a hash (N82E16822144154): letters and digits
                # right before it; a handle glued to a word (vx13812345678, 电话138…) still counts
                if not (k >= 2 and norm[k - 1].isascii() and norm[k - 1].isalpha() and norm[k - 2].isdigit()):
                    out[i].append(Finding("contact:phone", W_PHONE, digits))
                continue  # a mobile number, not a QQ number
            if _foreign_mobile(digits) and not _ascii_around(norm, m.start()):
                # a Taiwanese, Malaysian or Singaporean mobile in a Chinese text
                out[i].append(Finding("contact:phone", W_PHONE, digits))
                continue
            if len(digits) == 11 and digits[0] == "0" and digits[1] in "89":
                # UK premium-rate (09…) and non-geographic (084…, 087…) numbers: in the SMS
                # train set 105 and 138 spam messages, no ham; also a landline with an 08xx/09xx
                # area code, which in a group chat is a contact handle all the same
                out[i].append(Finding("sms:premium", W_SHORTCODE, digits))
                continue
            if len(digits) == 11 and digits[0] == "0" and digits[1] in "1237" and _ascii_around(norm, m.start()):
                # a UK landline or mobile written out in an English text (call 01223585236, I'm on
                # 07090201529): in the SMS train set 23 spam messages, no ham; Chinese landlines
                # (057188207766 …) are left to the Chinese rules
                out[i].append(Finding("sms:number", W_SHORTCODE, digits))
                continue
            if len(digits) == 5:
                ctx = norm[max(norm_starts[i], m.start() - 40) : m.start()]
                if _RE_SHORTCODE_CTX.search(ctx):
                    out[i].append(Finding("sms:shortcode", W_SHORTCODE, ctx[-20:] + digits))
                    continue
            before = norm[max(norm_starts[i], m.start() - 12) : m.start()]
            ctx_m = _RE_QQ_CTX.search(before) if before else None
            if ctx_m is not None:
                code = _number_contact(ctx_m.group(0))
                # "line 12345" in an English text is a line of a file, not a LINE ID
                if code != "contact:line" or not _ascii_around(norm, m.start()):
                    out[i].append(Finding(code, W_CONTACT, before.strip() + digits))
        hinted = {bisect_right(norm_starts, m.start()) - 1 for m in _RE_URL_HINT.finditer(norm)}
        for m in _RE_DOT_TLD.finditer(norm):
            k = m.start()
            glue = m.group(0)
            spaced_before = k > 1 and norm[k - 1] == " " and norm[k - 2].isascii() and norm[k - 2].isalnum()
            if glue[0] == "." and " " not in glue and not spaced_before:
                continue  # an ordinary domain: the URL rules handle it
            before = norm[k - 2] if spaced_before else (norm[k - 1] if k > 0 else " ")
            # 点 + a TLD is a spoken-out dot whatever comes before it (搜 y y 影 视 点 cc)
            if (before.isascii() and before.isalnum()) or glue[0] == "点":
                i = bisect_right(norm_starts, k) - 1
                evidence = norm[max(norm_starts[i], k - 12) : m.end()]
                out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, evidence))
                tld = glue.lstrip(".。点 ")
                if tld in _RISKY_TLDS:  # a throw-away domain *and* hidden from filters
                    out[i].append(Finding("url:risky", W_URL_RISKY, evidence))
        for i in sorted(hinted):
            for m in _RE_URL.finditer(norm_parts[i]):
                out[i].append(classify_url(m.group(0).rstrip(".,;:!?"), self.config))
        for m in _RE_HTTP_NO_SLASH.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, norm[m.start() : m.start() + 40].split(" ")[0]))
        for m in _RE_WWW_NO_DOT.finditer(norm):
            if m.start() > 0 and norm[m.start() - 1].isalnum():
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, norm[m.start() : m.start() + 40].split(" ")[0]))
        # a product's feature list ([+]自动注入 [+]绕过检测 [+]稳定防封 …): cheat clients, VPN plans
        bullets = Counter(bisect_right(norm_starts, k) - 1 for k in find_all(norm, "[+]"))
        for i, n in bullets.items():
            if n >= 3 and self.config.promo_rules:
                out[i].append(Finding("promo:list", W_FEATURE_LIST, f"[+] ×{n}"))
        trade = self.config.trade_rules
        for m in _RE_OFFER_START.finditer(SEP + norm) if trade else ():  # position p here is p - 1 in norm
            i = bisect_right(norm_starts, m.start(1) - 1) - 1
            out[i].append(Finding("trade:offer", W_OFFER, m.group(1)))
        priced: set[int] = set()
        for m in _price_hits(norm) if trade else ():
            i = bisect_right(norm_starts, m.start()) - 1
            if i in priced:
                continue
            priced.add(i)
            t = _RE_TRADE.search(norm, *bounds(norm, norm_starts, i))
            verb = t.group(0) if t is not None else ("出" if norm.startswith("出", norm_starts[i]) else "")
            if verb:  # 出… at the start of a message is "selling …" in group-trade slang
                out[i].append(Finding("trade:price", W_TRADE, f"{verb} {m.group(0)}"))
        if wide:
            linked = hinted | {i for i, fs in enumerate(out) if fs and any(f.code == "url:obfuscated" for f in fs)}
            parts = [norm_parts[i] for i in wide]
            sub = SEP.join(parts)
            linked_sub = [j for j, i in enumerate(wide) if i in linked]
            sub_out = scan_chinese(sub, _starts_of(parts), linked_sub)
            promos = self.config.promo_rules
            for i, fs in zip(wide, sub_out, strict=True):
                if fs:
                    out[i].extend(fs if promos else [f for f in fs if not f.code.startswith("promo:")])
        scan_english(norm, norm_starts, out)
        if "@" in norm:
            for m in _RE_AT_HANDLE.finditer(norm):
                i = bisect_right(norm_starts, m.start()) - 1
                before = norm[max(norm_starts[i], m.start() - 16) : m.start()]
                if _RE_TG_CTX.search(before):
                    out[i].append(Finding("contact:telegram", W_CONTACT, before.strip() + m.group(0)))
            for m in _RE_MENTION_ALL.finditer(norm):
                i = bisect_right(norm_starts, m.start()) - 1
                out[i].append(Finding("mention:all", W_MENTION_ALL, m.group(0)))
        return out

    def scan(self, text: str) -> list[Finding]:
        return self.scan_batch([text])[0]


def _starts_of(parts: Sequence[str]) -> list[int]:
    """Offsets of the parts in ``SEP.join(parts)``: running sum of lengths plus one SEP each."""
    if not parts:
        return [0]
    return [c + i for i, c in enumerate(accumulate(map(len, parts), initial=0))][: len(parts)]


def _price_hits(norm: str) -> Iterator[re.Match[str]]:
    """Prices: ``40r``/``5 rmb`` directly, ``25元``/``¥99`` when a digit is next to the sign."""
    yield from _RE_PRICE_R.finditer(norm)
    for m in _RE_PRICE_SIGN.finditer(norm):
        k = m.start()
        before = norm[k - 1] if k > 0 else ""
        if before == " " and k > 1:
            before = norm[k - 2]
        after = norm[k + 1] if k + 1 < len(norm) else ""
        if before.isdigit() or (m.group(0) in "¥￥" and after.isdigit()):
            yield m


# --- combining --------------------------------------------------------------------------------


_WARNED = frozenset({"context:warning", "context:news", "context:notice", "context:forum"})
_NOTICED = frozenset({"context:notice", "context:referral", "context:peers", "context:forum"})
_PEERS = frozenset({"context:peers", "context:forum"})


def _foreign_mobile(digits: str) -> bool:
    """A mobile number of Taiwan (0912345678), Malaysia (012-345 6789, 011-2345 6789, +60 12-…) or
    Singapore (+65 8123 4567), digits only."""
    n = len(digits)
    return (
        (n == 10 and digits[:2] == "09")
        or (n in (10, 11) and digits[:2] == "01")
        or (n in (11, 12) and digits[:3] == "601")
        or (n == 10 and digits[:2] == "65" and digits[2] in "89")
    )


def _number_contact(context: str) -> str:
    """The contact code of a number by the word before it: V + a number (V❤➕ 1885…) is a WeChat
    ID, WhatsApp and LINE (赖) numbers are theirs, everything else a QQ number."""
    if context.startswith("v"):
        return "contact:wechat"
    if context.startswith("whatsapp"):
        return "contact:whatsapp"
    if context.startswith(("line", "赖")):
        return "contact:line"
    return "contact:qq"


def _ascii_around(text: str, k: int, width: int = 24) -> bool:
    """Whether the characters around position ``k`` are ASCII (an English text, not a Chinese one)."""
    return text[max(0, k - width) : k + width].isascii()


def rule_logit(findings: Sequence[Finding]) -> float:
    """Sum of finding weights with caps: weak and medium keywords only add up so far.

    A contact handle (WeChat/QQ/phone) next to any solicitation keyword earns the combo bonus,
    so ``vx: abc123 兼职`` is spam even when the model has never seen such text. A scam warning
    (``context:warning``: 被骗, 千万别信 …) subtracts and demotes strong keywords to medium ones;
    handles, links and QR codes keep their full weight (a "防骗" ad with a WeChat ID is spam).
    """
    total = 0.0
    weak = medium = 0.0
    seen: set[str] = set()
    has_contact = has_phone = False
    solicit = 0.0
    codes = {f.code for f in findings}
    # someone warning about a scam quotes its vocabulary: strong words count as medium ones then
    warned = not codes.isdisjoint(_WARNED)
    # people who know each other (同学, 室友) sell and buy without it being an ad
    peers = not codes.isdisjoint(_PEERS)
    for f in findings:
        if f.code in seen or (peers and f.code.startswith("trade:")):
            continue
        seen.add(f.code)
        if f.code.startswith("keyword:"):
            solicit += f.weight
            if warned and f.weight > kw.MEDIUM:
                medium += kw.MEDIUM
            elif f.weight <= kw.WEAK:
                weak += f.weight
            elif f.weight <= kw.MEDIUM:
                medium += f.weight
            else:
                total += f.weight
        else:
            if f.code == "contact:phone":
                has_phone = True
            elif f.code.startswith(("contact:", "qr:contact", "invite:")):
                has_contact = True
            total += f.weight
    # one weak word is ordinary chat (价格, 活动); only the second and later ones count
    # ... and their medium words count once (提醒一下，私聊说低价卖皮肤、代充点券的都是骗子: three of them)
    medium_cap = kw.MEDIUM if "context:warning" in codes else MEDIUM_CAP
    total += min(max(weak - kw.WEAK, 0.0), WEAK_CAP) + min(medium, medium_cap)
    # a handle (WeChat/QQ/invite) with any sales word; a phone number needs a real solicitation
    # (not in a transactional notice: a courier's 联系电话 is how to reach him, not a sales pitch)
    noticed = not codes.isdisjoint(_NOTICED)
    if not noticed and ((has_contact and solicit >= kw.WEAK) or (has_phone and solicit >= kw.MEDIUM)):
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
