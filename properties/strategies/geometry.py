"""Geometry: pairs of box sets, center boxes, exact IoU pairs, coding and anchor problems.

Everything returns NumPy float32 arrays (or plain lists for the sizes/ratios of
``multibox_prior``). Built on :mod:`properties.strategies.lattice`.
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st

from ._once import once, permutations, sampled
from ._shared import count_of
from .lattice import (
    DYADIC_THRESHOLDS,
    LATTICE_MAX,
    LATTICE_STEP,
    boxes,
    offlattice_boxes,
    sizes,
)

__all__ = [
    "MAP_SIDES",
    "MAX_PRIOR_SHAPES",
    "PRIOR_RATIOS",
    "PRIOR_SIZES",
    "box_set_pairs",
    "center_boxes",
    "coding_problems",
    "dyadic_iou_pairs",
    "lattice_translations",
    "offset_preds",
    "power_of_two_scales",
    "prior_problems",
    "separated_pairs",
    "zero_area_boxes",
]

# --- geometry: IoU, conversions, anchors, box coding ------------------------------------
# Everything returns NumPy float32 arrays (or plain lists for the sizes/ratios of multibox_prior).
#
# - :func:`box_set_pairs`: two sets of boxes, related across the sets.
# - :func:`center_boxes`: boxes in center form ``(cx, cy, w, h)``.
# - :func:`dyadic_iou_pairs`: two lattice boxes whose IoU is *exactly* a dyadic threshold
#   (0, 0.25, 0.5, 0.75 or 1), for laws and decisions exactly at a threshold.
# - :func:`separated_pairs`: two boxes that are disjoint or merely touch (IoU exactly 0).
# - :func:`zero_area_boxes`: points and segments, with repeats and collinear overlaps.
# - :func:`coding_problems`, :func:`offset_preds`: inputs of ``offset_boxes`` and
#   ``offset_inverse``.
# - :func:`prior_problems`: ``(data, sizes, ratios)`` for ``multibox_prior``, from small buckets.
# - :func:`lattice_translations`, :func:`power_of_two_scales`: transformations under which
#   lattice arithmetic stays exact.


@st.composite
def box_set_pairs(draw, max_size: int = 13, lattice: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes1, boxes2)``: ``(N, 4)`` and ``(M, 4)`` float32 boxes, ``N, M`` from the buckets.

    Both sets are drawn as one related set (lattice, or :func:`offlattice_boxes`) and dealt
    out at random, so identical, nested, touching and collapsed boxes straddle the two sets.
    """
    n, m = draw(sizes(max_size)), draw(sizes(max_size))
    pool = draw(once(boxes, n + m) if lattice else once(offlattice_boxes, n + m))
    order = np.asarray(draw(permutations(n + m)), dtype=np.int64)
    return pool[order[:n]].reshape(n, 4), pool[order[n:]].reshape(m, 4)


@st.composite
def center_boxes(
    draw, n: int | st.SearchStrategy[int] | None = None, lattice: bool = True
) -> np.ndarray:
    """``(n, 4)`` float32 boxes in center form ``(cx, cy, w, h)``, ``w, h >= 0``.

    The centre form of :func:`~properties.strategies.boxes` (or :func:`offlattice_boxes`),
    computed in float64. On the lattice ``cx, cy`` are multiples of 1/128 and ``w, h`` of 1/64,
    and the corners ``cx -/+ w / 2`` are lattice points again: both conversions are exact in
    float32. Off the lattice the centre form is rounded to float32.
    """
    b = draw(once(boxes, n, lattice=True) if lattice else once(offlattice_boxes, n))
    b = b.astype(np.float64)
    center = np.stack(
        [(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]],
        axis=-1,
    )
    return center.astype(np.float32).reshape(-1, 4)


# --- exact IoU ---------------------------------------------------------------------------

# Pairs of boxes on an integer GRID x GRID grid, classified by their exact IoU.
_GRID = 8


@functools.cache
def _dyadic_table() -> dict[float, np.ndarray]:
    """``{t: (K, 2, 4) int array}`` of grid box pairs with IoU exactly ``t > 0``, simplest first.

    (IoU 0 has far too many pairs to tabulate: :func:`separated_pairs` builds those.)
    """
    lo, hi = np.triu_indices(_GRID + 1, k=1)  # every interval [lo, hi] with lo < hi
    lo, hi = lo.astype(np.int32), hi.astype(np.int32)
    x1, y1 = np.repeat(lo, lo.size), np.tile(lo, lo.size)
    x2, y2 = np.repeat(hi, hi.size), np.tile(hi, hi.size)
    grid = np.stack([x1, y1, x2, y2], axis=1)  # every box of positive area
    area = (x2 - x1) * (y2 - y1)
    iw = np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None])
    ih = np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = area[:, None] + area[None] - inter
    table = {}
    for t in DYADIC_THRESHOLDS[1:]:
        q = int(round(t * 4))  # IoU = q / 4  <=>  4 inter == q union
        i, j = np.nonzero(4 * inter == q * union)
        pairs = np.stack([grid[i], grid[j]], axis=1)
        order = np.argsort(pairs.reshape(len(pairs), -1).sum(axis=1), kind="stable")
        table[t] = pairs[order].astype(np.int16)
    return table


