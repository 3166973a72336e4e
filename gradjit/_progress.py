"""The progress bars of long calls (``progress=True``): tqdm, one of gradjit's dependencies."""

from __future__ import annotations


def bar(total: int, unit: str, *, redraw_every_update: bool = False):
    """A tqdm bar that disappears when closed. ``redraw_every_update`` for few, slow
    updates (grid chunks); otherwise tqdm redraws at most ten times a second
    (descent steps can be thousands a second)."""
    from tqdm.auto import tqdm  # imported on first use: most calls show no bar

    return tqdm(total=total, unit=unit, leave=False, **({"mininterval": 0} if redraw_every_update else {}))
