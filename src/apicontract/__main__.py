"""`python -m apicontract`, the same as the `apicontract` command."""

from apicontract.cli import run

run()
