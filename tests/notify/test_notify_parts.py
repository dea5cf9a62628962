"""The parts on their own: redaction, placeholders, configuration checks, templates."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import pytest
from notify_support import ROOT

from iop_workflow.domain import reminders
from iop_workflow.domain.gate import GateBlock, GateKind
from iop_workflow.domain.states import AgreementState, FollowUpState
from iop_workflow.domain.wording import block_reason
from iop_workflow.notify import NotificationConfigError, parse_targets
from iop_workflow.notify.redact import Redactor, redacted_logger
from iop_workflow.notify.routing import AgreementInfo, Routed, Row
from iop_workflow.notify.secrets import Placeholders
from iop_workflow.notify.templates import has_template, render

EMAIL = """
version: 1
template:
  IOP_SMTP_PASSWORD:
urls:
  - "mailtos://iop:${IOP_SMTP_PASSWORD}@smtp.mjolby.example:587?from=iop@example.com":
      tag: email
"""

KINDS = [
    reminders.REPORT_DUE_SOON,
    reminders.REPORT_OVERDUE,
    "report_returned",
    "follow_up_approved",
    reminders.PAYOUT_BLOCKED,
    reminders.PAYOUT_WARNING,
    reminders.RENEWAL_WINDOW_OPEN,
    reminders.RENEWAL_DEADLINE,
    reminders.AGREEMENT_ENDING,
    "claim_raised",
    reminders.CLAIM_OVERDUE,
    reminders.ESCALATION,
]


def test_redaction_masks_known_secrets_in_every_spelling_and_any_url_password() -> None:
    redact = Redactor(["p@ss:w/rd-123", "abc"])  # "abc" is too short to be a secret
    text = "a p@ss:w/rd-123 b p%40ss%3Aw%2Frd-123 c p%40ss%3Aw%2Frd-123 abc"
    assert redact(text) == "a **** b **** c **** abc"
    assert redact("smtp://user:unknown@host/x") == "smtp://user:****@host/x"


def test_the_redacting_filter_cleans_a_record_before_any_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="apprise")
    with redacted_logger("apprise", Redactor(["topsecret-1"])):
        logging.getLogger("apprise").warning("failed with %s", "topsecret-1")
    assert caplog.messages == ["failed with ****"]


def test_placeholders_need_a_declaration_and_a_value() -> None:
    undeclared = EMAIL.replace("template:\n  IOP_SMTP_PASSWORD:\n", "")
    with pytest.raises(NotificationConfigError, match=r"\$\{IOP_SMTP_PASSWORD\} is not declared"):
        parse_targets(undeclared, environ={"IOP_SMTP_PASSWORD": "x"})
    with pytest.raises(NotificationConfigError, match="set the environment variable"):
        parse_targets(EMAIL, environ={})


def test_placeholders_come_from_the_environment_first_then_the_secret_block() -> None:
    asked: list[str] = []

    def block(name: str) -> dict[str, Any]:
        asked.append(name)
        return {"A": "from-block", "B": "from-block"}

    values = Placeholders({"A": None, "B": None, "C": "default"}, environ={"A": "from-env"},
                          block="iop-notify", load_block=block)  # fmt: skip
    assert [values.value(n, "test") for n in "ABC"] == ["from-env", "from-block", "default"]
    assert asked == ["iop-notify"]  # read once


def test_a_secret_from_a_prefect_secret_block_is_used_and_redacted() -> None:
    """A real Prefect API (the test harness's temporary server) holds the block."""
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        Secret(value={"IOP_SMTP_PASSWORD": "från-prefect-4711"}).save("iop-notify-test")
        targets = parse_targets(EMAIL, environ={}, block="iop-notify-test")

    mailer = targets.mailer("anna.berg@mjolby.example")
    assert mailer.password == "från-prefect-4711"
    assert "från-prefect-4711" not in targets.redact(f"error: {mailer.password}")


def test_the_configuration_is_checked_entry_by_entry() -> None:
    cases = {
        "urls:\n  - 'nope://x'\n": "entry #1 .*was not loaded by apprise",
        "urls:\n  - 'mailto://127.0.0.1?from=a@example.com'\n": "neither the tag 'email'",
        "urls: []\ntag: [\n": "not valid YAML",
        "version: 1\n": "needs a list under 'urls:'",
        (
            "urls:\n  - 'mailto://127.0.0.1?from=a@example.com': {tag: email}\n"
            "  - 'mailto://127.0.0.2?from=a@example.com': {tag: email}\n"
        ): "only one entry may be tagged 'email'",
    }
    for text, message in cases.items():
        with pytest.raises(NotificationConfigError, match=message):
            parse_targets(text, environ={})


def test_each_entry_form_apprise_reads_is_accepted_with_its_tags() -> None:
    targets = parse_targets(
        """
version: 1
tag: iop
urls:
  - mailto://127.0.0.1:2525:
      from: iop@example.com
      tag: email
  - workflows://127.0.0.1:8443/WF/SIG?verify=no&image=no:
      - tag: teams-mjolby
      - tag: teams-kramfors, teams-secretaries
""",
        environ={},
    )
    assert targets.email is not None
    tags = [sorted(c.tags) for c in targets.channels]
    assert tags == [["iop", "teams-mjolby"], ["iop", "teams-kramfors", "teams-secretaries"]]
    mjolby, kramfors = targets.channels
    assert mjolby.wants("mjolby", ["organisation"]) and not mjolby.wants("kramfors", ["officer"])
    assert kramfors.wants("kramfors", ["secretary"])
    assert not kramfors.wants("kramfors", ["officer", "organisation"])
    with pytest.raises(NotificationConfigError, match="not an e-mail address"):
        targets.mailer("a@b.c")


def _routed(kind: str, facts: dict[str, Any]) -> Routed:
    row = Row(7, 3, kind, date(2027, 3, 31), "before_30", ("organisation",), facts, 0,
              datetime(2027, 3, 1))  # fmt: skip
    info = AgreementInfo(3, "Läxhjälp på Öster", "OSN 2026/0142", "mjolby", "Anna Berg",
                         ((1, "Föreningen Öppna Dörren", "info@oppnadorren.example"),))  # fmt: skip
    return Routed(row, info)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ["organisation", "officer", "manager", "secretary", "channel"])
