from __future__ import annotations

import io
from datetime import UTC, datetime

import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from qunyun.events import Event, Segment, SegmentType
from qunyun.features.moderation import DetectContext, Verdict, detect, detect_many
from qunyun.features.moderation.config import SpamRulesConfig
from qunyun.features.moderation.rules import Finding


def test_detect_shape() -> None:
    v = detect("加 V 信 abc123 兼职日结，日赚300")
    assert isinstance(v, Verdict)
    assert v.label == "spam" and v.is_spam and 0.5 <= v.score <= 1
    assert "contact:wechat" in v.reasons and any(r.startswith("model:") for r in v.reasons)
    assert set(v.to_dict()) == {"label", "score", "reasons"}
    ham = detect("明天下午3点在302会议室开会")
    assert ham.label == "ham" and ham.score < 0.5


def test_detect_many_matches_detect() -> None:
    texts = ["hello", "vx: abc123 兼职", "", "see https://help.ubuntu.com", "加群 123456789 出售"]
    many = detect_many(texts)
    assert [v.label for v in many] == [detect(t).label for t in texts]
    assert detect_many([]) == []


def test_context_mentions_newcomer_extra_and_config() -> None:
    text = "大家看看这个 shop-deal.top"
    base = detect(text)
    mass = detect(text, context=DetectContext(mentions=10))
    assert "mention:mass" in mass.reasons and mass.score > base.score
    newcomer = detect(text, context=DetectContext(newcomer=True))
    assert "newcomer" in newcomer.reasons and newcomer.score > base.score
    flood = detect("hi", context=DetectContext(extra=[Finding("flood:repeat", 3.0, "3x")]))
    assert "flood:repeat" in flood.reasons
    own = detect("出外挂便宜", context=DetectContext(config=SpamRulesConfig(keywords=["外挂"])))
    assert own.is_spam and "keyword:外挂" in own.reasons
    rules_only = detect("hello there", context=DetectContext(config=SpamRulesConfig(use_model=False)))
    assert rules_only.label == "ham" and not any(r.startswith("model:") for r in rules_only.reasons)


def test_qr_invite_in_event_image(tmp_path) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    segno.make("https://qm.qq.com/q/AbCdEf").save(buf, kind="png", scale=6)
    path = tmp_path / "qr.png"
    path.write_bytes(buf.getvalue())
    event = Event(
        platform="qq", group_id="g", message_id="1", user_id="u", time=datetime(2026, 1, 1, tzinfo=UTC),
        text="看图", segments=[Segment(type=SegmentType.IMAGE, data={"file": str(path)})],
    )  # fmt: skip
    v = detect(event.plain_text(), context=DetectContext.from_event(event))
    assert v.is_spam and "qr:invite" in v.reasons


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=8))
def test_garbage_never_crashes(texts: list[str]) -> None:
    verdicts = detect_many(texts)
    assert len(verdicts) == len(texts)
    for v in verdicts:
        assert 0.0 <= v.score <= 1.0
        assert v.label in ("spam", "ham")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_single_garbage(text: str) -> None:
    v = detect(text)
    assert 0.0 <= v.score <= 1.0


def test_parallel_workers_match_single_process() -> None:
    from qunyun.features.moderation.detector import PARALLEL_MIN, auto_workers, get_detector

    base = ["hello", "vx: abc123 兼职", "see https://help.ubuntu.com", "加群 123456789 出售", "ok 👍"]
    texts = [f"{t} {i % 97}" for i, t in enumerate(base * (2 * PARALLEL_MIN // len(base) + 1))]
    det = get_detector()
    single = det.detect_many(texts)
    double = det.detect_many(texts, workers=2)
    assert [(v.label, round(v.score, 9), v.reasons) for v in double] == [
        (v.label, round(v.score, 9), v.reasons) for v in single
    ]
    assert 1 <= auto_workers() <= 2


def test_label_many_and_label_chunks_match_detect_many() -> None:
    """The columnar bulk form gives the same decisions, in one process, two, and pipelined."""
    from qunyun.features.moderation.detector import PARALLEL_MIN, get_detector

    base = ["hello", "vx: abc123 兼职", "see https://help.ubuntu.com", "加群 123456789 出售", "ok 👍", ""]
    texts = [f"{t} {i % 89}" for i, t in enumerate(base * (2 * PARALLEL_MIN // len(base) + 1))]
    det = get_detector()
    want = [(v.is_spam, round(v.score, 9), ";".join(v.reasons)) for v in det.detect_many(texts)]
    for workers in (1, 2):
        labels = det.label_many(texts, workers=workers)
        assert len(labels) == len(texts)
        got = list(zip(labels.spam, [round(s, 9) for s in labels.scores], labels.reasons, strict=True))
        assert got == want
        chunks = [(i, texts[i : i + 1000]) for i in range(0, len(texts), 1000)]
        piped = list(det.label_chunks(iter(chunks), workers=workers))
        assert [i for i, _ in piped] == [i for i, _ in chunks]  # order kept
        flat = [
            (sp, round(sc, 9), why)
            for _, lab in piped
            for sp, sc, why in zip(lab.spam, lab.scores, lab.reasons, strict=True)
        ]
        assert flat == want
    assert det.label_many([]).spam == []


def test_structural_rules_are_not_vetoed_by_an_out_of_domain_model() -> None:
    """The model has never seen Chinese commercial SMS and scores such ads near 0; where a rule
    recognises the shape of an ad (promotion, quiet ad, refund scam) its "ham" counts at most -2."""
    ads = [
        "红星美凯龙家具大促，沙发床垫满xxxx送xxxx，签单即送价值xxx元精美礼品。",
        "蚂蚁搬家，居民搬家、公司搬迁、钢琴搬运、长途搬家，电话：xxx-xxx-xxxx",
        "【淘宝客服】您购买的商品因质量问题已下架，我们将为您办理双倍退款，请联系客服：0571-26839475",
    ]
    for text, verdict in zip(ads, detect_many(ads), strict=True):
        assert verdict.is_spam, (text, verdict.reasons)
    ham = [
        "【中通快递】快递员李师傅正在为您派送包裹，联系电话：13867251094。",
        "据悉，国庆期间全市商场满xxx减xx活动带动销售额同比增长xx%。",
        "帮我买点鸡蛋、牛奶、面包，到了给我打电话",
    ]
    for text, verdict in zip(ham, detect_many(ham), strict=True):
        assert not verdict.is_spam, (text, verdict.reasons)


def test_the_models_spam_vote_on_long_chinese_text_counts_no_more_than_no_model() -> None:
    """Long Chinese business mail looks like spam to a model trained on short QQ chat; there the
    rules decide. An English phishing mail under a 主题： line stays the model's to judge."""
    import numpy as np

    from qunyun.features.moderation.detector import LONG_CJK_CHARS, NO_MODEL_LOGIT, _cap_long_chinese

    business = "主题：关于购买办公用品的申请 王总：行政部本月需要采购以下办公用品，" * 8
    english = "主题：Your account has been limited. Dear Member, please verify your identity at once. " * 4
    short = "出一个号 40r 私聊"
    assert len(business) > LONG_CJK_CHARS and len(english) > LONG_CJK_CHARS
    base = np.array([3.0, 3.0, 3.0, -3.0])
    assert _cap_long_chinese(base, [business, english, short, business]) == [0]
    assert base.tolist() == [NO_MODEL_LOGIT, 3.0, 3.0, -3.0]  # a "ham" vote is kept
    verdict = detect(business)
    assert "model:capped" in verdict.reasons  # the review queue and the preview say why
