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
def test_each_diagram_shows_every_step_with_its_guards(entity: str) -> None:
    text = diagrams.render(entity)
    _, _, transitions = DEFINITIONS[entity]
    for t in transitions:
        guards = " & ".join(c.__name__ for c in t["conditions"])
        label = f"{t['trigger']} [{guards}]" if guards else t["trigger"]
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            # A step that keeps the state (assess, sign, amend, ...) is drawn as a loop.
            dest = source if t["dest"] is None else t["dest"]
            arrow = f"{source.name} --> {dest.name}: {label}"
            assert arrow in text, f"{arrow!r} missing from the {entity} diagram"
