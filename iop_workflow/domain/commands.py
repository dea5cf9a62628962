"""The typed input of every step: one pydantic model (a command) per trigger.

A step's input arrives as a mapping of strings (`--set key=value`, a data file, a
client's form). `StepData` reads it field by field, with the product's own messages
(they are part of the CLI contract); a command declares which fields a step takes,
their types, limits and Swedish label and help, and is filled through `StepData`
by each field's kind, so the declaration and the parsing cannot drift apart.

Pure: pydantic and the domain only (no database, no CLI, no web framework).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import limits
from .errors import InvalidInput
from .money import parse_sek
from .payout_plan import MAX_DATES, PER_YEAR_CHOICES, parse_plan
from .states import AgreementState, DocumentKind, Verdict

if TYPE_CHECKING:
    from .model import Agreement

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)


class StepData:
    """The step's input (`--set key=value`, a data file). Every read names its field.

    Keys that no part of the step reads are refused afterwards, so a typo never
    passes silently. Text that no database can store (a NUL, a lone surrogate) is
    refused at once, in any key or value; text longer than its column when read.
    """

    def __init__(self, raw: Mapping[str, Any] | None, trigger: str) -> None:
        self.raw = dict(raw or {})
        self.trigger = trigger
        self.used: set[str] = set()
        for key, value in self.raw.items():
            self._refuse_unstorable(str(key), key, value)

    def _refuse_unstorable(self, field: str, *parts: Any) -> None:
        for part in parts:
            if isinstance(part, str):
                problem = limits.text_problem(part, None)
                if problem is not None:
                    raise self._bad(field, problem)
            elif isinstance(part, Mapping):
                for key, value in part.items():
                    self._refuse_unstorable(f"{field}.{key}", key, value)
            elif isinstance(part, list):
                self._refuse_unstorable(field, *part)

    def _get(self, key: str, required: bool) -> Any:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                raise InvalidInput("is required", record=self.record, field=key)
            return None
        return value

    @property
    def record(self) -> str:
        return f"step '{self.trigger}'"

    def _bad(self, key: str, message: str) -> InvalidInput:
        return InvalidInput(message, record=self.record, field=key)

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def text(self, key: str, required: bool = False, limit: int = limits.LONG_TEXT) -> str | None:
        """The text of `key`, stripped; refused when longer than `limit` characters
        (the length of the column it is stored in, domain/limits.py)."""
        value = self._get(key, required)
        if value is None:
            return None
        text = str(value).strip()
        problem = limits.text_problem(text, limit)
        if problem is not None:
            raise self._bad(key, problem)
        return text

    def date(self, key: str, required: bool = False) -> dt.date | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                day = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise self._bad(key, f"'{value}' is not a date (YYYY-MM-DD)") from None
        problem = limits.day_problem(day)
        if problem is not None:
            raise self._bad(key, problem)
        return day

    def integer(self, key: str, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._bad(key, f"'{value}' is not a whole number")
        try:
            return int(str(value).strip())
        except ValueError:
            raise self._bad(key, f"'{value}' is not a whole number") from None

    def money(self, key: str, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        return parse_sek(value, record=self.record, field=key)

    def choice(self, key: str, kind: type[E], required: bool = False) -> E | None:
        value = self._get(key, required)
        if value is None:
            return None
        try:
            return kind(str(value).strip())
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise self._bad(key, f"'{value}' is not one of: {allowed}") from None

    def text_list(self, key: str) -> list[str] | None:
        """A list, or comma-separated text, of stripped non-empty items."""
        raw = self._get(key, False)
        if raw is None:
            return None
        items = raw if isinstance(raw, list) else str(raw).split(",")
        found = [str(i).strip() for i in items if str(i).strip()]
        for item in found:
            problem = limits.text_problem(item)
            if problem is not None:
                raise self._bad(key, problem)
        return found

    def prefixed(self, prefix: str) -> dict[str, Any]:
        """`support.2027=300000` style keys (or a nested mapping under `support`)."""
        found: dict[str, Any] = {}
        nested = self.raw.get(prefix)
        if isinstance(nested, Mapping):
            self.used.add(prefix)
            found.update({str(k): v for k, v in nested.items()})
        elif nested is not None:
            raise self._bad(prefix, "must be a mapping")
        for key, value in self.raw.items():
            if key.startswith(prefix + "."):
                self.used.add(key)
                found[key[len(prefix) + 1 :]] = value
        return found

    def payout_plan(self, key: str) -> dict[str, Any] | None:
        """`payout_plan=4` (or quarterly, monthly, ...) or a comma-separated list of
        dates: the plan as it is stored (domain/payout_plan.py)."""
        value = self._get(key, False)
        if value is None:
            return None
        return parse_plan(value, record=self.record, field=key).stored()

    def money_by_year(self, prefix: str) -> dict[int, int]:
        """`support.2027=300 000`: an amount (öre) for each year given."""
        found: dict[int, int] = {}
        for key, value in self.prefixed(prefix).items():
            where = f"{prefix}.{key}"
            if not (key.isascii() and key.isdigit()):
                raise self._bad(where, f"'{key}' is not a year")
            # Checked on its length first: int() of a very long digit string is slow.
            problem = limits.year_problem(int(key) if len(key) <= 4 else limits.LAST_YEAR + 1)
            if problem is not None:
                raise self._bad(where, problem if len(key) <= 4 else f"{key[:12]} is not a year")
            found[int(key)] = parse_sek(value, record=self.record, field=where)
        return found

    def count_by_name(self, prefix: str) -> dict[str, int]:
        """`statistics.deltagare=40`: a count (0 or more) for each name given."""
        found: dict[str, int] = {}
        for key, value in self.prefixed(prefix).items():
            where = f"{prefix}.{key}"
            text = str(value).strip()
            if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
                raise self._bad(where, f"'{value}' is not a count (a whole number, 0 or more)")
            if len(text) > len(str(limits.MAX_COUNT)) or int(text) > limits.MAX_COUNT:
                raise self._bad(where, f"{text[:12]} is more than {limits.MAX_COUNT}")
            found[key] = int(text)
        return found

    def refuse_unused(self) -> None:
        unused = sorted(set(self.raw) - self.used)
        if unused:
            raise self._bad(unused[0], "is not an input of this step")


# --- how a field is declared ----------------------------------------------------------

# The kinds of field StepData can read; a field's kind is kept in its json_schema_extra.
TEXT, DATE, INTEGER, MONEY, CHOICE = "text", "date", "integer", "money", "choice"
TEXT_LIST, MONEY_BY_YEAR, COUNT_BY_NAME = "text_list", "money_by_year", "count_by_name"
PAYOUT_PLAN = "payout_plan"
_MAPPINGS = (MONEY_BY_YEAR, COUNT_BY_NAME)


def _field(kind: str, label: str, help_text: str, required: bool, **constraints: Any) -> Any:
    extra: dict[str, Any] = {"kind": kind}
    if required:
        return Field(title=label, description=help_text, json_schema_extra=extra, **constraints)
    if kind in _MAPPINGS:
        return Field(
            default_factory=dict,
            title=label,
            description=help_text,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(None, title=label, description=help_text, json_schema_extra=extra, **constraints)


def text(
    label: str, help_text: str, *, required: bool = False, limit: int = limits.LONG_TEXT
) -> Any:
    return _field(TEXT, label, help_text, required, max_length=limit)


def day(label: str, help_text: str, *, required: bool = False) -> Any:
    return _field(DATE, label, help_text, required)


def number(label: str, help_text: str, *, required: bool = False) -> Any:
    return _field(INTEGER, label, help_text, required)


def amount(label: str, help_text: str, *, required: bool = False) -> Any:
    return _field(MONEY, label, help_text, required, ge=0)


def choice(label: str, help_text: str, *, required: bool = False) -> Any:
    return _field(CHOICE, label, help_text, required)


def reason_field() -> Any:
    return text("Motivering", "Varför steget tas; sparas i ärendets logg (granskningsspåret).")


def period_start() -> Any:
    return day("Startdatum", "Första dagen i överenskommelsens period; annars gäller den sparade.")


def period_end(help_text: str, *, required: bool = False) -> Any:
    return day("Slutdatum", help_text, required=required)


def support_field() -> Any:
    return _field(
        MONEY_BY_YEAR,
        "Kommunalt stöd per år",
        "Kommunens stöd i kronor för varje år, t.ex. support.2027=300 000; år som inte "
        "anges behåller det belopp som redan finns i den ekonomiska planen.",
        False,
    )


def payout_plan_field(help_text: str) -> Any:
    return _field(
        PAYOUT_PLAN,
        "Utbetalningsplan",
        "Antal utbetalningar per år som nämnden beslutat (1, 2, 4 eller 12) eller en "
        "kommaseparerad lista med utbetalningsdagar (ÅÅÅÅ-MM-DD). " + help_text,
        False,
    )


def body_field() -> Any:
    return text(
        "Beslutande organ",
        "Nämnden som fattade beslutet; annars kommunens nämnd enligt riktlinjerna.",
        limit=limits.NAME,
    )


def meeting_date_field() -> Any:
    return day("Mötesdatum", "Dagen då nämnden fattade beslutet.", required=True)


def paragraph_field(help_text: str) -> Any:
    return text("Paragraf", help_text, required=True, limit=limits.PARAGRAPH)


def minutes_field() -> Any:
    return day("Justeringsdatum", "Dagen då protokollet justerades; inte före mötet.")


# --- the commands ------------------------------------------------------------------------


class Command(BaseModel):
    """A step that takes only a reason (every step takes one)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str | None = reason_field()


