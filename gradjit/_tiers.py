"""Which compiled kernels run a call: fast start or inlined.

Two tiers compute the same numbers, bit for bit (the same kernel source,
no fast-math in either):

``"fast-start"`` (tier 1)
    Kernels that call f through its address (:mod:`gradjit._native`). They do
    not depend on f, so they are compiled once and cached on disk; a new f
    costs only its own compilation (tens of milliseconds). The indirect call
    stops LLVM from inlining f and vectorising across points: 2-4x slower per
    point than tier 2 for cheap f.
``"inline"`` (tier 2)
    Kernels with f inlined and vectorised: the fastest in steady state, but
    compiled for every new f (0.3-1 s, cached on disk for functions defined in
    files).
``"auto"`` (the default)
    Tier 1 until the time spent in it for this f and this kind of kernel,
    plus the estimated time of the call at hand, reaches the estimated cost
    of compiling tier 2 (the rent-or-buy rule: never much more than twice the
    time of the better choice made in hindsight). Then tier 2 is compiled in a
    background thread while the calls go on on tier 1, and used as soon as it
    is ready; a single call estimated to cost more than the compilation
    switches at once, in the foreground. A tier-2 kernel already compiled in
    this process is used at once.

The mode is the ``jit=`` option of every entry point, or the environment
variable ``GRADJIT_JIT`` for the default.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from numba import types

from ._memo import memo_of, owner_of
from ._native import NativeFailure, native_adapter
from ._objective import Compiled, inline_call, native_function

__all__ = ["Choice", "launches", "run", "wait_for_background_compiles"]

#: How many launches ran on each tier in this process (for tests and diagnostics).
launches: Counter = Counter()

#: Initial estimate of compiling a tier-2 kernel (seconds); replaced by measurements.
_INITIAL_COMPILE_SECONDS = 0.4
#: Initial estimate of tier 1's seconds per unit of cost (evaluations of f times d).
_INITIAL_SECONDS_PER_COST = 3e-9

_lock = threading.Lock()
_compile_seconds = _INITIAL_COMPILE_SECONDS
_seconds_per_cost = _INITIAL_SECONDS_PER_COST


class Choice(NamedTuple):
    """What a kernel is launched with on one tier."""

    tier: str  # "fast-start" or "inline"
    call: Any  # the adapter the kernel factory closes over
    args: tuple  # what the kernel receives as args
    args_type: types.Tuple


def _choice(compiled: Compiled, tier: str, args: tuple) -> Choice:
    if tier == "inline":
        return Choice(tier, inline_call(compiled), args, compiled.args_type)
    function = native_function(compiled)
    return Choice(tier, native_adapter, (function, *args), types.Tuple((function.numba_type, *compiled.args_type.types)))


class _Usage:
    """Tier-1 time spent by one f on one kind of kernel, and its switch to tier 2."""

    __slots__ = ("background", "inline", "seconds", "seconds_per_cost")

    def __init__(self) -> None:
        self.inline, self.seconds, self.seconds_per_cost = False, 0.0, None
        self.background: threading.Thread | None = None


def _usage(compiled: Compiled, family: Any) -> _Usage:
    memo = memo_of(owner_of(compiled.native))
    key = ("tier usage", family)
    found = memo.get(key)
    if found is None:
        found = memo.setdefault(key, _Usage())
    return found


def _cached_inline(make_kernel: Callable, compiled: Compiled) -> bool:
    """Whether the tier-2 kernel is compiled already in this process."""
    kernel = make_kernel(inline_call(compiled))
    return bool(getattr(kernel, "_gradjit_launched", False))


def run(compiled: Compiled, mode: str, cost: int, args: tuple, make_kernel: Callable[[Any], Any],
        launch_with: Callable[[Any, Choice], None], prepare: Callable[[Any, Choice], None], *,
        repeatable: bool = True) -> str:
    """Launch ``make_kernel(call)`` on the tier ``mode`` chooses; returns the tier used.

    ``launch_with(kernel, choice)`` launches it; ``prepare(kernel, choice)`` only
    compiles what the launch would (for a compilation in the background). A tier-1
    launch in which f raised is re-run on tier 2, where f's exception surfaces with
    its own message; a launch that is not ``repeatable`` (it updates its inputs in
    place) raises :class:`~gradjit._native.NativeFailure` instead, for the caller.

    With ``"auto"``, a call estimated to cost more on tier 1 than compiling tier 2
    switches at once. Otherwise, once the time spent on tier 1 plus this call's
    reaches that cost, tier 2 is compiled in a background thread while the calls go
    on on tier 1, and used from the first call after it is ready: a loop of small
    calls never waits for the compilation (measured: 1000-point gradients went on at
    195 us a call instead of 125 us while a 0.9 s compilation ran beside them).
    """
    tier = mode
    usage = None
    if mode == "auto":
        usage = _usage(compiled, make_kernel(native_adapter))
        tier = _auto(usage, compiled, cost, args, make_kernel, prepare)
    if tier == "fast-start":
        choice = _choice(compiled, tier, args)
        kernel = make_kernel(choice.call)
        warm = getattr(kernel, "_gradjit_launched", False)  # a first launch may compile or load the kernel
        start = time.perf_counter()
        try:
            launch_with(kernel, choice)
        except NativeFailure:
            if not repeatable:
                raise
        else:
            kernel._gradjit_launched = True
            launches[tier] += 1
            if usage is not None and warm:
                _record(usage, time.perf_counter() - start, cost)
            return tier
    choice = _choice(compiled, "inline", args)
    kernel = make_kernel(choice.call)
    first = not getattr(kernel, "_gradjit_launched", False)
    start = time.perf_counter()
    launch_with(kernel, choice)
    launches["inline"] += 1
    if first:
        kernel._gradjit_launched = True
        if usage is not None:  # the compile's cost (less the kernel's own estimated time), for the next estimates
            rate = usage.seconds_per_cost or _seconds_per_cost
            _record_compile(time.perf_counter() - start - 0.5 * rate * cost)
    return "inline"


def _auto(usage: _Usage, compiled: Compiled, cost: int, args: tuple, make_kernel: Callable, prepare: Callable) -> str:
    if usage.inline or _cached_inline(make_kernel, compiled):
        return "inline"
    estimate = (usage.seconds_per_cost or _seconds_per_cost) * cost
    if estimate >= _compile_seconds:  # this call alone repays the compilation: now
        usage.inline = True
        return "inline"
    if usage.seconds + estimate >= _compile_seconds and usage.background is None:
        choice = _choice(compiled, "inline", args)
        usage.background = threading.Thread(target=_compile_in_background, args=(usage, prepare, make_kernel(choice.call), choice),
                                             name="gradjit-inline-compile", daemon=True)
        usage.background.start()
    return "fast-start"


def _compile_in_background(usage: _Usage, prepare: Callable, kernel: Any, choice: Choice) -> None:
    start = time.perf_counter()
    try:
        prepare(kernel, choice)
    except Exception:  # noqa: BLE001 - tier 2 did not compile: stay on tier 1, which works
        return
    _record_compile(time.perf_counter() - start)
    kernel._gradjit_launched = True
    usage.inline = True


def _record(usage: _Usage, seconds: float, cost: int) -> None:
    global _seconds_per_cost
    usage.seconds += seconds
    usage.seconds_per_cost = seconds / max(cost, 1)
    with _lock:
        _seconds_per_cost = 0.5 * (_seconds_per_cost + usage.seconds_per_cost)


def _record_compile(seconds: float) -> None:
    global _compile_seconds
    with _lock:
        _compile_seconds = 0.5 * (_compile_seconds + max(seconds, 0.05))


def wait_for_background_compiles(compiled: Compiled, make_kernel: Callable) -> None:
    """Wait for the background compilation of this f and kernel family, if any (tests)."""
    thread = _usage(compiled, make_kernel(native_adapter)).background
    if thread is not None:
        thread.join()
