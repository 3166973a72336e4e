"""gradjit: JIT-accelerated numerical differentiation.

Central-difference gradients of your own scalar functions at one point, at every
row of a batch, or at every point of a grid, computed by parallel Numba kernels
and checked against a pure-NumPy reference.
"""

from . import _config  # noqa: F401  (sets Numba's threading layer before any kernel runs)
from . import classic, errors, stencils
from .api import derivative, gradient, grid_gradient
from . import problems
from .errors import CompileError, GradjitError

__version__ = "0.1.0"

__all__ = [
    "gradient",
    "derivative",
    "grid_gradient",
    "classic",
    "errors",
    "stencils",
    "GradjitError",
    "CompileError",
    "__version__",
]
