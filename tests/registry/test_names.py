"""Resource names: the module's doctest runs, and every name it builds parses back."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st
from normreg_common.errors import InvalidArgument
from normreg_registry.domain import names

IDS = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")


def test_the_doctest_of_the_names_module_runs_and_passes() -> None:
    result = doctest.testmod(names)
    assert result.attempted >= 5
    assert result.failed == 0


@given(IDS, st.integers(1, 9999), st.integers(1, 10**15))
def test_every_built_name_parses_back(doc_id: str, version: int, comment: int) -> None:
    assert names.parse_document(names.document(doc_id)) == doc_id
    assert names.parse_version(names.version(doc_id, version)) == (doc_id, version)
    assert names.parse_document_or_version(names.version(doc_id, version)) == (doc_id, version)
    assert names.parse_comment(names.comment(doc_id, version, comment)) == (doc_id, version, comment)
    assert names.parse_campaign(names.campaign(doc_id)) == doc_id


@pytest.mark.parametrize(
    "name",
    ["", "documents/", "documents/Abc", "documents/a/versions/0", "documents/a/extra", "documents/a\n", "reviews/a"],
)
def test_a_malformed_document_name_is_invalid_argument_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        names.parse_document(name, "parent")
    assert err.value.field == "parent"


def test_an_evaluation_of_another_document_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        names.parse_evaluation(names.evaluation("b", 1), "a")
