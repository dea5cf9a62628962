"""iop-workflow: the lifecycle of IOP agreements (idéburet offentligt partnerskap)."""

__version__ = "0.1.0"
