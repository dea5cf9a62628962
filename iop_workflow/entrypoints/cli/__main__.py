"""`python -m iop_workflow.entrypoints.cli`: the `iop` command without its script."""

from .main import main

main()
