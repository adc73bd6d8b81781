from __future__ import annotations

import pytest

from qunyun.features.moderation.normalize import SEP, compact, normalize, normalize_batch


@pytest.mark.parametrize(
    ("raw", "norm", "comp"),
    [
        ("ＶＸ：ＡＢＣ１２３", "vx:abc123", "vxabc123"),  # full-width → half-width, casefold
        ("加 V 信", "加 v 信", "加v信"),  # spacing trick
        ("w.e.i.x.i.n", "w.e.i.x.i.n", "weixin"),  # symbol trick
        ("薇 信", "薇 信", "薇信"),
        ("➕V abc123", "加v abc123", "加vabc123"),  # ➕ used as 加
        ("+vx abc", "加vx abc", "加vxabc"),
        ("聯繫我 電話", "联系我 电话", "联系我电话"),  # traditional → simplified
        ("①②③④⑤⑥⑦", "1234567", "1234567"),  # circled digits
        ("❶❸❽❶❷❸❹❺❻❼❽", "13812345678", "13812345678"),  # dingbat digits
        ("0️⃣1️⃣2️⃣3️⃣", "0123", "0123"),  # keycap emoji digits
        ("𝟏𝟐𝟑", "123", "123"),  # mathematical digits
        ("一三八一二三四五六七八", "13812345678", "13812345678"),  # Chinese numerals as a number
        ("壹贰叁肆伍陆柒捌", "12345678", "12345678"),
        ("138 1234 5678", "13812345678", "13812345678"),  # spaced phone number
        ("135-1234-5678", "13512345678", "13512345678"),
        ("qq:12三45", "qq:12345", "qq12345"),
        ("ᴡᴇɪxɪɴ", "weixin", "weixin"),  # small capitals
        ("a\u200bb", "ab", "ab"),  # zero-width space
    ],
)
def test_normalize(raw: str, norm: str, comp: str) -> None:
    assert normalize(raw) == norm
    assert compact(normalize(raw)) == comp


@pytest.mark.parametrize("text", ["我有一个想法", "这么多一二三", "三五成群", "一二三四五六 is six"])
def test_ordinary_chinese_numerals_stay(text: str) -> None:
    assert normalize(text) == text.casefold()


def test_batch_keeps_alignment() -> None:
    texts = ["a b", "聯繫 x", "", "➕v", "has\x00nul"]
    norm, comp = normalize_batch(texts)
    assert norm.split(SEP) == [normalize(t) for t in texts]
    assert comp.split(SEP) == [compact(normalize(t)) for t in texts]
    assert len(norm.split(SEP)) == len(texts)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        # Latin look-alikes of other scripts (Unicode confusables): in a Chinese text all of them,
        ("νх：ｏｆ888 付费", "vx:of888 付费"),
        ("ԚԚ：2947", "qq:2947"),
        # elsewhere only inside a word that is at least half Latin
        ("Теlеgrаm bot", "telegram bot"),
        ("Nеtflіх подписка", "netflix подписка"),
        ("Привет как дела", "привет как дела"),
        ("зaрaбoтoк", "зaрaбoтoк"),
        # parenthesized and full-stop digits, parenthesized numerals and letters join a number
        ("扣扣 ⑷⑻²⁹¹0️⃣6️⃣", "扣扣 4829106"),
        ("ⓠⓠ ：㊅㊂㈡１8️⃣⑼四₀", "qq :63218940"),
        ("⒱⒳ ⒈⒊⒌", "vx 135"),
    ],
)
def test_homoglyphs_and_enclosed_digits(raw: str, norm: str) -> None:
    assert normalize(raw) == norm
