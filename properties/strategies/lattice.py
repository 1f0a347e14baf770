"""Boxes and scores on the exact 1/64 lattice, the size buckets, and off-lattice boxes.

The building blocks of the other strategy modules: :func:`sizes` (lengths from
``SIZE_BUCKETS``), :func:`boxes` (related lattice or float boxes: copies, nested, touching,
collapsed), :func:`offlattice_boxes` (float boxes snapped to multiples of ``2**-24``),
:func:`dyadic_thresholds` and :func:`distinct_scores`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ._once import once, permutations, sampled

__all__ = [
    "DYADIC_THRESHOLDS",
    "LATTICE_MAX",
    "LATTICE_STEP",
    "OFFLATTICE_QUANTUM",
    "PROB_STEP",
    "SIZE_BUCKETS",
    "boxes",
    "distinct_scores",
    "dyadic_thresholds",
    "float_coordinate",
    "lattice_coordinate",
    "offlattice_boxes",
    "sizes",
]

LATTICE_STEP = 1.0 / 64
LATTICE_MAX = 128  # lattice coordinates are k / 64 for k in [0, 128]
DYADIC_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)
SIZE_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34)
PROB_STEP = 1.0 / 64  # lattice probabilities k / 64 in [0, 1]


def sizes(max_size: int = 34, min_size: int = 0) -> st.SearchStrategy[int]:
    """A length from ``SIZE_BUCKETS`` within ``[min_size, max_size]``."""
    return sampled(*[n for n in SIZE_BUCKETS if min_size <= n <= max_size])


_LATTICE_COORDINATE = st.integers(0, LATTICE_MAX).map(lambda k: k * LATTICE_STEP)


def lattice_coordinate() -> st.SearchStrategy[float]:
    return _LATTICE_COORDINATE


def float_coordinate(lo: float = -1.0, hi: float = 2.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=32)


_FLOAT_COORDINATE = float_coordinate()


@st.composite
def _box(draw, lattice: bool, degenerate: bool) -> tuple[float, float, float, float]:
    coord = _LATTICE_COORDINATE if lattice else _FLOAT_COORDINATE
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
    fresh = once(_box, lattice, degenerate)
    for _ in range(count):
        kinds = ["fresh"]
        if related and out:
            kinds += ["identical", "nested", "touching"] + (["collapse"] if degenerate else [])
        kind = draw(sampled(*kinds))
        if kind == "fresh":
            out.append(draw(fresh))
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


_DYADIC = st.sampled_from(DYADIC_THRESHOLDS)


def dyadic_thresholds() -> st.SearchStrategy[float]:
    """Thresholds at which lattice IoUs compare exactly (0, 0.25, 0.5, 0.75, 1)."""
    return _DYADIC


@st.composite
def distinct_scores(draw, n: int) -> np.ndarray:
    """``(n,)`` float32 scores, pairwise distinct (a permutation of a lattice)."""
    perm = draw(permutations(n))
    return (np.asarray(perm, dtype=np.float32) + 1) / np.float32(64)


# Smallest non-zero extent of an off-lattice box: coordinates are snapped to multiples of it.
OFFLATTICE_QUANTUM = 2.0**-24


@st.composite
def offlattice_boxes(
    draw,
    n: int | st.SearchStrategy[int] | None = None,
    degenerate: bool = True,
    related: bool = True,
) -> np.ndarray:
    """``(n, 4)`` float32 boxes with coordinates off the lattice, in about ``[-1, 2]``.

    The boxes of ``boxes(n, lattice=False, ...)`` (identical, nested, touching and collapsed
    boxes included) with every coordinate rounded to a multiple of ``2**-24``: rounding is
    monotonic, so the relations survive; a non-zero width or height is then at least
    ``2**-24`` and an area at least ``2**-48``, a normal float32. Coordinates keep up to 24
    significant bits, so float32 arithmetic on them still rounds.
    """
    b = draw(boxes(n, lattice=False, degenerate=degenerate, related=related)).astype(np.float64)
    b = (np.round(b / OFFLATTICE_QUANTUM) * OFFLATTICE_QUANTUM).astype(np.float32)
    if not degenerate:  # rounding may have merged two edges closer than the quantum
        for lo, hi in ((0, 2), (1, 3)):
            flat = b[:, hi] <= b[:, lo]
            b[flat, hi] = b[flat, lo] + np.float32(OFFLATTICE_QUANTUM * 4)
    return b
