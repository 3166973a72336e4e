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

from ._native import NativeFailure, native_adapter
from ._objective import Compiled, inline_call, native_function

__all__ = ["Choice", "Kernel", "kernel", "launches", "run", "wait_for_background_compiles"]

#: How many launches ran on each tier in this process (for tests and diagnostics).
launches: Counter = Counter()

#: Initial estimate of compiling a tier-2 kernel (seconds); replaced by measurements.
_INITIAL_COMPILE_SECONDS = 0.4
#: Initial estimate of tier 1's seconds per unit of cost (evaluations of f times d).
_INITIAL_SECONDS_PER_COST = 3e-9

_lock = threading.Lock()
_compile_seconds = _INITIAL_COMPILE_SECONDS
_seconds_per_cost = _INITIAL_SECONDS_PER_COST


class Kernel(NamedTuple):
    """A kernel family: ``factory(call, *rest, **options)`` for either tier's ``call``
    (hashable by content, so each f keeps one state per family)."""

    factory: Callable
    rest: tuple = ()
    options: tuple = ()  # sorted (name, value) pairs

    def __call__(self, call: Any) -> Any:
        return self.factory(call, *self.rest, **dict(self.options))


def kernel(factory: Callable, *rest: Any, **options: Any) -> Kernel:
    """The family ``factory(call, *rest, **options)``."""
    return Kernel(factory, rest, tuple(sorted(options.items())))


class Choice(NamedTuple):
    """What a kernel is launched with on one tier."""

    tier: str  # "fast-start" or "inline"
    args: tuple  # what the kernel receives as args
    args_type: types.Tuple


class _Family:
    """One f's state for one kernel family: its kernels on each tier (made once),
    the tier-1 time it has spent, and its switch to tier 2."""

    __slots__ = ("background", "fast", "function", "inline", "inline_kernel", "seconds", "seconds_per_cost")

    def __init__(self, compiled: Compiled, family: Kernel) -> None:
        self.function = native_function(compiled)
        self.fast = family(native_adapter), types.Tuple((self.function.numba_type, *compiled.args_type.types))
        self.inline_kernel = family(inline_call(compiled))
        self.inline = bool(getattr(self.inline_kernel, "_gradjit_launched", False))  # compiled in this process
        self.seconds, self.seconds_per_cost = 0.0, None
        self.background: threading.Thread | None = None


def _family(compiled: Compiled, family: Kernel) -> _Family:
    found = compiled.families.get(family)
    if found is None:
        found = compiled.families.setdefault(family, _Family(compiled, family))
    return found


def run(compiled: Compiled, mode: str, cost: int, args: tuple, family: Kernel,
        launch_with: Callable[[Any, Choice], None], prepare: Callable[[Any, Choice], None], *,
        repeatable: bool = True) -> str:
    """Launch ``family``'s kernel on the tier ``mode`` chooses; returns the tier used.

    ``launch_with(kernel, choice)`` launches it; ``prepare(kernel, choice)`` only
    compiles what the launch would (for a compilation in the background). A tier-1
    launch in which f raised is re-run on tier 2, where f's exception surfaces with
    its own message; a launch that is not ``repeatable`` (it updates its inputs in
    place) raises :class:`~gradjit._native.NativeFailure` instead, for the caller.

    With ``"auto"``, a call estimated to cost more on tier 1 than compiling tier 2
    switches at once. Otherwise, once the time spent on tier 1 plus this call's
    reaches that cost, tier 2 is compiled in a background thread while the calls go
    on on tier 1, and used from the first call after it is ready: a loop of small
    calls never waits for the compilation, though it slows while it runs (about 2x
    for 1000-point gradients, measured by ``benchmarks/compile_profile.py``).
    """
    state = _family(compiled, family)
    tier = _auto(state, cost, args, prepare, compiled) if mode == "auto" else mode
    if tier == "fast-start":
        kernel, args_type = state.fast
        warm = getattr(kernel, "_gradjit_launched", False)  # a first launch may compile or load the kernel
        start = time.perf_counter()
        try:
            launch_with(kernel, Choice(tier, (state.function, *args), args_type))
        except NativeFailure:
            if not repeatable:
                raise
        else:
            kernel._gradjit_launched = True
            launches[tier] += 1
            if mode == "auto" and warm:
                _record(state, time.perf_counter() - start, cost)
            return tier
    kernel = state.inline_kernel
    first = not getattr(kernel, "_gradjit_launched", False)
    start = time.perf_counter()
    launch_with(kernel, Choice("inline", args, compiled.args_type))
    launches["inline"] += 1
    if first:
        kernel._gradjit_launched = True
        if mode == "auto":  # the compile's cost (less the kernel's own estimated time), for the next estimates
            rate = state.seconds_per_cost or _seconds_per_cost
            _record_compile(time.perf_counter() - start - 0.5 * rate * cost)
    return "inline"


def _auto(state: _Family, cost: int, args: tuple, prepare: Callable, compiled: Compiled) -> str:
    if state.inline:
        return "inline"
    estimate = (state.seconds_per_cost or _seconds_per_cost) * cost
    if estimate >= _compile_seconds:  # this call alone repays the compilation: now
        state.inline = True
        return "inline"
    if state.seconds + estimate >= _compile_seconds and state.background is None:
        choice = Choice("inline", args, compiled.args_type)
        state.background = threading.Thread(target=_compile_in_background, args=(state, prepare, choice),
                                             name="gradjit-inline-compile", daemon=True)
        state.background.start()
    return "fast-start"


def _compile_in_background(state: _Family, prepare: Callable, choice: Choice) -> None:
    start = time.perf_counter()
    try:
        prepare(state.inline_kernel, choice)
    except Exception:  # noqa: BLE001 - tier 2 did not compile: stay on tier 1, which works
        return
    _record_compile(time.perf_counter() - start)
    state.inline_kernel._gradjit_launched = True
    state.inline = True


def _record(state: _Family, seconds: float, cost: int) -> None:
    # A busy machine (or a compilation holding the GIL in another thread) can only
    # add time to a call, never take it away: this f's rate is the least one seen,
    # and one measurement moves the prior for new functions by at most 2x.
    global _seconds_per_cost
    state.seconds += seconds
    rate = seconds / max(cost, 1)
    state.seconds_per_cost = rate if state.seconds_per_cost is None else min(state.seconds_per_cost, rate)
    with _lock:
        _seconds_per_cost = _damped(_seconds_per_cost, state.seconds_per_cost)


def _record_compile(seconds: float) -> None:
    global _compile_seconds
    with _lock:
        _compile_seconds = _damped(_compile_seconds, max(seconds, 0.05))


def _damped(estimate: float, measured: float) -> float:
    """The geometric mean of an estimate and a new measurement, moved at most 2x."""
    return estimate * min(max(measured / estimate, 0.25), 4.0) ** 0.5


def wait_for_background_compiles(compiled: Compiled, family: Kernel) -> None:
    """Wait for the background compilation of this f and kernel family, if any (tests)."""
    thread = _family(compiled, family).background
    if thread is not None:
        thread.join()
