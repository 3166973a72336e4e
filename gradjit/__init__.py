"""gradjit: JIT-accelerated numerical differentiation.

Finite-difference gradients, Hessians and Jacobians of your own functions at
one point, at every row of a batch, or at every point of a grid: central
stencils of orders 2 to 8, one-sided stencils, Richardson extrapolation and
the complex step (:data:`gradjit.stencils.METHODS`), computed by parallel
Numba kernels and checked against a pure-NumPy reference and a textbook oracle.
Backends are listed by :func:`gradjit.backends.available`. Structured problems
(sparse Jacobians, functions given as sums of terms) are differentiated by
column groups (:mod:`gradjit.structured`, :class:`gradjit.Sparsity`). Your own
``@numba.njit`` code calls the compiled entry points of :mod:`gradjit.nb`.
"""

from . import (
    _config,  # noqa: F401  (sets Numba's threading layer before any kernel runs)
    classic,
    errors,
    nb,
    optim,
    problems,
    stencils,
)
from .api import derivative, gradient, grid_gradient, jac
from .errors import CompileError, GradjitError
from .gradient_check import GradientCheck, check_gradient
from .matrices import hessian, jacobian
from .optim import OptimizeResult, minimize
from .sparsity import Sparsity

__version__ = "0.1.0"


def __getattr__(name: str):
    # gradjit.plot imports matplotlib: loaded on first use, not by ``import gradjit``.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'gradjit' has no attribute {name!r}")


__all__ = [
    "CompileError",
    "GradientCheck",
    "GradjitError",
    "OptimizeResult",
    "Sparsity",
    "__version__",
    "check_gradient",
    "classic",
    "derivative",
    "errors",
    "gradient",
    "grid_gradient",
    "hessian",
    "jac",
    "jacobian",
    "minimize",
    "nb",
    "optim",
    "plot",
    "problems",
    "stencils",
]