class SyncCommand(Command):
    """A step only the schedule sync fires (schedule.py), never a person."""


class AssessCommand(Command):
    criterion: str = text(
        "Kriterium",
        "Nyckeln för ett av kommunens kriterier för IOP (se `iop policy`).",
        required=True,
        limit=limits.CRITERION,
    )
    verdict: Verdict = choice(
        "Bedömning", "Om kriteriet är uppfyllt, delvis uppfyllt eller inte uppfyllt.", required=True
    )
    motivation: str = text(
        "Motivering av bedömningen", "Varför kriteriet bedöms så; visas i ärendet.", required=True
    )


# The dialogue's outcome, as texts the economic plan's step records on the agreement.
DIALOGUE_TEXTS = ("goals", "values", "purpose", "target_group")


class PlanCommand(Command):
    start: dt.date | None = period_start()
    end: dt.date | None = period_end("Sista dagen i överenskommelsens period; annars den sparade.")
    goals: str | None = text("Mål", "Vad partnerskapet ska uppnå, enligt dialogen.")
    values: str | None = text("Värdegrund", "De värden som parterna är överens om.")
    purpose: str | None = text("Syfte", "Varför partnerskapet ingås.")
    target_group: str | None = text("Målgrupp", "Vilka verksamheten vänder sig till.")
    indicators: list[str] | None = _field(
        TEXT_LIST,
        "Indikatorer",
        "Statistiken som den årliga uppföljningen ska redovisa, åtskild med kommatecken.",
        False,
    )
    payout_plan: dict[str, Any] | None = payout_plan_field("Annars gäller den sparade.")

    def given(self) -> dict[str, Any]:
        """What the plan sets on the agreement: the dialogue's texts and indicators that
        were given (an empty value is no value: what is recorded stays)."""
        names = (*DIALOGUE_TEXTS, "indicators")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


