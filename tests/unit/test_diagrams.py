"""The committed Mermaid diagrams in docs/diagrams/ match the state machines."""

from __future__ import annotations

import pytest

from iop_workflow import diagrams
from iop_workflow.domain.machines import DEFINITIONS

FIX = "run `python -m iop_workflow.diagrams` and commit docs/diagrams/"


@pytest.mark.parametrize("entity", sorted(DEFINITIONS))
def test_the_committed_diagram_matches_the_state_machine(entity: str) -> None:
    path = diagrams.DIAGRAM_DIR / f"{entity}.md"
    assert path.exists(), f"{path} is missing: {FIX}"
    committed = path.read_text(encoding="utf-8")
    assert committed == diagrams.render(entity), (
        f"{path} differs from the {entity} machine in iop_workflow/domain/machines.py: {FIX}"
    )


def test_every_diagram_the_generator_writes_is_one_per_machine() -> None:
    assert set(diagrams.expected()) == {
        diagrams.DIAGRAM_DIR / f"{entity}.md" for entity in DEFINITIONS
    }


@pytest.mark.parametrize("entity", sorted(DEFINITIONS))
def test_each_diagram_shows_every_state_changing_step_with_its_guards(entity: str) -> None:
    text = diagrams.render(entity)
    _, _, transitions = DEFINITIONS[entity]
    # Steps that keep the state (dest None: assess, sign, amend, receive a document)
    # are not arrows; the library leaves them out of the drawing.
    for t in (t for t in transitions if t["dest"] is not None):
        guards = " & ".join(c.__name__ for c in t["conditions"])
        label = f"{t['trigger']} [{guards}]" if guards else t["trigger"]
        assert label in text, f"{label!r} missing from the {entity} diagram"
