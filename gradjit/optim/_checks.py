"""Validation of optimizer and schedule hyper-parameters (one message style for all)."""

from __future__ import annotations

import math
from numbers import Integral, Real

from ..errors import OptionError


def _real(value) -> bool:
    """A real number (Python or NumPy, not a bool)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def positive(name: str, value: float) -> float:
    if not _real(value) or not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


def non_negative(name: str, value: float) -> float:
    if not _real(value) or not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def fraction(name: str, value: float, *, upper_inclusive: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``upper_inclusive``)."""
    ok = _real(value) and 0 <= value and (
        value <= 1 if upper_inclusive else value < 1
    )
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise OptionError(f"{name} must be in {interval}; got {value!r}.")
    return float(value)


def count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise OptionError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def seed(value) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, Integral) or value < 0):
        raise OptionError(f"seed must be None or an integer >= 0; got {value!r}.")
    return value


def callable_or_none(name: str, value, signature: str):
    if value is not None and not callable(value):
        raise OptionError(f"{name} must be None or a callable {signature}; got {type(value).__name__}.")
    return value