class SubmitCommand(Command):
    start: dt.date | None = period_start()
    end: dt.date | None = period_end("Sista dagen i överenskommelsens period; annars den sparade.")
    support: dict[int, int] = support_field()
    payout_plan: dict[str, Any] | None = payout_plan_field("Annars gäller den sparade.")


class MeetingCommand(Command):
    """A step taken in a meeting of the municipality's forum (Kramfors: Seniorrådet):
    the dialogue, and the review of a follow-up. Where the preset names a forum, the
    meeting's date is required (guards.forum_meeting_held); elsewhere all is optional."""

    forum: str | None = text(
        "Forum",
        "Där mötet hölls, t.ex. Seniorrådet; annars det forum som kommunens riktlinjer anger.",
        limit=limits.NAME,
    )
    meeting_on: dt.date | None = day(
        "Mötesdatum",
        "Dagen då mötet hölls; inte efter i dag. Krävs där riktlinjerna anger ett forum "
        "(Kramfors: Seniorrådet).",
    )
    minutes_ref: str | None = text(
        "Protokoll",
        "Mötesprotokollets beteckning, t.ex. SR 2027-03 § 4.",
        limit=limits.REGISTER_REF,
    )


class DecisionCommand(Command):
    body: str | None = body_field()
    meeting_date: dt.date = meeting_date_field()
    paragraph: str = paragraph_field("Paragrafen i nämndens protokoll, t.ex. § 12.")
    minutes_adjusted: dt.date | None = minutes_field()


