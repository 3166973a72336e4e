"""Project conventions that code review would otherwise have to catch."""

import inspect
import re
from pathlib import Path

import pytest

import gradjit
from gradjit import classic

PACKAGE = Path(gradjit.__file__).parent


def test_numba_flags_are_decided_in_config_only():
    # Every njit outside _config.py takes its options from _config's dictionaries.
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_config.py":
            continue
        for call in re.findall(r"njit\(([^)]*)\)", path.read_text()):
            options = [part.strip() for part in call.split(",") if "=" in part and not part.strip().startswith("**")]
            options = [o for o in options if not o.startswith("inline=")]  # inlining is a per-kernel decision
            assert not options, f"{path.name}: njit({call}) sets flags of its own; use the options in _config.py"


PUBLIC = [gradjit.gradient, gradjit.derivative, gradjit.grid_gradient, classic.numerical_diff,
          classic.numerical_gradient, classic.gradient_descent]


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f.__name__)
def test_public_functions_document_every_parameter(function):
    doc = inspect.getdoc(function)
    assert doc and "Examples" in doc
    for name in inspect.signature(function).parameters:
        assert re.search(rf"\b{name}\b", doc), f"{function.__name__}: parameter {name!r} is not documented"
