"""Names carry no invisible characters: two issuing bodies, prefixes, recipients or organisations
that look the same are the same, and a reply to a comment refuses control characters like every
other text."""

from __future__ import annotations

import datetime as dt
import unicodedata

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.text import identifier, invisible_characters

from tests.harness import System, field_violations

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066", "\u061c", "\u3164"]


@given(st.text(max_size=30))
def test_an_accepted_name_has_no_invisible_character_and_is_nfc_with_single_spaces(text: str) -> None:
    try:
        name = identifier(text)
    except ValueError:
        assert invisible_characters(unicodedata.normalize("NFC", text))
        return
    assert invisible_characters(name) == []
    assert name == unicodedata.normalize("NFC", name) == name.strip()
    assert "  " not in name and "\u3000" not in name and "\u00a0" not in name


@given(st.text(max_size=40) | st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_the_invisible_characters_of_a_text_are_those_of_its_categories_or_blank_letters(text: str) -> None:
    blank = "\u115f\u1160\u2800\u3164\uffa0"
    expected = [
        f"U+{ord(ch):04X}"
        for ch in text
        if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
        or ch in blank
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U000e0100" <= ch <= "\U000e01ef"
    ]
    assert invisible_characters(text) == expected


@pytest.mark.parametrize("hidden", INVISIBLE)
def test_every_invisible_character_is_refused_in_a_name(hidden: str) -> None:
    with pytest.raises(ValueError, match="invisible"):
        identifier(f"赤峰市{hidden}人民政府")


def test_spaces_of_every_kind_become_one_ascii_space() -> None:
    assert identifier("  赤峰市\u3000人民政府\u00a0 办公室 ") == "赤峰市 人民政府 办公室"


def _create(issuing_body: str = "赤峰市人民政府", prefix: str = "赤政规") -> rpb.CreateDocumentRequest:
    return rpb.CreateDocumentRequest(
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title="赤峰市共享单车停放管理办法",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body=issuing_body,
        number_prefix=prefix,
    )


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_create(issuing_body="赤峰市\u200b人民政府"), "issuing_body"),
        (_create(issuing_body="\u202e府政民人市峰赤"), "issuing_body"),
        (_create(prefix="赤\u200d政规"), "number_prefix"),
        (_create(prefix="赤政规\ufeff"), "number_prefix"),
    ],
)
async def test_a_name_with_an_invisible_character_is_invalid_argument(
    system: System, request_: rpb.CreateDocumentRequest, field: str
) -> None:
    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await drafter.CreateDocument(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(caught.value) == [field]


@pytest.mark.parametrize("reply", ["谢谢\x00", "收到\x07意见", "\x1b[2J"])
async def test_a_reply_to_a_comment_refuses_control_characters(system: System, reply: str) -> None:
    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))
    doc = await drafter.CreateDocument(_create())
    today = system.clock.now().date()
    await drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14)))
    )
    comment = await system.stub("registry").SubmitComment(
        rpb.SubmitCommentRequest(name=doc.name, text="建议增加停放点")
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await drafter.ReplyToComment(rpb.ReplyToCommentRequest(name=comment.name, reply=reply))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(caught.value) == ["reply"]
    listed = await drafter.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert [c.reply for c in listed.comments] == [""]
