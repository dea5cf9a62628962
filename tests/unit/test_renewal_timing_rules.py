"""Renewal timing as the guideline words it (issue 11, item 4), as pure rules.

The renewal dialogue is *recommended* in the first two calendar months of the final
year: a person may start it earlier (the audit record says so), the schedule starts it
when the window opens. An agreement whose decision deadline falls before its window
opens (it ends in January-March), or whose deadline passed without a decision, gets
one notice to the officer and their manager instead of the ordinary reminders.
"""

from __future__ import annotations

from datetime import date

import pytest
from factories import OFFICER, POLICIES, SYSTEM, agreement_in, fire_step, refused, rep_of

from iop_workflow.domain import reminders as r
from iop_workflow.domain.deadlines import (
    RENEWAL_DECISION_DEADLINE,
    RENEWAL_WINDOW_CLOSES,
    RENEWAL_WINDOW_OPENS,
    end_dates,
)
from iop_workflow.domain.states import AgreementState as A

# The example: 2027-06-01 – 2028-03-31.
SHORT_START, SHORT_END = date(2027, 6, 1), date(2028, 3, 31)
# An ordinary five-year agreement: window 2031-01-01 – 2031-02-28, deadline 2031-09-30.
END = date(2031, 12, 31)


@pytest.fixture(params=sorted(POLICIES))
def municipality(request: pytest.FixtureRequest) -> str:
    key: str = request.param
    return key


def test_a_short_agreements_deadline_falls_before_its_window(municipality: str) -> None:
    dates = end_dates(SHORT_END, POLICIES[municipality])
    assert dates[RENEWAL_WINDOW_OPENS] == date(2028, 1, 1)
    assert dates[RENEWAL_WINDOW_CLOSES] == date(2028, 2, 29)
    assert dates[RENEWAL_DECISION_DEADLINE] == date(2027, 12, 31)


def test_a_short_agreement_gets_one_notice_instead_of_the_ordinary_reminders(
    municipality: str,
) -> None:
    policy = POLICIES[municipality]
    stages = r.renewal_stages(SHORT_END, policy)
    # Only the notice, on the day the first reminder before the deadline would have come.
    assert stages == [
        r.Stage(date(2027, 11, 1), r.RENEWAL_DEADLINE_MISSED, r.MISSED, (r.OFFICER, r.MANAGER))
    ]
    assert r.renewal_reminder(SHORT_END, date(2027, 10, 31), policy) is None
    before = r.renewal_reminder(SHORT_END, date(2027, 11, 1), policy)
    assert before == (
        date(2027, 12, 31),
        stages[0],
        {
            "end": SHORT_END,
            "deadline": date(2027, 12, 31),
            "window_opens": date(2028, 1, 1),
            "window_closes": date(2028, 2, 29),
            "timing": r.DEADLINE_BEFORE_WINDOW,
        },
    )
    # No ordinary reminder on any day: not when the window opens, nor before the deadline.
    for day in (date(2027, 12, 1), date(2027, 12, 17), date(2028, 1, 1), SHORT_END):
        found = r.renewal_reminder(SHORT_END, day, policy)
        assert found is not None and found[1].kind == r.RENEWAL_DEADLINE_MISSED
        assert (found[0], found[1].stage) == (date(2027, 12, 31), r.MISSED)  # one key
    assert r.renewal_reminder(SHORT_END, date(2028, 4, 1), policy) is None


def test_after_the_deadline_the_same_notice_says_it_has_passed(municipality: str) -> None:
    found = r.renewal_reminder(SHORT_END, date(2028, 1, 1), POLICIES[municipality])
    assert found is not None
    assert found[2]["timing"] == r.DEADLINE_MISSED


def test_an_ordinary_agreement_keeps_its_reminders_then_gets_the_missed_notice(
    municipality: str,
) -> None:
    policy = POLICIES[municipality]

    def stage_on(day: date) -> tuple[str, str] | None:
        found = r.renewal_reminder(END, day, policy)
        return None if found is None else (found[1].kind, found[1].stage)

    assert stage_on(date(2030, 12, 31)) is None
    assert stage_on(date(2031, 1, 1)) == (r.RENEWAL_WINDOW_OPEN, "window_open")
    assert stage_on(date(2031, 8, 1)) == (r.RENEWAL_DEADLINE, "before_60")
    assert stage_on(date(2031, 9, 30)) == (r.RENEWAL_DEADLINE, "before_14")
    assert stage_on(date(2031, 10, 1)) == (r.RENEWAL_DEADLINE_MISSED, r.MISSED)
    assert stage_on(date(2031, 12, 31)) == (r.RENEWAL_DEADLINE_MISSED, r.MISSED)
    assert stage_on(date(2032, 1, 1)) is None
    missed = r.renewal_reminder(END, date(2031, 10, 1), policy)
    assert missed is not None
    assert missed[0] == date(2031, 9, 30)
    assert missed[1].recipients == (r.OFFICER, r.MANAGER)
    assert missed[2]["timing"] == r.DEADLINE_MISSED
    # The ordinary reminders carry no timing facts: their messages are as they were.
    window = r.renewal_reminder(END, date(2031, 1, 1), policy)
    assert window is not None and window[2] == {"end": END, "deadline": date(2031, 9, 30)}


