"""Shared fixtures. Objectives come from gradjit.problems (module-level functions), so
each (objective, stencil, layout) kernel is compiled once for the whole session."""

import os
import shutil

# backend="cuda" runs on Numba's CUDA simulator where no NVIDIA GPU is here (nvidia-smi
# comes with the driver); NUMBA_ENABLE_CUDASIM=0 or 1 chooses. Numba reads it on import.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "0" if shutil.which("nvidia-smi") else "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from gradjit.backends import available

settings.register_profile(
    "gradjit",
    deadline=None,  # the first example of a new kernel includes its compilation
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # reproducible CI runs
)
settings.load_profile("gradjit")


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


@pytest.fixture(params=[name for name in available() if name != "cuda"])
def backend(request):
    """Every backend that can run here: a new backend runs every test that takes this fixture.
    The CUDA backend has its own set (tests/test_cuda.py): it does not take the structured
    options, and on the simulator it runs f in Python, far too slowly for the whole suite."""
    return request.param
