"""Shared fixtures. Objectives come from gradjit.problems (module-level functions), so
each (objective, stencil, layout) kernel is compiled once for the whole session."""

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


@pytest.fixture(params=available())
def backend(request):
    """Every backend that can run here: a new backend runs every test that takes this fixture."""
    return request.param
