"""Write the Mermaid diagram of each state machine into docs/diagrams/.

Run `python -m iop_workflow.diagrams` after changing a machine; a test fails
while a committed diagram differs from its definition.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .domain.machines import DEFINITIONS, TITLES, mermaid

DIAGRAM_DIR = Path(__file__).resolve().parent.parent / "docs" / "diagrams"


def render(entity: str) -> str:
    return (
        f"# {TITLES[entity]}\n\n"
        "Generated from `iop_workflow/domain/machines.py` by `python -m iop_workflow.diagrams`;"
        " do not edit.\nGuards are shown in brackets on the arrows.\n\n"
        f"```mermaid\n{mermaid(entity).rstrip()}\n```\n"
    )


def expected() -> dict[Path, str]:
    return {DIAGRAM_DIR / f"{entity}.md": render(entity) for entity in DEFINITIONS}


def main() -> int:
    DIAGRAM_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in expected().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
