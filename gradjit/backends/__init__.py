"""Backends: ``numba`` (parallel kernels) and ``numpy`` (the reference)."""