class SignCommand(Command):
    party: str | None = text(
        "Part",
        "Parten som skriver under: municipality (kommunen) eller organisationens "
        "organisationsnummer; annars den part som den som skriver företräder.",
        limit=limits.PARTY,
    )
    signed_on: dt.date | None = day(
        "Underskriftsdatum", "Dagen då överenskommelsen skrevs under; annars i dag."
    )


class AmendCommand(Command):
    decided_on: dt.date = day("Beslutsdatum", "Dagen då tilläggsavtalet beslutades.", required=True)
    paragraph: str = paragraph_field("Paragrafen i protokollet som beslutade tilläggsavtalet.")
    description: str = text("Beskrivning", "Vad tilläggsavtalet ändrar.", required=True)
    end: dt.date | None = period_end("Periodens nya sista dag; annars behålls slutdatumet.")
    support: dict[int, int] = support_field()
    payout_plan: dict[str, Any] | None = payout_plan_field(
        "Gäller de utbetalningar som inte redan är gjorda; annars behålls planen."
    )


class RenewCommand(Command):
    # The fields are read in this order: the first bad one is the one reported.
    end: dt.date = period_end("Sista dagen i den förnyade perioden.", required=True)
    support: dict[int, int] = support_field()
    payout_plan: dict[str, Any] | None = payout_plan_field(
        "Gäller den förnyade perioden; annars behålls planen."
    )
    body: str | None = body_field()
    meeting_date: dt.date = meeting_date_field()
    paragraph: str = paragraph_field("Paragrafen i nämndens protokoll om förnyelsen.")
    minutes_adjusted: dt.date | None = minutes_field()


class TerminateCommand(Command):
    date: dt.date = day(
        "Uppsägningsdatum", "Dagen då överenskommelsen sägs upp; inom perioden.", required=True
    )


class RaiseClaimCommand(Command):
    amount: int = amount(
        "Belopp", "Beloppet i kronor som ska betalas tillbaka, t.ex. 12 500,50.", required=True
    )
    basis: str = text("Grund", "Varför pengarna ska betalas tillbaka.", required=True)
    organisation: str | None = text(
        "Organisation",
        "Organisationsnumret för den part som ska betala; krävs när överenskommelsen har "
        "flera parter.",
    )


class ComputedClaimCommand(Command):
    """raise_claim on a terminated agreement: the claim is computed pro rata, so the
    step takes no amount of its own."""


class DocumentCommand(Command):
    kind: DocumentKind = choice(
        "Dokumenttyp", "Vilket dokument som har kommit in till uppföljningen.", required=True
    )
    arrived: dt.date | None = day("Ankomstdatum", "Dagen då dokumentet kom in; annars i dag.")
    note: str | None = text("Anteckning", "En anteckning om dokumentet.")


class ReportCommand(Command):
    statistics: dict[str, int] = _field(
        COUNT_BY_NAME,
        "Statistik",
        "Antal för varje indikator som överenskommelsen anger, t.ex. statistics.deltagare=40.",
        False,
    )


class FollowUpTarget(BaseModel):
    year: int = number("År", "Året som uppföljningen gäller.", required=True)


class PayoutTarget(BaseModel):
    payout: int = number("Utbetalning", "Utbetalningens nummer (se `iop show`).", required=True)


class ClaimTarget(BaseModel):
    claim: int = number("Återkrav", "Återkravets nummer (se `iop show`).", required=True)


# The entity a step acts on, other than the agreement itself, is named by one field.
TARGETS: dict[str, type[BaseModel]] = {
    "follow_up": FollowUpTarget,
    "payout": PayoutTarget,
    "claim": ClaimTarget,
}

