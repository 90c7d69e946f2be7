"""apicontract: the machine-checkable contract for a family of telecom HTTP APIs."""

from pathlib import Path as _Path

__version__ = "0.1.0"

# The wheel carries the suite and the models inside this package (pyproject's force-include); an editable
# install (`pip install -e .`) maps only src/apicontract, so in a checkout they are found where they are
# written: `apicontract.contracts` in contracts/, `apicontract.models` in generated/models/.
_checkout = _Path(__file__).resolve().parents[2]
if not (_Path(__file__).parent / "contracts").is_dir() and (_checkout / "contracts" / "__init__.py").is_file():
    __path__.extend([str(_checkout), str(_checkout / "generated")])  # noqa: F821 (the package's own __path__)