def test_every_kind_has_its_swedish_template_naming_agreement_date_and_link(
    kind: str, role: str
) -> None:
    facts = {"year": 2026, "due": "2027-03-31", "end": "2027-12-31", "deadline": "2027-09-30",
             "amount": "150 000,00 kr", "reason": None, "basis": "oförbrukade medel"}  # fmt: skip
    assert has_template(kind)

    text = render(_routed(kind, facts), role, "https://iop.example.com/")

    assert "OSN 2026/0142" in text.subject
    for expected in ("Läxhjälp på Öster", "Diarienummer: OSN 2026/0142",
                     "Föreningen Öppna Dörren", "Vad behöver göras?",
                     "https://iop.example.com/agreements/3", "Mjölby kommun"):  # fmt: skip
        assert expected in text.body, (kind, role)
    assert any(day in text.body for day in ("2027", "31 mars"))
    assert text.todo and "{" not in text.body


def test_an_unknown_kind_is_still_rendered_not_dropped() -> None:
    text = render(_routed("something_new", {}), "officer", "https://iop.example.com")
    assert "OSN 2026/0142" in text.subject and "something_new" in text.body


def test_a_block_reason_is_told_in_swedish_with_what_unblocks_it() -> None:
    block = GateBlock(
        GateKind.FOLLOW_UP_NOT_APPROVED,
        "follow-up 2026 is overdue (report due 2027-03-31)",
        follow_up_year=2026,
        follow_up_state=FollowUpState.OVERDUE,
        report_due=date(2027, 3, 31),
    )
    reason, unblocks = block_reason({"reason": block.reason, "block": block.facts()})
    assert (
        reason == "uppföljningen för 2026 är försenad (rapporten skulle lämnas senast 31 mars 2027)"
    )
    assert "när uppföljningen för 2026 har godkänts" in unblocks