COMMANDS: dict[str, type[Command]] = {
    "assess_criterion": AssessCommand,
    "start_dialogue": MeetingCommand,
    "reject": Command,
    "withdraw": Command,
    "propose_plan": PlanCommand,
    "back_to_dialogue": Command,
    "submit_for_decision": SubmitCommand,
    "approve_decision": DecisionCommand,
    "reject_decision": DecisionCommand,
    "return_decision": DecisionCommand,
    "sign": SignCommand,
    "activate": Command,
    "amend": AmendCommand,
    "start_renewal": Command,
    "renew": RenewCommand,
    "decline_renewal": Command,
    "end": Command,
    "terminate": TerminateCommand,
    "raise_claim": RaiseClaimCommand,
    "close": Command,
    "open_follow_up": Command,
    "receive_document": DocumentCommand,
    "submit_report": ReportCommand,
    "approve_follow_up": MeetingCommand,
    "return_follow_up": MeetingCommand,
    "mark_report_overdue": Command,
    "cancel_follow_up": Command,
    "reinstate_follow_up": SyncCommand,
    "release_payout": Command,
    "block_payout": Command,
    "cancel_payout": Command,
    "reinstate_payout": SyncCommand,
    "mark_claim_overdue": Command,
    "record_claim_paid": Command,
    "offset_claim": Command,
    "write_off_claim": Command,
}

# What a client shows on the step's button.
LABELS: dict[str, str] = {
    "assess_criterion": "Bedöm ett kriterium",
    "start_dialogue": "Inled dialog",
    "reject": "Avslå initiativet",
    "withdraw": "Dra tillbaka",
    "propose_plan": "Föreslå ekonomisk plan",
    "back_to_dialogue": "Tillbaka till dialog",
    "submit_for_decision": "Lämna till beslut",
    "approve_decision": "Nämnden godkänner",
    "reject_decision": "Nämnden avslår",
    "return_decision": "Nämnden återremitterar",
    "sign": "Skriv under",
    "activate": "Aktivera överenskommelsen",
    "amend": "Registrera tilläggsavtal",
    "start_renewal": "Inled förnyelsedialog",
    "renew": "Förnya överenskommelsen",
    "decline_renewal": "Avstå från förnyelse",
    "end": "Avsluta perioden",
    "terminate": "Säg upp överenskommelsen",
    "raise_claim": "Ställ återkrav",
    "close": "Stäng ärendet",
    "open_follow_up": "Öppna uppföljning",
    "receive_document": "Registrera inkommet dokument",
    "submit_report": "Lämna in rapport",
    "approve_follow_up": "Godkänn uppföljning",
    "return_follow_up": "Begär komplettering",
    "mark_report_overdue": "Markera rapport som försenad",
    "cancel_follow_up": "Ställ in uppföljning",
    "reinstate_follow_up": "Återinför uppföljning",
    "release_payout": "Betala ut",
    "block_payout": "Stoppa utbetalning",
    "cancel_payout": "Ställ in utbetalning",
    "reinstate_payout": "Återinför utbetalning",
    "mark_claim_overdue": "Markera återkrav som förfallet",
    "record_claim_paid": "Registrera återbetalning",
    "offset_claim": "Kvitta återkrav",
    "write_off_claim": "Skriv av återkrav",
}


def command_model(trigger: str) -> type[Command]:
    found = COMMANDS.get(trigger)
    if found is None:
        raise InvalidInput(
            f"TRIGGER: '{trigger}' is not a step; the steps are: {', '.join(COMMANDS)}"
        )
    return found


def command_for(trigger: str, agreement: Agreement) -> type[Command]:
    """The command `trigger` takes on `agreement` as it stands now."""
    if trigger == "raise_claim" and agreement.state is AgreementState.TERMINATED:
        return ComputedClaimCommand
    return command_model(trigger)


# --- reading -----------------------------------------------------------------------------


def kind_of(model: type[BaseModel], name: str) -> str:
    extra = model.model_fields[name].json_schema_extra
    assert isinstance(extra, dict), f"{model.__name__}.{name} is not declared with a kind"
    return str(extra["kind"])


def _enum_of(annotation: Any) -> type[StrEnum]:
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    for option in options or (annotation,):
        if isinstance(option, type) and issubclass(option, StrEnum):
            return option
    raise TypeError(f"{annotation!r} is not a choice of a StrEnum")


