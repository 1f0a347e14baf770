"""Hypothesis strategies for anchor-box code: one module, reusable in your own tests.

Everything returns NumPy arrays (float32 unless stated), shaped as the contract
says. Two families of coordinates:

- *lattice*: multiples of 1/64 in [0, 2]. Areas are multiples of 2**-12 below
  4, so intersections and unions are exact in float32 and the IoU is a single
  correctly rounded division: every implementation gets the same bits, and
  with dyadic thresholds (0, 0.25, 0.5, 0.75, 1) every decision must match
  exactly, including an IoU exactly at the threshold.
- *float*: arbitrary finite floats in a moderate range, where decisions may
  flip on rounding and comparisons must be margin-aware.

Shapes: sizes are drawn from a small set of buckets (``SIZE_BUCKETS``) so that
a jitted implementation compiles a bounded number of times per test.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

LATTICE_STEP = 1.0 / 64
LATTICE_MAX = 128  # lattice coordinates are k / 64 for k in [0, 128]
DYADIC_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)
SIZE_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34)


def sizes(max_size: int = 34, min_size: int = 0) -> st.SearchStrategy[int]:
    """A length from ``SIZE_BUCKETS`` within ``[min_size, max_size]``."""
    choices = [n for n in SIZE_BUCKETS if min_size <= n <= max_size]
    return st.sampled_from(choices)


def lattice_coordinate() -> st.SearchStrategy[float]:
    return st.integers(0, LATTICE_MAX).map(lambda k: k * LATTICE_STEP)


def float_coordinate(lo: float = -1.0, hi: float = 2.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def _box(draw, lattice: bool, degenerate: bool) -> tuple[float, float, float, float]:
    coord = lattice_coordinate() if lattice else float_coordinate()
    x = sorted([draw(coord), draw(coord)])
    y = sorted([draw(coord), draw(coord)])
    if not degenerate:
        # Push coincident edges apart by one lattice step (or a small float gap).
        step = LATTICE_STEP if lattice else 1.0 / 128
        if x[1] == x[0]:
            x[1] = x[0] + step
        if y[1] == y[0]:
            y[1] = y[0] + step
    return (x[0], y[0], x[1], y[1])


@st.composite
def boxes(
    draw,
    n: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    degenerate: bool = True,
    related: bool = True,
) -> np.ndarray:
    """``(n, 4)`` float32 corner boxes.

    With ``related`` (the default), some boxes are derived from earlier ones:
    identical copies, boxes nested inside, boxes touching along an edge, and
    (if ``degenerate``) boxes collapsed to zero width or height, so that the
    edge cases of IoU and NMS turn up often instead of almost never.
    """
    if n is None:
        n = sizes()
    count = draw(n) if isinstance(n, st.SearchStrategy) else n
    out: list[tuple[float, float, float, float]] = []
    step = LATTICE_STEP if lattice else 0.0
    for _ in range(count):
        kinds = ["fresh"]
        if related and out:
            kinds += ["identical", "nested", "touching"] + (["collapse"] if degenerate else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "fresh":
            out.append(draw(_box(lattice, degenerate)))
            continue
        x1, y1, x2, y2 = out[draw(st.integers(0, len(out) - 1))]
        if kind == "identical":
            out.append((x1, y1, x2, y2))
        elif kind == "nested":
            # Shrink by whole lattice steps (or halve towards the centre off-lattice).
            if lattice:
                kx = int(round((x2 - x1) / step)) // 2
                ky = int(round((y2 - y1) / step)) // 2
                dx, dy = draw(st.integers(0, kx)) * step, draw(st.integers(0, ky)) * step
            else:
                dx, dy = (x2 - x1) / 4, (y2 - y1) / 4
            box = (x1 + dx, y1 + dy, x2 - dx, y2 - dy)
            if not degenerate and (box[2] <= box[0] or box[3] <= box[1]):
                box = (x1, y1, x2, y2)
            out.append(box)
        elif kind == "touching":
            w, h = x2 - x1, y2 - y1
            if draw(st.booleans()):
                out.append((x2, y1, x2 + w, y2))  # to the right, sharing an edge
            else:
                out.append((x1, y2, x2, y2 + h))  # below, sharing an edge
        else:  # collapse to zero width or height
            if draw(st.booleans()):
                out.append((x1, y1, x1, y2))
            else:
                out.append((x1, y1, x2, y1))
    return np.asarray(out, dtype=np.float32).reshape(count, 4)


def dyadic_thresholds() -> st.SearchStrategy[float]:
    """Thresholds at which lattice IoUs compare exactly (0, 0.25, 0.5, 0.75, 1)."""
    return st.sampled_from(DYADIC_THRESHOLDS)


@st.composite
def distinct_scores(draw, n: int) -> np.ndarray:
    """``(n,)`` float32 scores, pairwise distinct (a permutation of a lattice)."""
    perm = draw(st.permutations(range(n)))
    return (np.asarray(perm, dtype=np.float32) + 1) / np.float32(64)
