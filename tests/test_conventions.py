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


#: The modules whose ``__all__`` is the public API.
PUBLIC_MODULES = ["gradjit", "gradjit.optim", "gradjit.plot", "gradjit.critical_points", "gradjit.classic",
                  "gradjit.stencils", "gradjit.dask", "gradjit.backends", "gradjit.errors", "gradjit.api", "gradjit.matrices",
                  "gradjit.nb", "gradjit.gradient_check"]

#: numpydoc's checks that the public API must pass: a docstring with a summary
#: (GL08, SS01); for functions also every parameter documented and none
#: invented (PR01, PR02), and a Returns section (RT01). (Classes document their
#: fields as Attributes, which numpydoc's parameter checks do not read.)
ALWAYS = {"GL08", "SS01"}
FUNCTIONS = {"PR01", "PR02", "RT01"}


def _public_objects():
    import importlib

    seen = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and id(obj) not in seen and getattr(obj, "__module__", "").startswith("gradjit"):
                seen.add(id(obj))
                yield f"{module_name}.{name}", obj


@pytest.mark.parametrize("path, obj", list(_public_objects()), ids=lambda value: value if isinstance(value, str) else "")
def test_public_docstrings_pass_numpydoc(path, obj):
    from numpydoc.validate import validate

    wanted = ALWAYS | (FUNCTIONS if inspect.isfunction(obj) else set())
    errors = [f"{code}: {message}" for code, message in validate(path)["errors"] if code in wanted]
    assert not errors, f"{path}: " + "; ".join(errors)


@pytest.mark.parametrize("function", [gradjit.gradient, gradjit.derivative, gradjit.grid_gradient, classic.numerical_diff,
                                      classic.numerical_gradient, classic.gradient_descent], ids=lambda f: f.__name__)
def test_the_main_functions_have_examples(function):
    assert "Examples" in inspect.getdoc(function)
