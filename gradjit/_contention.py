"""Parallel calls that do not collapse when the machine is busy.

With more runnable threads than cores (a compile, a test suite or other jobs
beside gradjit), a parallel launch waits for its slowest thread, and a thread
that the scheduler has set aside for a time slice stalls the whole call: with
four busy neighbours on two cores, the 10^6-point grid took 20.6 ms on two
threads against 2.8 ms on one, and the 60^3 grid 10.4 ms against 1.6 ms
(``benchmarks/busy_machine.py``, GNU OpenMP). No runtime setting fixed that
without giving up the quiet machine's speed (OpenMP's passive wait, a bounded
spin count and TBB were measured; workqueue is slower than one thread quiet).

So each parallel launch measures itself: the wall time and the calling thread's
CPU time. A thread that got less than half the wall time of CPU was set aside by
the scheduler, and so was, likely, its partner. One such launch can be a hiccup
of a shared machine (a quiet one here showed one every few seconds); when they
make up a good share of the recent launches (:data:`CONTENDED_SHARE` of a
moving average), the cores are oversubscribed.
For the next :data:`BACKOFF_S` seconds, short calls (less than
:data:`SHORT_CALL_S` of single-thread work, estimated from the kernel's last
calls) run on the calling thread alone, where no partner can stall them; then
one call probes the parallel path again. Long calls stay parallel: over many
time slices, two threads still get more of a busy machine than one. Results do
not change: every kernel computes each entry the same way on any number of threads.
"""

from __future__ import annotations

import time

__all__ = ["BACKOFF_S", "SHORT_CALL_S", "contended", "observe"]

#: Seconds short calls run on one thread after contention was seen.
BACKOFF_S = 1.0
#: Single-thread work (seconds) below which a call runs serially while contended.
SHORT_CALL_S = 0.05
#: A launch whose calling thread got less CPU than this share of its wall time was contended.
CPU_SHARE = 0.5
#: Launches shorter than this say nothing (timer granularity, launch costs).
MIN_WALL_S = 1e-4

#: The recent share of contended launches (a moving average with this weight for
#: the newest) that starts a backoff: one contended launch alone can be a hiccup
#: of a shared virtual machine; oversubscription repeats.
RECENT_WEIGHT = 0.2
CONTENDED_SHARE = 0.3

_serial_until = 0.0
_recent_share = 0.0


def contended(serial_seconds: float | None) -> bool:
    """Whether a call of about ``serial_seconds`` of one-thread work (None: not known
    yet) should run on one thread now, the cores having been oversubscribed recently."""
    if time.monotonic() >= _serial_until:
        return False
    return serial_seconds is None or serial_seconds < SHORT_CALL_S


def observe(wall: float, cpu: float) -> None:
    """Record a parallel launch's wall time and its calling thread's CPU time."""
    global _serial_until, _recent_share
    if wall < MIN_WALL_S:
        return
    contended_now = cpu < CPU_SHARE * wall
    _recent_share = (1 - RECENT_WEIGHT) * _recent_share + RECENT_WEIGHT * contended_now
    if contended_now and _recent_share >= CONTENDED_SHARE:
        _serial_until = time.monotonic() + BACKOFF_S
