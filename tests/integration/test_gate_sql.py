"""The payout gate is one rule: the payout run groups payouts by the SQL of its answer
key (rule_sql.answer_key) and asks `gate.decide` once per group. On every combination of
facts, on both databases, the domain's key (`gate.answer_key`) is a function of the SQL
key's columns (`rule_sql.domain_key`), so payouts grouped together get one answer
(tests/unit/test_gate.py proves that of the domain's key)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iop_workflow.adapters.rule_sql import answer_key as sql_answer_key
from iop_workflow.adapters.rule_sql import domain_key
from iop_workflow.domain.gate import GateFacts, GateKind, answer_key_of, decide
from iop_workflow.domain.states import AgreementState, FollowUpState

facts = st.builds(
    GateFacts,
    diarienummer=st.just("KS 2027/1"),
    agreement_state=st.sampled_from(AgreementState),
    origin_year=st.integers(2025, 2030),
    approved=st.booleans(),
    unsigned=st.sampled_from([(), ("kommunen",), ("Föreningen (802000-0001)",)]),
    covers_from=st.dates(date(2025, 1, 1), date(2031, 12, 31)),
    follow_up_state=st.none() | st.sampled_from(FollowUpState),
    follow_up_due=st.none() | st.dates(date(2026, 1, 1), date(2032, 12, 31)),
)


def paying(**changed: object) -> GateFacts:
    """An active, approved and signed agreement's payout of 2028, its follow-up approved:
    the gate holds until one fact is `changed`."""
    base = GateFacts(
        "KS 2027/1",
        AgreementState.ACTIVE,
        2027,
        True,
        (),
        date(2028, 3, 1),
        FollowUpState.APPROVED,
        date(2028, 3, 31),
    )
    return dataclasses.replace(base, **changed)  # type: ignore[arg-type]


# One example of each answer, so that every one is asked whatever hypothesis draws.
EACH_ANSWER = [
    paying(),
    paying(agreement_state=AgreementState.REJECTED),
    paying(approved=False),
    paying(unsigned=("kommunen",)),
    paying(follow_up_state=None),
    paying(follow_up_state=FollowUpState.SUBMITTED),
    paying(covers_from=date(2027, 3, 1), follow_up_state=None),  # the first year
]


AGREEMENT = 7


def sql_key(connection: sa.Connection, f: GateFacts) -> tuple[object, ...]:
    state = None if f.follow_up_state is None else f.follow_up_state.value
    columns = sql_answer_key(
        agreement_id=sa.literal(AGREEMENT, sa.Integer),
        agreement_state=sa.literal(f.agreement_state.value, sa.String),
        approved=sa.literal(f.approved, sa.Boolean),
        unsigned=sa.literal(bool(f.unsigned), sa.Boolean),
        covers_from=sa.literal(f.covers_from, sa.Date),
        origin_year=sa.literal(f.origin_year, sa.Integer),
        follow_up_state=sa.literal(state, sa.String),
        follow_up_due=sa.literal(f.follow_up_due, sa.Date),
    )
    return tuple(connection.execute(sa.select(*columns)).one())


def domain(f: GateFacts) -> tuple[object, ...]:
    return answer_key_of(AGREEMENT, f)


def test_the_answer_key_in_sql_determines_the_domains(backend_url: str) -> None:
    engine = sa.create_engine(backend_url)
    seen: set[GateKind | None] = set()
    try:
        with engine.connect() as connection:

            @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(facts)
            def agree(f: GateFacts) -> None:
                assert domain_key(sql_key(connection, f)) == domain(f), f
                block = decide(f)
                seen.add(None if block is None else block.kind)

            for each in EACH_ANSWER:
                agree = example(each)(agree)
            agree()
    finally:
        engine.dispose()
    # Every answer the domain can give was asked for, the gate holding among them.
    assert seen == {None, *GateKind}


@pytest.mark.parametrize("state", list(AgreementState), ids=str)
def test_each_agreement_state_keys_payouts_in_sql_as_in_the_domain(
    backend_url: str, state: AgreementState
) -> None:
    f = GateFacts("KS 2027/1", state, 2027, True, (), date(2028, 3, 1), None, None)
    engine = sa.create_engine(backend_url)
    try:
        with engine.connect() as connection:
            assert domain_key(sql_key(connection, f)) == domain(f)
    finally:
        engine.dispose()
