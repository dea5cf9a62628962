"""The payout gate is one rule: `gate.decide` and its SQL (rule_sql.gate_holds), which
the payout run releases by, give the same answer on the same facts, on both databases."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iop_workflow.adapters.rule_sql import gate_holds
from iop_workflow.domain.gate import GateFacts, GateKind, decide
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


def sql_holds(connection: sa.Connection, f: GateFacts) -> bool:
    state = None if f.follow_up_state is None else f.follow_up_state.value
    holds = gate_holds(
        agreement_state=sa.literal(f.agreement_state.value, sa.String),
        approved=sa.literal(f.approved, sa.Boolean),
        unsigned=sa.literal(bool(f.unsigned), sa.Boolean),
        covers_from=sa.literal(f.covers_from, sa.Date),
        origin_year=sa.literal(f.origin_year, sa.Integer),
        follow_up_state=sa.literal(state, sa.String),
    )
    # NULL (a missing follow-up compared) releases nothing, as False does.
    return bool(connection.execute(sa.select(sa.case((holds, True), else_=False))).scalar_one())


def test_the_gate_in_sql_answers_as_the_domain(backend_url: str) -> None:
    engine = sa.create_engine(backend_url)
    seen: set[GateKind | None] = set()
    try:
        with engine.connect() as connection:

            @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(facts)
            def agree(f: GateFacts) -> None:
                block = decide(f)
                assert sql_holds(connection, f) == (block is None), (f, block)
                seen.add(None if block is None else block.kind)

            for each in EACH_ANSWER:
                agree = example(each)(agree)
            agree()
    finally:
        engine.dispose()
    # Every answer the domain can give was asked for, the gate holding among them.
    assert seen == {None, *GateKind}


@pytest.mark.parametrize("state", list(AgreementState), ids=str)
def test_each_agreement_state_opens_the_gate_in_sql_as_in_the_domain(
    backend_url: str, state: AgreementState
) -> None:
    f = GateFacts("KS 2027/1", state, 2027, True, (), date(2027, 3, 1), None, None)
    engine = sa.create_engine(backend_url)
    try:
        with engine.connect() as connection:
            assert sql_holds(connection, f) == (decide(f) is None)
    finally:
        engine.dispose()
