"""Validated records -> domain objects, with every check that spans records.

The checks that need the municipality's policy (period length, criteria,
contribution kinds, overrides) and the ones that compare records (duplicates,
references between people, organisations and agreements) live here and in
`people.py`, `steps.py`, `followups.py` and `phases.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..domain.calendar import max_end_date, period_within_max
from ..domain.errors import InvalidInput
from ..domain.model import Agreement, CriterionAssessment, Organisation, Party
from ..domain.policy import Policy
from ..domain.states import AgreementState, Role
from .bundle import ImportBundle, Where, is_placeholder, placeholder_organisation
from .followups import FollowUpDates, follow_ups
from .locate import record_label
from .people import People, policy_for
from .phases import HAS_BEEN_ACTIVE, PhaseCheck
from .schema import AgreementIn, DocumentFile, OrganisationIn
from .steps import Locate, decisions, economic_plan, signatures


def diarienummer_key(diarienummer: str) -> str:
    """Two diarienummer that differ only in case or spacing name the same case."""
    return " ".join(diarienummer.split()).casefold()


def build_bundle(
    document: DocumentFile, follow_up_dates: FollowUpDates, today: date
) -> ImportBundle:
    """`today`: the day of the import, on which the steps the file claims are replayed
    (phases.py)."""
    bundle = ImportBundle()
    organisations = _organisations(document.organisations or [], bundle)
    people = People(document.people or [], organisations, bundle)
    seen: dict[str, str] = {}
    for index, raw in enumerate(document.agreements or []):
        label = record_label("agreements", index, raw.diarienummer)
        key = diarienummer_key(raw.diarienummer)
        if key in seen:
            raise InvalidInput(
                f"'{raw.diarienummer}' appears twice in the file (also {seen[key]})",
                record=label,
                field="diarienummer",
            )
        seen[key] = label
        agreement = _agreement(raw, label, organisations, people, bundle, follow_up_dates, today)
        bundle.agreements.append(agreement)
    return bundle


def _organisations(records: Sequence[OrganisationIn], bundle: ImportBundle) -> dict[str, int]:
    """Adds the organisations to `bundle`; returns orgnr -> index in the file."""
    index_of: dict[str, int] = {}
    for index, raw in enumerate(records):
        orgnr = raw.organisationsnummer
        if orgnr in index_of:
            raise InvalidInput(
                f"{orgnr} appears twice in the file (also organisations[{index_of[orgnr]}])",
                record=record_label("organisations", index, orgnr),
                field="organisationsnummer",
            )
        index_of[orgnr] = index
        register = raw.forening_register
        bundle.organisations.append(
            Organisation(
                name=raw.name,
                organisationsnummer=orgnr,
                contact_name=raw.contact.name,
                contact_email=raw.contact.email,
                contact_phone=raw.contact.phone,
                forening_registered=bool(register and register.registered),
                forening_register_ref=register.ref if register else None,
                forening_registered_on=register.registered_on if register else None,
            )
        )
    return index_of


def _agreement(
    raw: AgreementIn,
    label: str,
    organisations: dict[str, int],
    people: People,
    bundle: ImportBundle,
    follow_up_dates: FollowUpDates,
    today: date,
) -> Agreement:
    def at(field: str) -> Where:
        return Where(label, field)

    policy = policy_for(raw.municipality, at("municipality"))
    start, end = raw.period.start, raw.period.end
    if end < start:
        raise at("period.end").refuse(f"{end} is before the start {start}")
    if not period_within_max(start, end, policy.max_period_years):
        raise at("period.end").refuse(
            f"{end} is past the maximum of {policy.max_period_years} years for {policy.key} "
            f"(last allowed end {max_end_date(start, policy.max_period_years)})"
        )
    indicators = list(raw.indicators or [])
    for index, indicator in enumerate(indicators):
        if indicator in indicators[:index]:
            raise at(f"indicators[{index}]").refuse(f"'{indicator}' is listed twice")
    agreement = Agreement(
        diarienummer=raw.diarienummer,
        municipality=policy.key,
        committee=raw.committee or policy.committee,
        title=raw.title,
        purpose=raw.purpose,
        target_group=raw.target_group,
        start=start,
        end=end,
        officer=raw.officer,
        state=raw.state,
        description=raw.description,
        goals=raw.goals,
        values=raw.values,
        indicators=indicators,
        first_start=start,
    )
    people.require(raw.officer, (Role.OFFICER,), at("officer"), municipality=policy.key)
    _parties(raw, agreement, organisations, bundle, at)
    _criteria(raw, agreement, policy, people, at)
    _dialogue(raw, agreement, policy, at)
    if raw.economic_plan is not None:
        economic_plan(raw.economic_plan, agreement, policy, at)
    decisions(raw, agreement, people, at)
    signatures(raw, agreement, people, at)
    agreement.follow_ups = follow_ups(raw, agreement, policy, people.require, at, follow_up_dates)
    places = {item.year: f"follow_ups[{i}]" for i, item in enumerate(raw.follow_ups or [])}
    check = PhaseCheck(agreement, policy, label, today, places)
    if any(is_placeholder(p.organisation) for p in agreement.parties):
        bundle.deferred.append(check)  # replayed once the stored parties are known
    else:
        check.run()
    if raw.payouts_released_through is not None:
        if agreement.state not in HAS_BEEN_ACTIVE:
            raise at("payouts_released_through").refuse(
                f"only an agreement that has been active has paid instalments, not one in "
                f"state '{agreement.state.value}'"
            )
        bundle.released_through[agreement.diarienummer] = raw.payouts_released_through
    return agreement


def _parties(
    raw: AgreementIn,
    agreement: Agreement,
    organisations: dict[str, int],
    bundle: ImportBundle,
    at: Locate,
) -> None:
    for index, party in enumerate(raw.parties):
        orgnr, where = party.organisation, at(f"parties[{index}].organisation")
        if any(p.organisation.organisationsnummer == orgnr for p in agreement.parties):
            raise where.refuse(f"{orgnr} is a party twice")
        if orgnr in organisations:
            organisation = bundle.organisations[organisations[orgnr]]
        else:
            bundle.unresolved_orgnrs.setdefault(orgnr, where)
            known = [p.organisation for p in _all_parties(bundle)]
            organisation = next(
                (o for o in known if o.organisationsnummer == orgnr),
                placeholder_organisation(orgnr),
            )
        agreement.parties.append(Party(organisation=organisation, share_bp=party.share))
    total = sum(p.share_bp for p in agreement.parties)
    if total != 10_000:
        raise at("parties").refuse(f"the shares sum to {_percent(total)} %, must be 100 %")


def _all_parties(bundle: ImportBundle) -> list[Party]:
    return [party for agreement in bundle.agreements for party in agreement.parties]


def _percent(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return f"{whole},{rest:02d}" if rest else str(whole)


def _dialogue(raw: AgreementIn, agreement: Agreement, policy: Policy, at: Locate) -> None:
    """Where and when the dialogue was held; start_dialogue's replay (phases.py) checks
    it as the step does (a preset that names a forum needs the meeting's date)."""
    meeting = raw.dialogue
    if meeting is None:
        return
    if agreement.state is AgreementState.INITIATIVE:
        raise at("dialogue").refuse("an agreement in state 'initiative' has held no dialogue yet")
    agreement.dialogue_forum = meeting.forum or policy.dialogue_forum
    agreement.dialogue_held_on = meeting.meeting_on
    agreement.dialogue_minutes_ref = meeting.minutes_ref


def _criteria(
    raw: AgreementIn, agreement: Agreement, policy: Policy, people: People, at: Locate
) -> None:
    for index, item in enumerate(raw.criteria or []):
        where = at(f"criteria[{index}].criterion")
        if policy.criterion(item.criterion) is None:
            known = ", ".join(c.key for c in policy.criteria)
            raise where.refuse(
                f"'{item.criterion}' is not a criterion of {policy.key} (known: {known})"
            )
        if any(a.criterion == item.criterion for a in agreement.assessments):
            raise where.refuse(f"'{item.criterion}' is assessed twice")
        if item.assessed_by is not None:
            people.require(
                item.assessed_by,
                (Role.OFFICER, Role.MANAGER),
                at(f"criteria[{index}].assessed_by"),
                municipality=policy.key,
            )
        agreement.assessments.append(
            CriterionAssessment(
                criterion=item.criterion,
                verdict=item.verdict,
                motivation=item.motivation,
                assessed_by=item.assessed_by,
                assessed_on=item.assessed_on,
            )
        )
