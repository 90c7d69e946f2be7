"""apicontract: the machine-checkable contract for a family of telecom HTTP APIs."""

__version__ = "0.1.0"
