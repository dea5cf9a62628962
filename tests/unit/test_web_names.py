"""Every code the agreement page shows has its Swedish name: each notice kind that has a
message template, each decision kind and outcome, each channel a change can come by."""

from __future__ import annotations

from iop_workflow.domain.roles import CHANNELS as ORIGINS
from iop_workflow.domain.states import DecisionKind, DecisionOutcome
from iop_workflow.entrypoints.web import render
from iop_workflow.notify.templates import environment


def test_every_notice_kind_with_a_template_has_a_swedish_name() -> None:
    kinds = {
        name.removesuffix(".j2")
        for name in environment().list_templates()
        if not name.startswith("_") and name != "digest.j2"
    }
    assert kinds and kinds <= set(render.NOTICE_KINDS), kinds - set(render.NOTICE_KINDS)


def test_decisions_and_channels_have_swedish_names() -> None:
    assert {k.value for k in DecisionKind} <= set(render.DECISION_KINDS)
    assert {o.value for o in DecisionOutcome} <= set(render.OUTCOMES)
    assert set(ORIGINS) <= set(render.CHANNELS)
    assert render.named(render.OUTCOMES)("approved") == "bifall"
    assert render.named(render.OUTCOMES)("unknown") == "unknown"  # shown as it is


def test_a_step_is_named_by_its_form_label_and_system_steps_by_their_own() -> None:
    assert render.step_name("approve_follow_up") != "approve_follow_up"
    assert render.step_name("import") == "Importerad"
    assert render.step_name(None) == ""
