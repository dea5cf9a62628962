"""The shape of an import document, as pydantic models.

Only what one record can say about itself is checked here (types, formats,
non-negative amounts). Everything that needs the policy or other records is in
`convert.py`. Every model refuses unknown keys so that a typo never passes
silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool

from ..domain import limits as L
from ..domain.errors import InvalidInput
from ..domain.model import MUNICIPALITY_PARTY
from ..domain.money import parse_sek
from ..domain.orgnr import normalise_orgnr
from ..domain.policy import MonthDay
from ..domain.states import (
    AgreementState,
    ContributionKind,
    DecisionKind,
    DecisionOutcome,
    DocumentKind,
    FollowUpState,
    Verdict,
)

# The supported days and years (domain/limits.py says why).
FIRST_DATE, LAST_DATE = L.FIRST_DAY, L.LAST_DAY
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_COUNT = L.MAX_COUNT


def show(value: object) -> str:
    """A value as it may appear in a message: quoted text, cut short."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def bare_message(error: InvalidInput) -> str:
    """The message of `error` without its "record field 'x': " prefix."""
    text = str(error)
    where = " ".join(
        p for p in (error.record, f"field '{error.field}'" if error.field else None) if p
    )
    return text.removeprefix(f"{where}: ") if where else text


def _text(value: object) -> str:
    if value is None:
        raise ValueError("must not be empty")
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} must be text (put it in quotes in YAML)")
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _optional_text(value: object) -> str:
    return "" if value is None else _text(value)


def _text_of(limit: int, *, optional: bool = False) -> Callable[[object], str]:
    """A validator of text that a column of `limit` characters can hold."""

    def validate(value: object) -> str:
        text = _optional_text(value) if optional else _text(value)
        problem = L.text_problem(text, limit)
        if problem is not None:
            raise ValueError(problem)
        return text

    return validate


def _person_name(value: object) -> str:
    name = _text_of(L.NAME)(value)
    problem = L.reserved_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


def _diarienummer(value: object) -> str:
    text = _text_of(L.DIARIENUMMER)(value)
    problem = L.diarienummer_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def _date(value: object) -> date:
    # datetime is a date subclass; a time of day on an agreement date is a mistake.
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()} is not a calendar date") from None
    else:
        raise ValueError(f"{show(value)} is not a date (write YYYY-MM-DD)")
    problem = L.day_problem(day)
    if problem is not None:
        raise ValueError(problem)
    return day


def _year(value: object) -> int:
    # Support is keyed by year; YAML reads `2027:` as int, JSON would give "2027".
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{show(value)} is not a year")
    problem = L.year_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{show(value)} is not a whole number")
    if not 0 <= value <= _MAX_COUNT:
        raise ValueError(f"{value} must be between 0 and {_MAX_COUNT}")
    return value


def _ore(value: object) -> int:
    try:
        return parse_sek(value, field="amount")
    except InvalidInput as error:
        message = bare_message(error)
        # Some of parse_sek's messages quote the value already, some do not.
        raise ValueError(
            message if message.startswith("'") else f"{show(value)} {message}"
        ) from None


def _share_bp(value: object) -> int:
    # A share is a percentage with at most two decimals: the money parser's rules.
    try:
        basis_points = parse_sek(value, field="share")
    except InvalidInput:
        raise ValueError(f"{show(value)} is not a percentage with at most 2 decimals") from None
    if not 0 < basis_points <= 10_000:
        raise ValueError(f"{show(value)} must be more than 0 and at most 100")
    return basis_points


def _orgnr(value: object) -> str:
    # Unquoted 8020024280 arrives as an int; the digits are what matter.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{show(value)} is not an organisationsnummer (NNNNNN-NNNN)")
    try:
        return normalise_orgnr(value)
    except InvalidInput as error:
        raise ValueError(bare_message(error)) from None


def _party(value: object) -> str:
    if value == MUNICIPALITY_PARTY:
        return MUNICIPALITY_PARTY
    try:
        return _orgnr(value)
    except ValueError:
        raise ValueError(
            f"{show(value)} is neither '{MUNICIPALITY_PARTY}' nor an organisationsnummer"
        ) from None


def _month_day(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} must be MM-DD text in quotes")
    try:
        return str(MonthDay.parse(value, "month_day"))
    except InvalidInput:
        raise ValueError(f"{show(value)} is not a valid MM-DD day") from None


def _email(value: object) -> str:
    text = _text_of(L.EMAIL)(value)
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{show(text)} is not an e-mail address")
    return text


