"""The CUDA device: whether ``backend="cuda"`` can run here, what it runs on, and device arrays.

``backend="cuda"`` needs the ``numba-cuda`` package (``pip install "gradjit[cuda]"``)
and an NVIDIA GPU with its driver, or Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), which runs the same kernels in Python on the CPU
for testing. :func:`missing` says which of them is absent; nothing here imports
``numba.cuda`` before a CUDA backend or a device array is asked for.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

import numba

__all__ = ["as_device_array", "describe", "is_device_array", "missing", "module", "simulated"]


def _installed() -> bool:
    # Numba still ships its own deprecated numba.cuda; gradjit needs the maintained package.
    return importlib.util.find_spec("numba_cuda") is not None


def simulated() -> bool:
    """Whether Numba's CUDA simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(numba.config.ENABLE_CUDASIM)


@cache
def missing() -> str | None:
    """Why ``backend="cuda"`` cannot run here (the package or the GPU), or None when it can."""
    if not _installed():
        return ("it needs the numba-cuda package, which is not installed: pip install \"gradjit[cuda]\" "
                "(on a machine without a GPU, Numba's CUDA simulator runs it for testing: NUMBA_ENABLE_CUDASIM=1).")
    from numba import cuda

    if simulated():
        return None
    try:
        if cuda.is_available():
            return None
    except Exception as exc:  # noqa: BLE001 - a broken driver is reported, not raised
        return f"no usable CUDA GPU: {exc}"
    return ("no CUDA GPU: numba-cuda is installed, but no NVIDIA GPU or driver is visible here "
            "(NUMBA_ENABLE_CUDASIM=1 runs the CUDA backend on Numba's simulator, slowly, for testing).")


def module() -> ModuleType:
    """``numba.cuda``; raises ImportError with :func:`missing`'s reason when it cannot run."""
    reason = missing()
    if reason is not None:
        raise ImportError(reason)
    from numba import cuda

    return cuda


def is_device_array(value: Any) -> bool:
    """Whether ``value`` is a CUDA device array: a ``numba.cuda`` array, or any object
    with ``__cuda_array_interface__`` (CuPy, PyTorch); the simulator's arrays too."""
    if hasattr(value, "__cuda_array_interface__"):
        return True
    # The simulator's device arrays do not carry the interface; they come only from numba.cuda.
    kind = type(value)
    return kind.__name__ == "FakeCUDAArray" and kind.__module__.startswith("numba.cuda.simulator")


def as_device_array(value: Any) -> Any:
    """``value`` (:func:`is_device_array`) as a ``numba.cuda`` device array sharing its memory."""
    cuda = module()
    if simulated() or isinstance(value, cuda.devicearray.DeviceNDArray):
        return value
    return cuda.as_cuda_array(value)


def describe() -> dict[str, Any]:
    """What ``gradjit info`` reports about the device: its name, compute capability and
    memory, the simulator, or why there is none."""
    reason = missing()
    if reason is not None:
        return {"cuda": reason}
    cuda = module()
    if simulated():
        return {"cuda": "Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1): the kernels run in Python on the CPU"}
    device = cuda.get_current_device()
    free, total = cuda.current_context().get_memory_info()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    major, minor = device.compute_capability
    return {"cuda": f"{name}, compute capability {major}.{minor}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free)"}
