"""Hypothesis strategies for the GIoU family and for clipping (CONTRACT.md §3.5, §3.6).

Built on :mod:`~properties.strategies.lattice`; NumPy float32 arrays unless stated:

- the GIoU family (§3.5): :data:`PAIR_KINDS`, :func:`loss_pairs` (identical, nested,
  touching, crossing, degenerate, apart);
- clipping and filtering (§3.6): :func:`clip_problems`, :func:`min_sizes`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ._once import once, sampled
from ._shared import count_of, related_boxes
from .lattice import LATTICE_MAX, LATTICE_STEP, sizes

__all__ = ["PAIR_KINDS", "clip_problems", "loss_pairs", "min_sizes"]


# --- the GIoU family -------------------------------------------------------------------------

PAIR_KINDS = (
    "fresh",
    "identical",
    "nested",
    "containing",
    "touching",
    "corner",
    "crossing",
    "apart",
    "collapsed",
    "both_collapsed",
    "point",
)


def _box_from_steps(k: np.ndarray) -> np.ndarray:
    return (np.asarray(k, np.float64) * LATTICE_STEP).astype(np.float32)


@st.composite
def _lattice_pair(draw, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Two lattice boxes related as ``kind`` (coordinates in whole lattice steps)."""
    coord = st.integers(0, LATTICE_MAX // 2)
    x1, y1 = draw(coord), draw(coord)
    w, h = draw(st.integers(2, LATTICE_MAX // 2)), draw(st.integers(2, LATTICE_MAX // 2))
    a = np.array([x1, y1, x1 + w, y1 + h])
    if kind == "fresh":
        x1, y1 = draw(coord), draw(coord)
        b = np.array([x1, y1, x1 + draw(st.integers(1, 64)), y1 + draw(st.integers(1, 64))])
    elif kind == "identical":
        b = a.copy()
    elif kind in ("nested", "containing"):
        dx, dy = draw(st.integers(0, w // 2)), draw(st.integers(0, h // 2))
        b = a + np.array([dx, dy, -dx, -dy])
        if kind == "containing":
            a, b = b, a
    elif kind == "touching":  # share an edge
        b = a + (np.array([w, 0, w, 0]) if draw(st.booleans()) else np.array([0, h, 0, h]))
    elif kind == "corner":  # share a corner
        b = a + np.array([w, h, w, h])
    elif kind == "crossing":  # a wide and a tall box through the same centre
        cx, cy = x1 + w // 2, y1 + h // 2
        a = np.array([x1, cy - 1, x1 + w, cy + 1])
        b = np.array([cx - 1, y1, cx + 1, y1 + h])
    elif kind == "apart":
        gap = draw(st.integers(1, 16))
        b = a + np.array([w + gap, 0, w + gap, 0])
    elif kind == "collapsed":  # one box of zero width or height, overlapping the other
        b = a.copy()
        if draw(st.booleans()):
            b[2] = b[0]
        else:
            b[3] = b[1]
    elif kind == "both_collapsed":  # two segments on one line (the enclosing box is flat)
        a = np.array([x1, y1, x1 + w, y1])
        b = np.array([x1 + draw(st.integers(0, w)), y1, x1 + w + draw(st.integers(0, 8)), y1])
    else:  # point: a point with itself, or with a box around it
        a = np.array([x1, y1, x1, y1])
        b = a.copy() if draw(st.booleans()) else a + np.array([-1, -1, 1, 1]) * min(x1, y1, 4)
    if draw(st.booleans()):
        a, b = b, a
    return _box_from_steps(a), _box_from_steps(b)


@st.composite
def loss_pairs(
    draw,
    n: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    kinds: tuple[str, ...] = PAIR_KINDS,
) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes1, boxes2)``: two ``(n, 4)`` float32 arrays, pair ``i`` related as one of
    ``kinds``: identical, nested either way, touching along an edge or at a corner, crossing,
    apart, one or both of zero width or height (two segments on one line: a flat enclosing
    box), a point (with itself or inside a box), or two unrelated boxes. On the lattice the
    coordinates are multiples of 1/64 in ``[0, 2]``; off it, each pair is moved by the same
    float translation and scaled by the same float factor (relations kept up to rounding:
    identical stays identical, a shared edge may open or close by an ulp)."""
    count = count_of(draw, n, sizes())
    first, second = [], []
    for _ in range(count):
        a, b = draw(once(_lattice_pair, draw(once(st.sampled_from, kinds))))
        if not lattice:
            scale = np.float32(draw(st.floats(0.25, 4.0, width=32)))
            shift = np.float32(draw(st.floats(-1.0, 1.0, width=32)))
            a, b = a * scale + shift, b * scale + shift
        first.append(a)
        second.append(b)
    return (
        np.asarray(first, np.float32).reshape(count, 4),
        np.asarray(second, np.float32).reshape(count, 4),
    )


# --- clipping and filtering --------------------------------------------------------------------


_SHIFT = st.integers(-64, 64).map(lambda k: k * LATTICE_STEP)


def _widths_except(height: float) -> st.SearchStrategy[int]:
    """Widths in lattice steps, other than ``height``."""
    return st.integers(0, LATTICE_MAX).filter(lambda k: k * LATTICE_STEP != height)


@st.composite
def clip_problems(
    draw, n: int | st.SearchStrategy[int] | None = None, lattice: bool = True
) -> tuple[np.ndarray, tuple[float, float]]:
    """``(boxes (n, 4), (height, width))``: boxes inside, across and outside the image
    (translated by up to one image size either way, so negative coordinates too) and an image
    size that differs in height and width (so that clipping x with the height shows)."""
    count = count_of(draw, n, sizes())
    b = draw(related_boxes(count, lattice)).astype(np.float64)
    for i in range(count):
        b[i] += np.array([1, 0, 1, 0]) * draw(_SHIFT) + np.array([0, 1, 0, 1]) * draw(_SHIFT)
    height = draw(st.integers(0, LATTICE_MAX)) * LATTICE_STEP
    width = draw(once(_widths_except, height))
    return b.astype(np.float32), (float(height), float(width * LATTICE_STEP))


@st.composite
def min_sizes(draw, b: np.ndarray) -> float:
    """A ``min_size`` for ``remove_small_boxes``: often exactly a width or height of one of
    the boxes (the ``>=`` boundary), else a lattice value in ``[0, 1]``."""
    sides = np.concatenate([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]]).astype(np.float64)
    if len(sides) and draw(st.booleans()):
        return float(draw(sampled(*sorted(set(sides.tolist())))))
    return draw(st.integers(0, LATTICE_MAX // 2)) * LATTICE_STEP
