"""Helpers the strategy modules share (not strategies themselves)."""

from __future__ import annotations

from hypothesis import strategies as st

from ._once import once
from .lattice import boxes, offlattice_boxes


def count_of(draw, n, default) -> int:
    """``n`` itself, or drawn from it when it is a strategy (``default`` when None)."""
    fixed = isinstance(n, int)
    return n if fixed else draw(default if n is None else n)


def related_boxes(n: int, lattice: bool, degenerate: bool = True) -> st.SearchStrategy:
    return (
        once(boxes, n, lattice=True, degenerate=degenerate)
        if lattice
        else once(offlattice_boxes, n, degenerate=degenerate)
    )