# Text of a TEXT column (free text, at most LONG_TEXT) or of a VARCHAR column's length.
Text = Annotated[str, PlainValidator(_text_of(L.LONG_TEXT))]
OptText = Annotated[str, PlainValidator(_text_of(L.LONG_TEXT, optional=True))]
NameText = Annotated[str, PlainValidator(_text_of(L.NAME))]
PersonName = Annotated[str, PlainValidator(_person_name)]  # not a name of the product
Diarienummer = Annotated[str, PlainValidator(_diarienummer)]  # not one REF takes for an id
TitleText = Annotated[str, PlainValidator(_text_of(L.TITLE))]
MunicipalityKey = Annotated[str, PlainValidator(_text_of(L.MUNICIPALITY))]
PhoneText = Annotated[str, PlainValidator(_text_of(L.PHONE))]
RegisterRef = Annotated[str, PlainValidator(_text_of(L.REGISTER_REF))]
CriterionKey = Annotated[str, PlainValidator(_text_of(L.CRITERION))]
ParagraphText = Annotated[str, PlainValidator(_text_of(L.PARAGRAPH))]
Day = Annotated[date, PlainValidator(_date)]
Year = Annotated[int, PlainValidator(_year)]
Count = Annotated[int, PlainValidator(_count)]
Ore = Annotated[int, PlainValidator(_ore)]
ShareBp = Annotated[int, PlainValidator(_share_bp)]
OrgNr = Annotated[str, PlainValidator(_orgnr)]
PartyKey = Annotated[str, PlainValidator(_party)]
MonthDayText = Annotated[str, PlainValidator(_month_day)]
Email = Annotated[str, PlainValidator(_email)]
RoleName = Literal["officer", "manager", "secretary", "organisation_representative", "auditor"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(Record):
    name: PersonName
    role: RoleName
    email: Email | None = None
    municipality: MunicipalityKey | None = None
    organisation: OrgNr | None = None
    manager: NameText | None = None
    digest: StrictBool | None = None  # one e-mail a day instead of one per notification


class ContactIn(Record):
    name: NameText
    email: Email
    phone: PhoneText | None = None


class ForeningRegisterIn(Record):
    registered: StrictBool
    ref: RegisterRef | None = None
    registered_on: Day | None = None  # the day of the register entry


class OrganisationIn(Record):
    name: NameText
    organisationsnummer: OrgNr
    contact: ContactIn
    forening_register: ForeningRegisterIn | None = None


class PeriodIn(Record):
    start: Day
    end: Day


class PartyIn(Record):
    organisation: OrgNr
    share: ShareBp = 10_000  # percent in the file, basis points here


class CriterionIn(Record):
    criterion: CriterionKey
    verdict: Verdict
    motivation: Text
    assessed_by: NameText | None = None
    assessed_on: Day | None = None


class ContributionIn(Record):
    year: Year
    kind: ContributionKind
    value: Ore
    hours: Count | None = None
    description: OptText = ""


class OtherIncomeIn(Record):
    year: Year
    source: NameText
    amount: Ore


class EconomicPlanIn(Record):
    support: dict[Year, Ore] | None = None
    contributions: list[ContributionIn] | None = None
    other_income: list[OtherIncomeIn] | None = None
    repayment_terms: OptText = ""
    renewal_terms: OptText = ""
    payout_dates: list[MonthDayText] | None = None
    # 1, 2, 4 or 12 (or quarterly, monthly, ...), or a list of dates: domain/payout_plan.py
    payout_plan: int | str | list[Day] | None = None
    report_due: MonthDayText | None = None


class DecisionIn(Record):
    kind: DecisionKind = DecisionKind.ENTRY
    body: NameText | None = None
    meeting_date: Day
    paragraph: ParagraphText
    outcome: DecisionOutcome
    minutes_adjusted: Day | None = None
    recorded_by: NameText | None = None


class SignatureIn(Record):
    party: PartyKey
    signed_on: Day
    signed_by: NameText


class DocumentIn(Record):
    kind: DocumentKind
    arrived: Day
    received_by: NameText | None = None
    note: OptText = ""


class MeetingIn(Record):
    """A meeting of the municipality's forum (Kramfors: Seniorrådet): where and when the
    dialogue was held, or the follow-up reviewed. `forum` defaults to the preset's."""

    forum: NameText | None = None
    meeting_on: Day | None = None
    minutes_ref: RegisterRef | None = None


class FollowUpIn(Record):
    year: Year
    state: FollowUpState = FollowUpState.PLANNED
    documents: list[DocumentIn] | None = None
    submitted_by: NameText | None = None
    submitted_on: Day | None = None
    reviewed_by: NameText | None = None
    reviewed_on: Day | None = None
    return_reason: Text | None = None
    statistics: dict[Text, Count] | None = None
    meeting: MeetingIn | None = None  # the review's meeting (issue 11)


class AgreementIn(Record):
    diarienummer: Diarienummer
    municipality: MunicipalityKey
    committee: NameText | None = None
    title: TitleText
    purpose: OptText = ""
    target_group: OptText = ""
    description: OptText = ""
    goals: OptText = ""
    values: OptText = ""
    indicators: list[Text] | None = None
    officer: NameText
    period: PeriodIn
    state: AgreementState = AgreementState.INITIATIVE
    parties: list[PartyIn] = Field(min_length=1)
    criteria: list[CriterionIn] | None = None
    dialogue: MeetingIn | None = None  # where and when the dialogue was held (issue 11)
    economic_plan: EconomicPlanIn | None = None
    decisions: list[DecisionIn] | None = None
    signatures: list[SignatureIn] | None = None
    follow_ups: list[FollowUpIn] | None = None
    # Instalments due on or before this day were paid before the agreement came
    # into this system: they are recorded as released, never paid again.
    payouts_released_through: Day | None = None


class DocumentFile(Record):
    people: list[PersonIn] | None = None
    organisations: list[OrganisationIn] | None = None
    agreements: list[AgreementIn] | None = None
