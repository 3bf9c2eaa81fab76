"""The lifecycle table governs: every transition takes its target, its actor kind and its roles from
its row. Each test points a row elsewhere and watches the aggregate follow the table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from normreg_common.errors import FailedPrecondition, PermissionDenied
from normreg_common.principal import REVIEW_SERVICE, SCHEDULER, Role
from normreg_registry.domain import access
from normreg_registry.domain.lifecycle import TRANSITIONS, Action, Actor, State
from normreg_registry.domain.model import Document, Version

from tests.registry.test_domain_lifecycle import (
    DRAFTER,
    PROFILE,
    REGISTRAR,
    SECRETARY,
    approve,
    at,
    in_force_doc,
    new_doc,
    promulgate,
    to_adopted,
)

# For each action: a document one step before it, and the step, which returns the version it moved.
Setup = Callable[[], Document]
Step = Callable[[Document], Version]


def _opened() -> Document:
    doc = new_doc()
    doc.open_comment(DRAFTER, at(), PROFILE, at(1).date(), at(14).date())
    return doc


def _submitted() -> Document:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    return doc


def _awaiting() -> Document:
    doc = _submitted()
    approve(doc, at(2))
    return doc


def _promulgated() -> Document:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    return doc


def _amendment_promulgated() -> Document:
    doc = in_force_doc()
    doc.start_amendment(DRAFTER, at(40), None)
    doc.submit_for_review(DRAFTER, at(41))
    approve(doc, at(42))
    doc.deliberate(SECRETARY, at(43), PROFILE, adopt=True, meeting="m", meeting_date=at(43).date(), reason="")
    promulgate(doc, at(44), seq=2)
    return doc


def _decide(decision: str) -> Step:
    def step(doc: Document) -> Version:
        v = doc.latest
        doc.apply_review_decision(
            decision, version=v.number, review_round=v.review_round, reviewer=REVIEW_SERVICE, review="r", at=at(2)
        )
        return v

    return step


def _clock(days: float, version: int = 1) -> Step:
    def step(doc: Document) -> Version:
        doc.run_clock(SCHEDULER, at(days), PROFILE)
        return doc.version(version)

    return step


def _latest(action: Callable[[Document], object]) -> Step:
    def step(doc: Document) -> Version:
        v = doc.latest
        action(doc)
        return v

    return step


SCENARIOS: dict[Action, tuple[Setup, Step]] = {
    Action.OPEN_COMMENT: (
        new_doc,
        _latest(lambda d: d.open_comment(DRAFTER, at(), PROFILE, at(1).date(), at(14).date())),
    ),
    Action.CLOSE_COMMENT: (_opened, _latest(lambda d: d.close_comment(DRAFTER, at(20), PROFILE))),
    Action.SUBMIT: (new_doc, _latest(lambda d: d.submit_for_review(DRAFTER, at(1)))),
    Action.APPROVE: (_submitted, _decide("APPROVE")),
    Action.RETURN: (_submitted, _decide("RETURN_FOR_REVISION")),
    Action.REJECT: (_submitted, _decide("REJECT")),
    Action.ADOPT: (
        _awaiting,
        _latest(
            lambda d: d.deliberate(
                SECRETARY, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason=""
            )
        ),
    ),
    Action.SEND_BACK: (
        _awaiting,
        _latest(
            lambda d: d.deliberate(
                SECRETARY, at(3), PROFILE, adopt=False, meeting="m", meeting_date=at(3).date(), reason=""
            )
        ),
    ),
    Action.PROMULGATE: (lambda: to_adopted(new_doc()), _latest(lambda d: promulgate(d, at(4)))),
    Action.ENTER_INTO_FORCE: (_promulgated, _clock(34)),
    Action.SUPERSEDE: (_amendment_promulgated, _clock(80, version=1)),
    Action.REPEAL: (in_force_doc, _latest(lambda d: d.repeal(REGISTRAR, at(40), "不再适用", today=at(40).date()))),
    Action.DECLARE_INVALID: (
        in_force_doc,
        _latest(lambda d: d.declare_invalid(REGISTRAR, at(40), "失效", at(40).date())),
    ),
    Action.EXPIRE: (in_force_doc, _clock(34 + 5 * 366)),
    Action.WITHDRAW: (new_doc, _latest(lambda d: d.withdraw(DRAFTER, at(1), "不再需要"))),
}


def test_every_row_of_the_table_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(TRANSITIONS)


@pytest.mark.parametrize("action", list(TRANSITIONS), ids=lambda a: a.value)
def test_a_step_lands_where_its_row_points(action: Action, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, step = SCENARIOS[action]
    doc = setup()
    doc.pop_changes()
    rule = TRANSITIONS[action]
    elsewhere = State.WITHDRAWN if rule.target != State.WITHDRAWN else State.REJECTED
    monkeypatch.setitem(TRANSITIONS, action, dataclasses.replace(rule, target=elsewhere))
    moved = step(doc)
    assert moved.state == elsewhere
    change = next(c for c in doc.changes if c.action == action.value)
    assert change.to_state == elsewhere


@pytest.mark.parametrize("action", list(TRANSITIONS), ids=lambda a: a.value)
def test_a_step_is_refused_from_a_state_its_row_does_not_list(action: Action, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, step = SCENARIOS[action]
    doc = setup()
    before = doc.sequence
    rule = TRANSITIONS[action]
    monkeypatch.setitem(TRANSITIONS, action, dataclasses.replace(rule, sources=frozenset({State.EXPIRED})))
    try:
        step(doc)
    except FailedPrecondition as err:
        assert err.reason == "INVALID_STATE_TRANSITION"
    # Clock-driven steps simply do not happen; people's steps are refused. Either way nothing moved.
    assert all(c.action != action.value for c in doc.changes[before:])


PEOPLE_STEPS = [a for a, r in TRANSITIONS.items() if Actor.PEOPLE in r.actors]
SYSTEM_STEPS = [a for a, r in TRANSITIONS.items() if Actor.PEOPLE not in r.actors]


@pytest.mark.parametrize("action", PEOPLE_STEPS, ids=lambda a: a.value)
def test_the_roles_column_decides_who_takes_a_step(action: Action, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, step = SCENARIOS[action]
    doc = setup()
    rule = TRANSITIONS[action]
    monkeypatch.setitem(TRANSITIONS, action, dataclasses.replace(rule, roles=frozenset({Role.EVALUATOR})))
    with pytest.raises(PermissionDenied) as err:
        step(doc)
    assert err.value.reason == "ROLE_NOT_ALLOWED"


@pytest.mark.parametrize("action", PEOPLE_STEPS, ids=lambda a: a.value)
def test_the_actor_column_keeps_people_from_steps_of_the_system(
    action: Action, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, step = SCENARIOS[action]
    doc = setup()
    rule = TRANSITIONS[action]
    monkeypatch.setitem(TRANSITIONS, action, dataclasses.replace(rule, actors=frozenset({Actor.SCHEDULER})))
    with pytest.raises(PermissionDenied) as err:
        step(doc)
    assert err.value.reason == "ACTOR_NOT_ALLOWED"


@pytest.mark.parametrize("action", SYSTEM_STEPS, ids=lambda a: a.value)
def test_the_actor_column_keeps_the_system_from_steps_of_people(
    action: Action, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, step = SCENARIOS[action]
    doc = setup()
    rule = TRANSITIONS[action]
    monkeypatch.setitem(TRANSITIONS, action, dataclasses.replace(rule, actors=frozenset({Actor.PEOPLE})))
    with pytest.raises(PermissionDenied) as err:
        step(doc)
    assert err.value.reason == "ACTOR_NOT_ALLOWED"


def test_the_role_table_is_read_from_the_lifecycle_and_operations_tables() -> None:
    table = access.role_table()
    assert table[Action.ADOPT.value]["secretary"] is True
    assert table[Action.ADOPT.value]["drafter"] is False
    assert table[access.Op.RECORD_FILING.value]["registrar"] is True
    assert all(row["admin"] for row in table.values())
    assert set(table) == {a.value for a in TRANSITIONS} | {o.value for o in access.OPERATIONS}
