from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunyun.adapters.onebot import cqcode
from qunyun.adapters.onebot.errors import OneBotParseError


def test_parses_text_and_codes_with_escapes() -> None:
    segs = cqcode.parse(
        "hi &#91;not a code&#93; &amp; [CQ:at,qq=123][CQ:image,file=a&#44;b.jpg,url=http://x/?a=1&amp;b=2]!"
    )
    assert segs == [
        {"type": "text", "data": {"text": "hi [not a code] & "}},
        {"type": "at", "data": {"qq": "123"}},
        {"type": "image", "data": {"file": "a,b.jpg", "url": "http://x/?a=1&b=2"}},
        {"type": "text", "data": {"text": "!"}},
    ]


def test_code_without_params_and_plain_brackets() -> None:
    assert cqcode.parse("[CQ:shake]") == [{"type": "shake", "data": {}}]
    assert cqcode.parse("[hello] world") == [{"type": "text", "data": {"text": "[hello] world"}}]


@pytest.mark.parametrize("bad", ["[CQ:at,qq=1", "x [CQ:at,qq=1 y", "[CQ:at,qq]", "[CQ:a b,x=1]", "[CQ:,x=1]"])
def test_malformed_codes_raise_a_clear_error(bad: str) -> None:
    with pytest.raises(OneBotParseError, match="CQ code"):
        cqcode.parse(bad)


def test_dumps_escapes_so_text_never_becomes_a_code() -> None:
    segs = [{"type": "text", "data": {"text": "[CQ:at,qq=1] & co"}}, {"type": "face", "data": {"id": "1,2"}}]
    out = cqcode.dumps(segs)
    assert out == "&#91;CQ:at,qq=1&#93; &amp; co[CQ:face,id=1&#44;2]"
    assert cqcode.parse(out) == [
        {"type": "text", "data": {"text": "[CQ:at,qq=1] & co"}},
        {"type": "face", "data": {"id": "1,2"}},
    ]


_text = st.text(min_size=1)
_seg = st.one_of(
    st.builds(lambda t: {"type": "text", "data": {"text": t}}, _text),
    st.builds(
        lambda typ, data: {"type": typ, "data": data},
        st.sampled_from(["at", "image", "face", "reply", "record"]),
        st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(), max_size=3),
    ),
)


def _merge_text(segs: list[dict]) -> list[dict]:
    out: list[dict] = []
    for s in segs:
        if s["type"] == "text" and out and out[-1]["type"] == "text":
            out[-1] = {"type": "text", "data": {"text": out[-1]["data"]["text"] + s["data"]["text"]}}
        else:
            out.append(s)
    return out


@given(st.lists(_seg, max_size=6))
def test_roundtrip(segs: list[dict]) -> None:
    assert cqcode.parse(cqcode.dumps(segs)) == _merge_text(segs)


@given(st.text())
def test_garbage_gives_segments_or_a_clear_error(text: str) -> None:
    try:
        segs = cqcode.parse(text)
    except OneBotParseError as exc:
        assert "CQ code" in str(exc)
        return
    assert all(isinstance(s["type"], str) and isinstance(s["data"], dict) for s in segs)


@given(st.text(alphabet="[]CQ:,=&#;93a1 ", max_size=40))
def test_bracket_soup_never_crashes(text: str) -> None:
    with contextlib.suppress(OneBotParseError):
        cqcode.parse(text)