def test_the_timing_status_by_day(municipality: str) -> None:
    policy = POLICIES[municipality]
    assert r.renewal_timing(END, date(2031, 9, 30), policy) is None
    assert r.renewal_timing(END, date(2031, 10, 1), policy) == r.DEADLINE_MISSED
    assert r.renewal_timing(END, date(2032, 1, 1), policy) is None  # the period is over
    assert r.renewal_timing(SHORT_END, SHORT_START, policy) == r.DEADLINE_BEFORE_WINDOW
    assert r.renewal_timing(SHORT_END, date(2027, 12, 31), policy) == r.DEADLINE_BEFORE_WINDOW
    assert r.renewal_timing(SHORT_END, date(2028, 1, 1), policy) == r.DEADLINE_MISSED


def test_the_timing_status_reads_in_swedish(municipality: str) -> None:
    policy = POLICIES[municipality]
    assert r.renewal_timing_text(r.DEADLINE_BEFORE_WINDOW, SHORT_END, policy) == (
        "Sista dag för beslut om förnyelse (2027-12-31) infaller före det rekommenderade "
        "dialogfönstret (2028-01-01 – 2028-02-29): inled dialogen om förnyelse i god tid "
        "före 2027-12-31."
    )
    assert r.renewal_timing_text(r.DEADLINE_MISSED, END, policy) == (
        "Sista dag för beslut om förnyelse (2031-09-30) har passerat utan beslut; "
        "överenskommelsen löper ut 2031-12-31."
    )


def test_the_start_note_says_before_the_window_or_after_the_deadline(municipality: str) -> None:
    policy = POLICIES[municipality]
    assert r.renewal_start_note(END, date(2031, 1, 1), policy) == {}
    assert r.renewal_start_note(END, date(2031, 9, 30), policy) == {}
    assert r.renewal_start_note(END, date(2030, 6, 1), policy) == {
        "note": "started before the recommended window, which opens 2031-01-01",
        "window_opens": "2031-01-01",
        "deadline": "2031-09-30",
    }
    assert r.renewal_start_note(END, date(2031, 10, 1), policy)["note"] == (
        "the renewal decision deadline 2031-09-30 has passed"
    )
    assert r.renewal_start_note(SHORT_END, date(2028, 1, 10), policy)["note"] == (
        "the renewal decision deadline 2027-12-31 has passed"
    )


# --- the step -----------------------------------------------------------------------


def test_an_officer_may_start_the_renewal_dialogue_before_the_window() -> None:
    a = agreement_in(A.ACTIVE)  # 2027-01-01 – 2031-12-31, window opens 2031-01-01
    (change,) = fire_step(a, "start_renewal", actor=OFFICER, today=date(2029, 5, 2))
    assert a.state is A.RENEWAL
    assert change.data["note"] == "started before the recommended window, which opens 2031-01-01"


def test_an_organisation_may_start_it_early_too() -> None:
    a = agreement_in(A.ACTIVE)
    (change,) = fire_step(a, "start_renewal", actor=rep_of(a), today=date(2030, 12, 31))
    assert a.state is A.RENEWAL and "2031-01-01" in change.data["note"]


def test_a_start_in_the_window_notes_nothing() -> None:
    a = agreement_in(A.ACTIVE)
    (change,) = fire_step(a, "start_renewal", actor=OFFICER, today=date(2031, 1, 12))
    assert "note" not in change.data


def test_a_start_after_the_deadline_is_allowed_and_noted() -> None:
    a = agreement_in(A.ACTIVE)
    (change,) = fire_step(a, "start_renewal", actor=OFFICER, today=date(2031, 10, 3))
    assert a.state is A.RENEWAL
    assert change.data["note"] == "the renewal decision deadline 2031-09-30 has passed"


def test_the_dialogue_does_not_start_before_the_current_period() -> None:
    a = agreement_in(A.ACTIVE)  # activated in 2026, four months before its start
    error = refused(a, "start_renewal", actor=OFFICER, today=date(2026, 12, 31))
    assert error.reason == (
        "the current period starts 2027-01-01; the renewal dialogue can start from then "
        "(the recommended window opens 2031-01-01)"
    )
    assert error.guard == "in_final_year"


def test_the_schedule_still_starts_it_only_when_the_window_opens() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(a, "start_renewal", actor=SYSTEM, today=date(2030, 12, 31))
    assert error.reason == "the renewal dialogue opens 2031-01-01, in the agreement's final year"
    (change,) = fire_step(a, "start_renewal", actor=SYSTEM, today=date(2031, 1, 1))
    assert "note" not in change.data