def test_every_kind_of_block_is_told_in_swedish_from_its_facts_not_its_text() -> None:
    blocks = [
        GateBlock(GateKind.NO_DECISION, "x"),
        GateBlock(GateKind.NOT_SIGNED, "x", unsigned=("municipality", "Föreningen (802000-0001)")),
        GateBlock(GateKind.NOT_PAYING, "x", agreement_state=AgreementState.TERMINATED),
        GateBlock(GateKind.FOLLOW_UP_MISSING, "x", follow_up_year=2026),
    ]
    told = [
        block_reason({"reason": "x", "block": b.facts(), "diarienummer": "OSN 1"}) for b in blocks
    ]
    assert told[0][0].startswith("inget beslut av nämnden")
    assert (
        told[1][0] == "överenskommelsen är inte undertecknad av kommunen, Föreningen (802000-0001)"
    )
    assert told[2][0] == "överenskommelsen OSN 1 har status uppsagd; ingenting betalas ut"
    assert told[3][0] == "det finns ingen uppföljning för 2026"
    assert all("x" != reason and unblocks for reason, unblocks in told)


def test_the_example_configuration_loads_with_its_secrets_from_the_environment() -> None:
    text = (ROOT / "examples" / "apprise.yaml").read_text(encoding="utf-8")
    names = ["IOP_SMTP_PASSWORD", "IOP_TEAMS_WORKFLOW", "IOP_TEAMS_SIGNATURE",
             "IOP_TEAMS_SECRETARIES_WORKFLOW", "IOP_TEAMS_SECRETARIES_SIGNATURE"]  # fmt: skip
    targets = parse_targets(text, environ={name: f"value-of-{name}" for name in names})

    mailer = targets.mailer("anna.berg@mjolby.example")
    assert (mailer.user, mailer.password) == ("iop-utskick", "value-of-IOP_SMTP_PASSWORD")
    assert [sorted(c.tags) for c in targets.channels] == [
        ["teams-mjolby", "teams-officers"],
        ["teams-mjolby", "teams-secretaries"],
    ]
    assert all("value-of" not in c.key for c in targets.channels)


def test_the_import_format_takes_the_digest_choice_and_refuses_it_without_an_address() -> None:
    from iop_workflow.domain.errors import InvalidInput
    from iop_workflow.importing import parse_document

    person = {"name": "Anna Berg", "role": "officer", "municipality": "mjolby"}
    bundle = parse_document({"people": [person | {"email": "a@mjolby.example", "digest": True}]})
    assert [(p.name, p.digest) for p, _ in bundle.people] == [("Anna Berg", True)]
    assert parse_document({"people": [person]}).people[0][0].digest is False
    with pytest.raises(
        InvalidInput, match=r"people\[0\] \(Anna Berg\) field 'digest': needs an email"
    ):
        parse_document({"people": [person | {"digest": True}]})


def test_the_portfolio_summary_cuts_a_long_list_of_stuck_notifications() -> None:
    from iop_workflow.orchestration.artifacts import markdown
    from iop_workflow.service.report import Portfolio, Scope

    scope = Scope("mjolby")
    scope.failed_notifications = [
        {"diarienummer": f"OSN 2026/{i:04d}", "kind": "report_due_soon", "state": "pending",
         "attempts": 0, "subject_date": "2027-03-31", "since": "2027-03-01"}
        for i in range(250)
    ]  # fmt: skip
    text = markdown(Portfolio(date(2027, 3, 5), {"mjolby": scope}), scope)

    assert "## Notifications failed or stuck (250)" in text
    assert "OSN 2026/0199" in text and "OSN 2026/0200" not in text
    assert "- … and 50 more (table artifact `failed-notifications-mjolby`)" in text
