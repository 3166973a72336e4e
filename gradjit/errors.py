"""Exceptions raised by gradjit.

Every exception derives from :class:`GradjitError` *and* from the built-in
that describes the kind of mistake, so ``except ValueError`` keeps working in
code that does not know about gradjit.
"""

from __future__ import annotations

import re

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

__all__ = [
    "CacheWarning",
    "CompileError",
    "ComplexValued",
    "DTypeError",
    "DeviceCompileError",
    "FrozenArrayWarning",
    "GradjitError",
    "GridInterrupted",
    "JitDisabled",
    "ObjectiveError",
    "OptionError",
    "OrderError",
    "OutputTooLarge",
    "PatternError",
    "ShapeError",
    "StepError",
]


class GradjitError(Exception):
    """Base class of every exception raised by gradjit."""


class ShapeError(GradjitError, ValueError):
    """An array has the wrong shape or number of dimensions."""


class StepError(GradjitError, ValueError):
    """The finite-difference step ``h`` is not usable."""


class OrderError(GradjitError, ValueError):
    """The stencil order is not one of the supported orders."""


class OptionError(GradjitError, ValueError):
    """A keyword option (backend, threads, indexing, out, ...) is invalid."""


class PatternError(GradjitError, ValueError):
    """A sparsity pattern does not describe F: the wrong shape, or a dependency
    it leaves out (seen as a component that changed where the pattern says it
    cannot, or by ``check=True``)."""


class DTypeError(GradjitError, TypeError):
    """An input is not real-valued numeric data (complex, strings, objects)."""


class ObjectiveError(GradjitError, TypeError):
    """The objective ``f`` is not callable or does not return a scalar."""


class ComplexValued(ObjectiveError):
    """f returns complex numbers for real input: :func:`gradjit.gradient` and
    :func:`gradjit.derivative` differentiate it (real and imaginary parts), the other
    entry points need a real scalar."""

    @classmethod
    def of(cls, name: str, returned: str = "") -> ComplexValued:
        """The error for ``name``, which returned complex numbers (of type ``returned``) for real input."""
        kind = f" ({returned})" if returned else ""
        return cls(f"{name} returns complex numbers{kind} for real input: gradjit.gradient and "
                   "gradjit.derivative differentiate such f; this function needs a real scalar.")

    @staticmethod
    def refused_by_complex_step(name: str) -> ObjectiveError:
        """The error for ``method='complex'`` on such an f: the step reads the imaginary part."""
        return ObjectiveError(f"{name} returns complex numbers for real input; method='complex' needs a real f "
                              "(the complex step reads the imaginary part). Use another method.")


class CompileError(GradjitError, TypeError):
    """Numba could not compile the objective in nopython mode.

    Attributes
    ----------
    function_name : str
        The qualified name of the objective.
    numba_message : str
        The message Numba gave.
    advice : str
        What to do about it (by default: ``backend="numpy"`` runs any callable).
    """

    #: The advice when nothing more specific is known.
    DEFAULT_ADVICE = "backend='numpy' works for any Python callable (slower: one Python call per evaluation)."

    def __init__(self, function_name: str, numba_message: str, advice: str | None = None) -> None:
        self.function_name = function_name
        self.numba_message = numba_message = _ANSI_ESCAPE.sub("", numba_message)
        self.advice = self.DEFAULT_ADVICE if advice is None else advice
        super().__init__(
            f"Numba could not compile {function_name!r} in nopython mode, so the 'numba' backend cannot run it. "
            f"{self.advice} Numba said:\n{numba_message}"
        )

    def __reduce__(self):  # picklable: a multiprocessing worker's exception reaches the parent
        return type(self), (self.function_name, self.numba_message, self.advice)


class DeviceCompileError(CompileError):
    """Numba could not compile the objective as a CUDA device function (``backend="cuda"``)."""

    #: What f may do on the device (the docstring of :mod:`gradjit.backends.cuda`).
    DEFAULT_ADVICE = ("On the GPU f may use arithmetic, math functions, loops and indexing of x and of array arguments, "
                      "but not allocate arrays (np.empty, np.array, whole-array arithmetic such as x * x) or call NumPy's "
                      "array functions, and a vector F returns a tuple of floats; backend='numba' runs f on the CPU.")

    def __init__(self, function_name: str, numba_message: str, advice: str | None = None) -> None:
        super().__init__(function_name, numba_message, advice)
        message = (f"Numba could not compile {function_name!r} for the GPU (backend='cuda'). {self.advice} Numba said:\n"
                   f"{self.numba_message}")
        self.args = (message,)


class JitDisabled(CompileError):
    """``NUMBA_DISABLE_JIT=1`` is set, so the ``"numba"`` backend cannot compile anything
    (a :class:`CompileError`, so the classic drop-ins fall back to NumPy)."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.numba_message = "NUMBA_DISABLE_JIT=1 is set"
        self.advice = "Unset NUMBA_DISABLE_JIT, or pass backend='numpy' to evaluate f in Python."
        GradjitError.__init__(
            self, f"NUMBA_DISABLE_JIT=1 is set in the environment, so the 'numba' backend cannot compile "
            f"{function_name!r} (nothing is wrong with it). {self.advice}")

    def __reduce__(self):
        return type(self), (self.function_name,)


class CacheWarning(UserWarning):
    """The kernel cache directory cannot be written: kernels stay in memory for this process."""


class FrozenArrayWarning(UserWarning):
    """f reads arrays through a closure or a global: Numba copies them into the
    compiled code at the first compile, so later changes to them are not seen."""


class OutputTooLarge(GradjitError, MemoryError):
    """The result would not fit in the memory available; the message gives the
    estimate and the ways out (``out=`` a memmap or zarr array, ``dtype=np.float32``,
    :mod:`gradjit.dask`)."""

    def __init__(self, message: str, needed_bytes: int, available_bytes: int):
        super().__init__(message)
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes

    def __reduce__(self):
        return type(self), (str(self), self.needed_bytes, self.available_bytes)


class GridInterrupted(KeyboardInterrupt):
    """Ctrl-C during a chunked grid evaluation: raised between chunks, with the
    chunks finished so far written to the output.

    Deliberately not a :class:`GradjitError` (an ``Exception``), so that
    ``except Exception`` does not swallow a Ctrl-C.

    Attributes
    ----------
    rows_done : int
        Rows along the result's first grid dimension (``out[:, :rows_done]``)
        that were written completely.
    out
        The partly written output.
    """

    def __init__(self, rows_done: int, out):
        super().__init__(f"interrupted: rows 0..{rows_done} of the grid's first dimension are written")
        self.rows_done = rows_done
        self.out = out

    def __reduce__(self):
        return type(self), (self.rows_done, self.out)