def _limit(model: type[BaseModel], name: str) -> int | None:
    for item in model.model_fields[name].metadata:
        if isinstance(item, MaxLen):
            return int(item.max_length)
    return None


def _read(model: type[BaseModel], name: str, data: StepData) -> Any:
    info = model.model_fields[name]
    kind, required = kind_of(model, name), info.is_required()
    if kind == TEXT:
        return data.text(name, required, _limit(model, name) or limits.LONG_TEXT)
    if kind == DATE:
        return data.date(name, required)
    if kind == INTEGER:
        return data.integer(name, required)
    if kind == MONEY:
        return data.money(name, required)
    if kind == CHOICE:
        return data.choice(name, _enum_of(info.annotation), required)
    if kind == TEXT_LIST:
        return data.text_list(name)
    if kind == MONEY_BY_YEAR:
        return data.money_by_year(name)
    if kind == COUNT_BY_NAME:
        return data.count_by_name(name)
    if kind == PAYOUT_PLAN:
        return data.payout_plan(name)
    raise TypeError(f"{model.__name__}.{name}: unknown kind {kind!r}")


def read_command(model: type[M], data: StepData) -> M:
    """`model` filled from `data`, field by field in declaration order: the first bad
    field is refused with `StepData`'s message (`InvalidInput` naming it)."""
    values = {name: _read(model, name, data) for name in model.model_fields}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        # StepData has refused everything the declaration refuses; should the two ever
        # disagree, the caller still gets the one error type the product raises.
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(first["msg"], record=data.record, field=where) from None


def parse_command(trigger: str, raw: Mapping[str, Any]) -> Command:
    """The command of `trigger` from `raw` alone; a key it does not take is refused.

    (The entity a step acts on, `year=`, `payout=` or `claim=`, is named apart: TARGETS.)
    """
    data = StepData(raw, trigger)
    command = read_command(command_model(trigger), data)
    data.refuse_unused()
    return command


# --- what a client is told ---------------------------------------------------------------


def field_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    """One field as a client reads it (JSON-serialisable)."""
    info = model.model_fields[name]
    kind = kind_of(model, name)
    found: dict[str, Any] = {
        "name": name,
        "type": kind,
        "required": info.is_required(),
        "label": info.title,
        "help": info.description,
    }
    limit = _limit(model, name)
    if kind == TEXT and limit is not None:
        found["limits"] = {"max_length": limit}
    elif kind == TEXT_LIST:
        found["limits"] = {"max_length": limits.LONG_TEXT}
    elif kind == DATE:
        found["limits"] = {"min": limits.FIRST_DAY.isoformat(), "max": limits.LAST_DAY.isoformat()}
    elif kind == MONEY:
        found["limits"] = {"min": 0, "decimals": 2, "unit": "SEK"}
    elif kind == MONEY_BY_YEAR:
        found["keys"] = f"{name}.YYYY"
        found["limits"] = {"min_year": limits.FIRST_YEAR, "max_year": limits.LAST_YEAR, "min": 0}
    elif kind == COUNT_BY_NAME:
        found["keys"] = f"{name}.NAME"
        found["limits"] = {"min": 0, "max": limits.MAX_COUNT}
    elif kind == CHOICE:
        found["choices"] = [m.value for m in _enum_of(info.annotation)]
    elif kind == PAYOUT_PLAN:
        found["choices"] = [str(n) for n in PER_YEAR_CHOICES]
        found["limits"] = {"dates": "YYYY-MM-DD,YYYY-MM-DD,...", "max_dates": MAX_DATES}
    return found


def fields_of(model: type[BaseModel]) -> list[dict[str, Any]]:
    return [field_schema(model, name) for name in model.model_fields]


def command_schema(trigger: str) -> dict[str, Any]:
    """The input `trigger` takes: its label and each field (name, type, required,
    Swedish label and help, limits or choices)."""
    model = command_model(trigger)
    return {
        "trigger": trigger,
        "label": LABELS[trigger],
        "command": model.__name__,
        "fields": fields_of(model),
    }


__all__ = [
    "COMMANDS",
    "TARGETS",
    "Command",
    "StepData",
    "command_for",
    "command_schema",
    "parse_command",
    "read_command",
]
