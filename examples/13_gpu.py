"""gradjit on an NVIDIA GPU: ``backend="cuda"``.

1. The seed's gradient field, on a grid whose points the GPU makes from the axes,
   written into a device array.
2. A batch already on the GPU (a ``numba.cuda`` array here; CuPy arrays and
   PyTorch tensors are taken as they are): gradients, Hessians and the Jacobian of
   a tuple-valued F, all left on the device.
3. Gradient descent from many starts, the run's state kept on the device.

    pip install "gradjit[cuda]"
    python examples/13_gpu.py [--side 2000] [--starts 100000] [--iterations 400]

Without a GPU, ``NUMBA_ENABLE_CUDASIM=1`` runs it on Numba's CUDA simulator, on the
CPU in Python: give it small sizes (``--side 16 --starts 8``).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import gradjit
from gradjit import _cuda


def himmelblau(x):
    return (x[0] * x[0] + x[1] - 11.0) ** 2 + (x[0] + x[1] * x[1] - 7.0) ** 2


def rotated_bowl(x, scale):
    return scale * (x[0] - x[1]) ** 2 + (x[0] + x[1] - 1.0) ** 2 + math.cos(x[2])


def spring(x):
    """A vector F: on the device it returns a tuple of floats (no array to allocate)."""
    return x[0] - x[1] * x[1], math.sin(x[0]) * x[2]


def main(side: int, starts: int, iterations: int = 400) -> dict:
    missing = _cuda.missing()
    if missing is not None:
        raise SystemExit(f"backend='cuda' cannot run here: {missing}")
    from numba import cuda

    print(_cuda.describe()["cuda"])

    # 1. The gradient field on a side x side grid, into a device array.
    axis = np.linspace(-5.0, 5.0, side)
    field = cuda.device_array((2, side, side))
    gradjit.grid_gradient(himmelblau, (axis, axis), backend="cuda", out=field)
    on_host = field.copy_to_host()
    reference = gradjit.grid_gradient(himmelblau, (axis, axis), backend="numba")
    grid_difference = float(np.max(np.abs(on_host - reference)))
    print(f"grid {side} x {side}: largest difference from the CPU backend {grid_difference:.1e}")

    # 2. Points already on the device stay there.
    points = cuda.to_device(np.random.default_rng(0).uniform(-1.0, 1.0, size=(starts, 3)))
    g = gradjit.gradient(rotated_bowl, points, args=(4.0,), backend="cuda", order=4)
    H = gradjit.hessian(rotated_bowl, points, args=(4.0,), backend="cuda")
    J = gradjit.jacobian(spring, points, backend="cuda", method="richardson")
    print(f"on the device: gradients {g.shape}, Hessians {H.shape}, Jacobians {J.shape}")
    first_hessian = H[0].copy_to_host()
    print("the first Hessian:\n", np.round(first_hessian, 6))

    # 3. Gradient descent from many starts; each step is one kernel on the device.
    x0 = np.random.default_rng(1).uniform(-5.0, 5.0, size=(starts, 2))
    result = gradjit.minimize(himmelblau, x0, backend="cuda", method="adam", lr=0.05, max_iter=iterations,
                              record=False)
    minima = np.unique(np.round(result.x[result.success], 3), axis=0)
    print(result.message)
    print("the minima found:", minima.tolist())
    return {"grid_difference": grid_difference, "hessian": first_hessian, "minima": minima,
            "success": float(np.mean(result.success))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=16 if _cuda.simulated() else 2000, help="grid points per axis")
    parser.add_argument("--starts", type=int, default=8 if _cuda.simulated() else 100_000, help="starts and points")
    parser.add_argument("--iterations", type=int, default=400, help="descent steps at most")
    options = parser.parse_args()
    main(options.side, options.starts, options.iterations)
