"""Tables aligned for Chinese text, readable enum words, identities, JSON for scripts."""

from __future__ import annotations

import json
import subprocess
import sys

from normreg.v1 import document_pb2 as pb
from normreg_cli.enums import KIND, SORT, STATE
from normreg_cli.identity import DevIdentity, parse_as
from normreg_cli.render import clip, display_width, fields, table, to_json


def test_chinese_characters_take_two_columns_and_combining_marks_none() -> None:
    assert display_width("赤峰市abc") == 9
    assert display_width("〔2026〕") == 8
    assert display_width("Cafe\u0301") == 4


def test_table_columns_line_up_on_a_terminal_whatever_the_script() -> None:
    assert table(["名称", "n"], [["赤峰市", "1"], ["ab", "22"]]).splitlines() == [
        "名称    n",
        "------  --",
        "赤峰市  1",
        "ab      22",
    ]


def test_long_cells_are_clipped_by_display_width_and_newlines_flattened() -> None:
    assert clip("赤峰市城市绿化管理办法", 9) == "赤峰市城…"
    assert table(["text"], [["第一条\n第二条"]]).splitlines()[2] == "第一条 第二条"


def test_optional_columns_disappear_when_empty_and_empty_tables_say_so() -> None:
    assert table(["a", "note"], [["1", ""]], optional=["note"]).splitlines() == ["a", "-", "1"]
    assert table(["a"], [], empty="no documents") == "no documents"


def test_fields_align_values_and_leave_out_empty_ones() -> None:
    assert fields([("标题", "办法"), ("state", "in_force"), ("number", "")]) == "标题   办法\nstate  in_force"


def test_enum_words_both_ways() -> None:
    assert KIND.parse("Normative-Document") == "normative_document"
    assert KIND.value("major_decision") == pb.DOCUMENT_KIND_MAJOR_DECISION
    assert STATE.word(pb.VERSION_STATE_IN_FORCE) == "in_force"
    assert STATE.label(pb.VERSION_STATE_REPEALED) == "repealed（已废止）"
    assert STATE.word(pb.VERSION_STATE_UNSPECIFIED) == ""
    assert SORT.parse("promulgated") == "promulgation_date_desc"
    assert STATE.optional(None) == pb.VERSION_STATE_UNSPECIFIED


def test_dev_identity_spec() -> None:
    assert parse_as("drafter,evaluator:alice@市司法局") == DevIdentity(("drafter", "evaluator"), "alice", "市司法局")
    assert parse_as("registrar:reg") == DevIdentity(("registrar",), "reg", "")


def test_json_keeps_chinese_and_proto_field_names_and_every_field() -> None:
    text = to_json(pb.Document(issuing_body="赤峰市人民政府", state=pb.VERSION_STATE_IN_FORCE))
    data = json.loads(text)
    assert '"issuing_body": "赤峰市人民政府"' in text
    assert data["state"] == "VERSION_STATE_IN_FORCE" and data["title"] == "" and data["versions"] == []


def test_the_cli_runs_as_a_module_as_well_as_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "normreg_cli", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "usage: normreg" in done.stdout
