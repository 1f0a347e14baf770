"""Helpers the strategy modules share (not strategies themselves)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from ._once import once
from .lattice import boxes, offlattice_boxes


def count_of(
    draw: Callable, n: int | st.SearchStrategy[int] | None, default: st.SearchStrategy[int]
) -> int:
    """``n`` itself, or drawn from it when it is a strategy (from ``default`` when None)."""
    n = default if n is None else n
    return draw(n) if isinstance(n, st.SearchStrategy) else n


def related_boxes(n: int, lattice: bool, degenerate: bool = True) -> st.SearchStrategy:
    """The cached :func:`boxes` (lattice) or :func:`offlattice_boxes` strategy of ``n`` boxes."""
    return (
        once(boxes, n, lattice=True, degenerate=degenerate)
        if lattice
        else once(offlattice_boxes, n, degenerate=degenerate)
    )