@st.composite
def dyadic_iou_pairs(
    draw, ious: tuple[float, ...] = (0.25, 0.5, 0.75)
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(box1, box2, t)``: two ``(4,)`` float32 lattice boxes of positive area, IoU exactly ``t``.

    ``t`` is drawn from ``ious`` (a subset of 0, 0.25, 0.5, 0.75, 1). For ``t > 0`` the pair is
    one of every pair of boxes on an 8 x 8 grid with that IoU (nested, shifted, crossing,
    corner-overlapping boxes: 29036, 13118, 2080 and 1296 pairs for 0.25 to 1, computed once on
    first use), scaled by a random number of lattice steps per grid unit and translated, so it
    stays on the lattice: float32 IoU is then exactly ``t`` in any correct implementation.
    ``t = 0`` comes from :func:`separated_pairs`.
    """
    t = draw(st.sampled_from(ious))
    if t == 0:
        b1, b2 = draw(once(separated_pairs))
        return b1, b2, 0.0
    pairs = _dyadic_table()[t]
    pair = pairs[draw(st.integers(0, len(pairs) - 1))].astype(np.int64)
    unit = draw(st.integers(1, LATTICE_MAX // _GRID))  # lattice steps per grid unit
    room = LATTICE_MAX - unit * _GRID
    ox, oy = draw(st.integers(0, room)), draw(st.integers(0, room))
    steps = pair * unit + np.array([ox, oy, ox, oy])
    b = (steps * LATTICE_STEP).astype(np.float32)
    return b[0], b[1], float(t)


def _just_or_integers(value: int, lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(value), st.integers(lo, hi))


_SEPARATED_AXES = st.sampled_from([(True, False), (False, True), (True, True)])


@st.composite
def separated_pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    """``(box1, box2)``: two ``(4,)`` float32 lattice boxes of positive area with IoU 0.

    Along one axis, or both, the boxes are separated by a gap of ``g >= 0`` lattice steps;
    ``g = 0`` (drawn half of the time) makes them share an edge, or a corner when both axes
    are separated. Along a non-separated axis their extents are arbitrary (often overlapping),
    which is where an unclamped negative overlap goes wrong.
    """
    separated = draw(_SEPARATED_AXES)
    lo1, hi1, lo2, hi2 = [], [], [], []
    for sep in separated:
        if sep:
            cut = draw(st.integers(1, LATTICE_MAX - 1))
            gap = draw(once(_just_or_integers, 0, 0, LATTICE_MAX - 1 - cut))
            a_hi = draw(once(_just_or_integers, cut, 1, cut))
            a_lo = draw(st.integers(0, a_hi - 1))
            b_lo = draw(once(_just_or_integers, cut + gap, cut + gap, LATTICE_MAX - 1))
            b_hi = draw(st.integers(b_lo + 1, LATTICE_MAX))
            if draw(st.booleans()):  # mirror: box 1 on the far side
                a_lo, a_hi, b_lo, b_hi = (LATTICE_MAX - v for v in (a_hi, a_lo, b_hi, b_lo))
        else:
            a_lo, b_lo = (
                draw(st.integers(0, LATTICE_MAX - 1)),
                draw(st.integers(0, LATTICE_MAX - 1)),
            )
            a_hi = draw(st.integers(a_lo + 1, LATTICE_MAX))
            b_hi = draw(st.integers(b_lo + 1, LATTICE_MAX))
        lo1.append(a_lo), hi1.append(a_hi), lo2.append(b_lo), hi2.append(b_hi)
    b1 = np.array([lo1[0], lo1[1], hi1[0], hi1[1]], np.float32) * np.float32(LATTICE_STEP)
    b2 = np.array([lo2[0], lo2[1], hi2[0], hi2[1]], np.float32) * np.float32(LATTICE_STEP)
    return b1, b2


@st.composite
def zero_area_boxes(draw, n: int | st.SearchStrategy[int] | None = None) -> np.ndarray:
    """``(n, 4)`` float32 lattice boxes of zero area: points, horizontal and vertical segments.

    Later boxes often repeat an earlier one or lie on the same line overlapping it, so that
    pairs with zero union (identical, collinear, crossing segments) turn up often.
    """
    count = count_of(draw, n, sizes(min_size=1))
    coord = st.integers(0, LATTICE_MAX)
    out: list[list[int]] = []
    for _ in range(count):
        kinds = ["point", "horizontal", "vertical"] + (["repeat", "collinear"] if out else [])
        kind = draw(sampled(*kinds))
        if kind == "repeat":
            out.append(list(out[draw(st.integers(0, len(out) - 1))]))
            continue
        if kind == "collinear":  # same line as an earlier box, an overlapping extent
            x1, y1, x2, y2 = out[draw(st.integers(0, len(out) - 1))]
            if x1 == x2:
                a, b = sorted([draw(coord), draw(st.integers(y1, y2))])
                out.append([x1, a, x1, b])
            else:
                a, b = sorted([draw(coord), draw(st.integers(x1, x2))])
                out.append([a, y1, b, y1])
            continue
        x, y = draw(coord), draw(coord)
        length = 0 if kind == "point" else draw(st.integers(0, LATTICE_MAX))
        if kind == "horizontal":
            out.append([x, y, min(x + length, LATTICE_MAX), y])
        else:
            out.append([x, y, x, min(y + length, LATTICE_MAX)])
    return (np.asarray(out, np.float32) * np.float32(LATTICE_STEP)).reshape(count, 4)


# --- transformations -------------------------------------------------------------------------


def lattice_translations(max_steps: int = 4096) -> st.SearchStrategy[float]:
    """A translation by a whole number of lattice steps, at most ``max_steps`` (64 by default).

    Translated lattice coordinates are multiples of 1/64 below ``2**17`` in magnitude, so
    differences, areas and centres stay exact in float32.
    """
    return st.integers(-max_steps, max_steps).map(lambda k: k * LATTICE_STEP)


def power_of_two_scales(max_exponent: int = 8) -> st.SearchStrategy[float]:
    """``2**k`` for ``|k| <= max_exponent``: multiplying float32 boxes by it is exact."""
    return st.integers(-max_exponent, max_exponent).map(lambda k: 2.0**k)


# --- box coding --------------------------------------------------------------------------


@st.composite
def coding_problems(
    draw, n: int | st.SearchStrategy[int] | None = None, lattice: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(anchors, assigned_bb)``: two ``(n, 4)`` float32 arrays for ``offset_boxes``.

    Anchors have positive width and height (the coding divides by them); assigned boxes may be
    degenerate (zero width or height, where ``eps`` keeps the log finite). Off the lattice the
    boxes come from :func:`offlattice_boxes`.
    """
    count = count_of(draw, n, sizes())
    if lattice:
        anchors = draw(once(boxes, count, lattice=True, degenerate=False))
        assigned = draw(once(boxes, count, lattice=True, degenerate=True))
    else:
        anchors = draw(once(offlattice_boxes, count, degenerate=False))
        assigned = draw(once(offlattice_boxes, count, degenerate=True))
    return anchors, assigned


@st.composite
def offset_preds(draw, n: int, max_center: float = 30.0, max_size: float = 15.0) -> np.ndarray:
    """``(n, 4)`` float32 offsets: ``|o_x|, |o_y| <= max_center``, ``|o_w|, |o_h| <= max_size``.

    ``max_size = 15`` decodes to at most ``exp(3) = 20`` times the anchor's side.
    """
    center = st.floats(-max_center, max_center, width=32)
    size = st.floats(-max_size, max_size, width=32)
    rows = [[draw(center), draw(center), draw(size), draw(size)] for _ in range(n)]
    return np.asarray(rows, dtype=np.float32).reshape(n, 4)


# --- anchors ---------------------------------------------------------------------------------

# Buckets for multibox_prior: a jitted implementation compiles once per (H, W, n, m), so at
# most 4 * 4 * 3 * 3 = 144 times.
MAP_SIDES = (1, 2, 3, 5)
PRIOR_SIZES = (0.1, 0.15, 0.25, 0.5, 0.75, 1.0)
PRIOR_RATIOS = (0.25, 0.5, 1.0, 2.0, 3.0)
MAX_PRIOR_SHAPES = 3  # n and m are drawn from 1..3


_MAP_SIDES = st.sampled_from(MAP_SIDES)
_CHANNELS = st.sampled_from((1, 3))
_PRIOR_SIZES = st.sampled_from(PRIOR_SIZES)
_PRIOR_RATIOS = st.sampled_from(PRIOR_RATIOS)


@st.composite
def prior_problems(draw) -> tuple[np.ndarray, list[float], list[float]]:
    """``(data, sizes, ratios)`` for ``multibox_prior``.

    ``data`` is a float32 ``(1, C, H, W)`` array of zeros (only its shape matters) with
    ``H, W`` from :data:`MAP_SIDES` and ``C`` 1 or 3; ``sizes`` and ``ratios`` are plain lists
    of 1 to 3 values from :data:`PRIOR_SIZES` and :data:`PRIOR_RATIOS` (repeats allowed).
    """
    h, w = draw(_MAP_SIDES), draw(_MAP_SIDES)
    c = draw(_CHANNELS)
    n = draw(st.integers(1, MAX_PRIOR_SHAPES))
    m = draw(st.integers(1, MAX_PRIOR_SHAPES))
    sizes_ = [draw(_PRIOR_SIZES) for _ in range(n)]
    ratios = [draw(_PRIOR_RATIOS) for _ in range(m)]
    return np.zeros((1, c, h, w), np.float32), sizes_, ratios
