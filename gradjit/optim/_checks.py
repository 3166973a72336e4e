"""Validation of optimizer and schedule hyper-parameters (one message style for all)."""

from __future__ import annotations

import math

from ..errors import OptionError


def positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


def non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def fraction(name: str, value: float, *, upper_inclusive: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``upper_inclusive``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value and (
        value <= 1 if upper_inclusive else value < 1
    )
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise OptionError(f"{name} must be in {interval}; got {value!r}.")
    return float(value)


def count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{name} must be an integer >= 1; got {value!r}.")
    return value
