"""Hypothesis strategies for anchor-box code: one module, reusable in your own tests.

Everything returns NumPy arrays (float32 unless stated), shaped as the contract
says. Two families of coordinates:

- *lattice*: multiples of 1/64 in [0, 2]. Areas are multiples of 2**-12 below
  4, so intersections and unions are exact in float32 and the IoU is a single
  correctly rounded division: every implementation gets the same bits, and
  with dyadic thresholds (0, 0.25, 0.5, 0.75, 1) every decision must match
  exactly, including an IoU exactly at the threshold.
  Caveat: two *different* lattice IoUs with unions above about 1 can round to
  the same float32, so a float32 implementation may see a tie where the float64
  reference does not; the properties accept the contract's decision on the
  float32-rounded IoUs there.
- *float*: arbitrary finite floats in a moderate range, where decisions may
  flip on rounding and comparisons must be margin-aware. Use
  :func:`offlattice_boxes` (coordinates snapped to multiples of 2**-24) when a
  float32 implementation is compared with the reference: XLA flushes subnormals
  to zero, so a box 1e-45 high has area 0 in float32 but not in float64 (a range
  limit, not rounding).

Shapes: sizes are drawn from a small set of buckets (``SIZE_BUCKETS``) so that
a jitted implementation compiles a bounded number of times per test.

Sections: boxes and scores (below); geometry (IoU pairs at an exact dyadic
value, separated and zero-area boxes, coding problems, ``prior_problems``);
matching (``matching_problems`` and its tied/disjoint/overlapping variants,
``anchors_1a4``, ``label_batches`` with padding anywhere); NMS and detection
(``tied_scores``, ``nms_problems``, ``nms_chains``, ``boxes_at_threshold``,
``nonpositive_boxes``, ``class_probs``, ``detection_problems``).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import NamedTuple

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


# --- geometry: IoU, conversions, anchors, box coding ------------------------------------
# Everything returns NumPy float32 arrays (or plain lists for the sizes/ratios of multibox_prior).
#
# - :func:`offlattice_boxes`: arbitrary float32 boxes whose non-zero extents are at least
#   ``2**-24``, so that float32 areas never underflow (the raw float strategy draws boxes
#   ``1e-45`` high, whose float32 area is 0 while the float64 reference's is not).
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


@st.composite
def box_set_pairs(draw, max_size: int = 13, lattice: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes1, boxes2)``: ``(N, 4)`` and ``(M, 4)`` float32 boxes, ``N, M`` from the buckets.

    Both sets are drawn as one related set (lattice, or :func:`offlattice_boxes`) and dealt
    out at random, so identical, nested, touching and collapsed boxes straddle the two sets.
    """
    n, m = draw(sizes(max_size)), draw(sizes(max_size))
    pool = draw(boxes(n + m) if lattice else offlattice_boxes(n + m))
    order = np.asarray(draw(st.permutations(range(n + m))), dtype=np.int64)
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
    b = draw(boxes(n, lattice=True) if lattice else offlattice_boxes(n)).astype(np.float64)
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
        b1, b2 = draw(separated_pairs())
        return b1, b2, 0.0
    pairs = _dyadic_table()[t]
    pair = pairs[draw(st.integers(0, len(pairs) - 1))].astype(np.int64)
    unit = draw(st.integers(1, LATTICE_MAX // _GRID))  # lattice steps per grid unit
    room = LATTICE_MAX - unit * _GRID
    ox, oy = draw(st.integers(0, room)), draw(st.integers(0, room))
    steps = pair * unit + np.array([ox, oy, ox, oy])
    b = (steps * LATTICE_STEP).astype(np.float32)
    return b[0], b[1], float(t)


@st.composite
def separated_pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    """``(box1, box2)``: two ``(4,)`` float32 lattice boxes of positive area with IoU 0.

    Along one axis, or both, the boxes are separated by a gap of ``g >= 0`` lattice steps;
    ``g = 0`` (drawn half of the time) makes them share an edge, or a corner when both axes
    are separated. Along a non-separated axis their extents are arbitrary (often overlapping),
    which is where an unclamped negative overlap goes wrong.
    """
    separated = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    lo1, hi1, lo2, hi2 = [], [], [], []
    for sep in separated:
        if sep:
            cut = draw(st.integers(1, LATTICE_MAX - 1))
            gap = draw(st.one_of(st.just(0), st.integers(0, LATTICE_MAX - 1 - cut)))
            a_hi = draw(st.one_of(st.just(cut), st.integers(1, cut)))
            a_lo = draw(st.integers(0, a_hi - 1))
            b_lo = draw(st.one_of(st.just(cut + gap), st.integers(cut + gap, LATTICE_MAX - 1)))
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
    if n is None:
        n = sizes(min_size=1)
    count = draw(n) if isinstance(n, st.SearchStrategy) else n
    coord = st.integers(0, LATTICE_MAX)
    out: list[list[int]] = []
    for _ in range(count):
        kinds = ["point", "horizontal", "vertical"] + (["repeat", "collinear"] if out else [])
        kind = draw(st.sampled_from(kinds))
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
    if n is None:
        n = sizes()
    count = draw(n) if isinstance(n, st.SearchStrategy) else n
    if lattice:
        anchors = draw(boxes(count, lattice=True, degenerate=False))
        assigned = draw(boxes(count, lattice=True, degenerate=True))
    else:
        anchors = draw(offlattice_boxes(count, degenerate=False))
        assigned = draw(offlattice_boxes(count, degenerate=True))
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


@st.composite
def prior_problems(draw) -> tuple[np.ndarray, list[float], list[float]]:
    """``(data, sizes, ratios)`` for ``multibox_prior``.

    ``data`` is a float32 ``(1, C, H, W)`` array of zeros (only its shape matters) with
    ``H, W`` from :data:`MAP_SIDES` and ``C`` 1 or 3; ``sizes`` and ``ratios`` are plain lists
    of 1 to 3 values from :data:`PRIOR_SIZES` and :data:`PRIOR_RATIOS` (repeats allowed).
    """
    h, w = draw(st.sampled_from(MAP_SIDES)), draw(st.sampled_from(MAP_SIDES))
    c = draw(st.sampled_from((1, 3)))
    n = draw(st.integers(1, MAX_PRIOR_SHAPES))
    m = draw(st.integers(1, MAX_PRIOR_SHAPES))
    sizes_ = [draw(st.sampled_from(PRIOR_SIZES)) for _ in range(n)]
    ratios = [draw(st.sampled_from(PRIOR_RATIOS)) for _ in range(m)]
    return np.zeros((1, c, h, w), np.float32), sizes_, ratios


# --- matching: assignment problems, anchors (1, A, 4), label batches -------------------
# - :func:`matching_problems`: ``(ground_truth (G, 4), anchors (A, 4))`` drawn from one pool of
#   related boxes (copies, nested, touching, collapsed), so anchors and ground truths overlap,
#   coincide and touch across the two arrays, not only within each; some anchors are
#   :func:`perturbed` copies of ground truths (partial overlaps).
# - :func:`tied_matching_problems`: lattice problems with forced IoU ties (duplicated ground
#   truths and anchors, ground truths mirrored about ``x = 1`` with anchors symmetric about it).
# - :func:`disjoint_matching_problems`: problems where some ground truths overlap no anchor at
#   all (IoU 0 with every anchor), so the greedy step must run rounds at IoU 0.
# - :func:`overlapping_matching_problems`: every anchor and ground truth contains the point
#   ``(1, 1)``: every IoU is positive, so ties are rare (for laws that need no ties).
# - :func:`anchors_1a4`: ``(1, A, 4)`` anchors with positive width and height (box coding divides
#   by them).
# - :func:`label_batches`: ``(B, G, 5)`` label rows ``(class, x1, y1, x2, y2)`` with padding rows
#   (class < 0) placed anywhere: none, some, or all rows of an image; ``G = 0`` included.
# - :func:`pad_labels`: insert padding rows at drawn positions into an unpadded batch.
#
# Off the lattice (``lattice=False``), coordinates with ``|x| < 2**-20`` are flushed to 0
# (:func:`flush_tiny`): otherwise a width of a few subnormals makes a float32 area underflow to
# 0 and the float32 IoU differs from the exact one by far more than rounding (an underflow, not
# a rounding, so no margin-aware comparison could accept it). After the flush every coordinate
# is a multiple of ``2**-44``: float32 widths and areas of positive extent stay positive, and an
# IoU is 0 in float32 exactly when it is 0 in exact arithmetic.

# Classes of padding rows: the conventional -1, and other negative values (class < 0 is padding).
PADDING_CLASSES = (-1.0, -2.0, -0.5)
# Coordinates of padding rows that are not copies of real boxes.
_PADDING_FILL = (-1.0, 0.0)
# Non-finite and inverted coordinates for padding rows (``garbage=True``): never read.
_GARBAGE_BOXES = (
    (np.nan, np.nan, np.nan, np.nan),
    (np.inf, -np.inf, np.nan, 0.0),
    (1.0, 1.0, 0.0, 0.0),  # x2 < x1, y2 < y1
)
FLUSH_BELOW = 2.0**-20


def flush_tiny(b: np.ndarray) -> np.ndarray:
    """Coordinates with ``|x| < 2**-20`` set to 0 (monotone, so ``x1 <= x2`` survives)."""
    b = np.asarray(b, dtype=np.float32).copy()
    b[np.abs(b) < FLUSH_BELOW] = 0.0
    return b


def _size(draw, n: int | st.SearchStrategy[int] | None, default: st.SearchStrategy[int]) -> int:
    n = default if n is None else n
    return draw(n) if isinstance(n, st.SearchStrategy) else n


def _pool(n: int, lattice: bool, degenerate: bool = True) -> st.SearchStrategy[np.ndarray]:
    strategy = boxes(n, lattice=lattice, degenerate=degenerate)
    return strategy if lattice else strategy.map(flush_tiny)


@st.composite
def perturbed(draw, box: np.ndarray, lattice: bool = True, degenerate: bool = True) -> np.ndarray:
    """``box`` with each coordinate moved a little (up to 1/4), still ordered.

    On the lattice: by whole steps of 1/64, clamped to [0, 2]; off it: by a float, then
    :func:`flush_tiny`. Such a box overlaps ``box`` partially: IoUs anywhere in (0, 1], the
    values where thresholds and "best vs second best" decisions are made.
    """
    if lattice:
        moves = draw(st.lists(st.integers(-16, 16), min_size=4, max_size=4))
        k = np.clip(np.round(box / LATTICE_STEP) + np.asarray(moves), 0, LATTICE_MAX)
        out = (k * LATTICE_STEP).astype(np.float32)
    else:
        moves = draw(st.lists(st.floats(-0.25, 0.25, width=32), min_size=4, max_size=4))
        out = flush_tiny(box.astype(np.float32) + np.asarray(moves, np.float32))
    out = np.asarray([min(out[0], out[2]), min(out[1], out[3]), max(out[0], out[2]),
                      max(out[1], out[3])], dtype=np.float32)  # fmt: skip
    if not degenerate:
        out = _widen(out[None], LATTICE_STEP if lattice else 1.0 / 128)[0]
    return out


@st.composite
def matching_problems(
    draw,
    num_gt: int | st.SearchStrategy[int] | None = None,
    num_anchors: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    degenerate: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(ground_truth (G, 4), anchors (A, 4))`` float32, split from one related pool.

    ``G`` defaults to ``sizes(8)``, ``A`` to ``sizes(21)``. The pool of ``A + G`` boxes comes
    from :func:`properties.strategies.boxes` and is split by a drawn permutation, so copies,
    nested and touching boxes land across anchors and ground truths. Then each anchor may be
    replaced by a :func:`perturbed` copy of a ground truth, as the anchors near an object are
    in a detector: partial overlaps with IoUs on both sides of the threshold.
    """
    g = _size(draw, num_gt, sizes(8))
    a = _size(draw, num_anchors, sizes(21))
    pool = draw(_pool(g + a, lattice, degenerate))
    order = np.asarray(draw(st.permutations(range(g + a))), dtype=np.intp).reshape(-1)
    pool = pool[order]
    gt, anchors = pool[:g].reshape(g, 4), pool[g:].reshape(a, 4).copy()
    if g:
        for i in range(a):
            if draw(st.booleans()):
                anchors[i] = draw(perturbed(gt[draw(st.integers(0, g - 1))], lattice, degenerate))
    return gt, anchors


def _mirror(box: np.ndarray) -> np.ndarray:
    """The box reflected about the vertical line ``x = 1`` (exact on the lattice)."""
    x1, y1, x2, y2 = box
    return np.asarray([2 - x2, y1, 2 - x1, y2], dtype=np.float32)


@st.composite
def tied_matching_problems(
    draw,
    num_gt: int | st.SearchStrategy[int] | None = None,
    num_anchors: int | st.SearchStrategy[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice ``(ground_truth (G, 4), anchors (A, 4))`` with IoU ties made on purpose.

    Starting from :func:`matching_problems`, each ground truth after the first may be replaced
    by a copy of an earlier one (identical columns of the IoU matrix: ties in step a and in the
    greedy step) or by the mirror image about ``x = 1`` of an earlier one; each anchor may be
    replaced by a copy of an earlier anchor (identical rows: greedy ties), made symmetric about
    ``x = 1`` (equal IoU with a ground truth and its mirror image), or a copy of a ground truth
    (IoU exactly 1, tied when that ground truth is duplicated); and sometimes two anchors
    ``i < j`` copy two ground truths ``l > k`` crosswise, a tie at IoU 1 between entries in
    different rows and columns. Copies of
    earlier entries mean the tie always involves a lower and a higher index.
    """
    g = _size(draw, num_gt, sizes(8, min_size=1))
    a = _size(draw, num_anchors, sizes(21, min_size=1))
    gt, anchors = draw(matching_problems(g, a, lattice=True))
    gt, anchors = gt.copy(), anchors.copy()
    for i in range(1, len(gt)):
        kind = draw(st.sampled_from(["keep", "copy", "mirror"]))
        j = draw(st.integers(0, i - 1))
        if kind == "copy":
            gt[i] = gt[j]
        elif kind == "mirror":
            gt[i] = _mirror(gt[j])
    for i in range(len(anchors)):
        kinds = ["keep", "symmetric"] + (["copy"] if i else []) + (["gt"] if len(gt) else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "copy":
            anchors[i] = anchors[draw(st.integers(0, i - 1))]
        elif kind == "gt":
            anchors[i] = gt[draw(st.integers(0, len(gt) - 1))]
        elif kind == "symmetric":
            # Symmetric about x = 1: x1 = 1 - d, x2 = 1 + d for a lattice d in [0, 1].
            d = draw(st.integers(0, LATTICE_MAX // 2)) * LATTICE_STEP
            anchors[i, 0], anchors[i, 2] = 1 - d, 1 + d
    if len(anchors) >= 2 and len(gt) >= 2 and draw(st.booleans()):
        # A cross tie: anchors i < j copy ground truths l > k, so (i, l) and (j, k) are both
        # IoU 1, in different rows and columns.
        i, j = sorted(
            draw(st.lists(st.integers(0, len(anchors) - 1), min_size=2, max_size=2, unique=True))
        )
        k, l = sorted(
            draw(st.lists(st.integers(0, len(gt) - 1), min_size=2, max_size=2, unique=True))
        )
        anchors[i], anchors[j] = gt[l], gt[k]
    return gt, anchors


@st.composite
def disjoint_matching_problems(
    draw,
    num_gt: int | st.SearchStrategy[int] | None = None,
    num_anchors: int | st.SearchStrategy[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice problems where at least one ground truth overlaps no anchor (IoU 0 with all).

    Anchors live in the left half ``x in [0, 1]``; each ground truth is drawn either there too
    or in the right half ``x in [1, 2]`` (at most touching an anchor along ``x = 1``). The first
    ground truth whose position is drawn is forced to the right half if none is there.
    """
    g = _size(draw, num_gt, sizes(8, min_size=1))
    a = _size(draw, num_anchors, sizes(21, min_size=1))
    half = LATTICE_MAX // 2
    pool = draw(boxes(g + a, lattice=True))
    # Squeeze every x into [0, 1] (k -> k // 2 on the lattice): still lattice, still ordered.
    pool[:, [0, 2]] = np.floor(pool[:, [0, 2]] / LATTICE_STEP / 2) * LATTICE_STEP
    gt, anchors = pool[:g].copy(), pool[g:].copy()
    right = np.asarray(draw(st.lists(st.booleans(), min_size=g, max_size=g)), dtype=bool)
    if g and not right.any():
        right[draw(st.integers(0, g - 1))] = True
    gt[right, 0] += half * LATTICE_STEP
    gt[right, 2] += half * LATTICE_STEP
    return gt.reshape(g, 4), anchors.reshape(a, 4)


@st.composite
def overlapping_matching_problems(
    draw,
    num_gt: int | st.SearchStrategy[int] | None = None,
    num_anchors: int | st.SearchStrategy[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice problems where every box contains the point ``(1, 1)``: every IoU is positive.

    ``x1, y1`` are drawn in ``[0, 63/64]`` and ``x2, y2`` in ``[65/64, 2]``, independently per
    box, so exact ties between IoUs are rare (a property that needs tie-free inputs can filter
    the few that remain).
    """
    g = _size(draw, num_gt, sizes(8))
    a = _size(draw, num_anchors, sizes(21))
    half = LATTICE_MAX // 2
    low = st.integers(0, half - 1)
    high = st.integers(half + 1, LATTICE_MAX)

    def one():
        return st.tuples(low, low, high, high)

    rows = draw(st.lists(one(), min_size=g + a, max_size=g + a))
    pool = np.asarray(rows, dtype=np.float32).reshape(g + a, 4) * np.float32(LATTICE_STEP)
    return pool[:g].reshape(g, 4), pool[g:].reshape(a, 4)


def _widen(b: np.ndarray, step: float) -> np.ndarray:
    """Give zero-width or zero-height boxes ``step`` of extent (keeping lattice boxes in [0, 2])."""
    b = b.copy()
    for lo, hi in ((0, 2), (1, 3)):
        flat = b[:, hi] <= b[:, lo]
        at_zero = flat & (b[:, lo] <= 0)
        b[flat & ~at_zero, lo] -= step
        b[at_zero, hi] += step
    return b


@st.composite
def anchors_1a4(
    draw, n: int | st.SearchStrategy[int] | None = None, lattice: bool = True
) -> np.ndarray:
    """``(1, A, 4)`` float32 anchors with positive width and height (``A`` from ``sizes(13)``)."""
    b = draw(_pool(_size(draw, n, sizes(13)), lattice, degenerate=False))
    # Off the lattice the flush of tiny coordinates can collapse a box: widen it again.
    return b[None] if lattice else _widen(b, 1.0 / 128)[None]


@st.composite
def _image_labels(
    draw, num_rows: int, lattice: bool, num_classes: int, padding: str, garbage: bool
) -> np.ndarray:
    """One image's ``(G, 5)`` rows; ``padding`` in ``none``/``some``/``all``."""
    bxs = draw(_pool(num_rows, lattice))
    classes = draw(st.lists(st.integers(0, num_classes - 1), min_size=num_rows, max_size=num_rows))
    rows = np.concatenate([np.asarray(classes, np.float32).reshape(-1, 1), bxs], axis=1)
    if padding == "none":
        is_pad = np.zeros(num_rows, bool)
    elif padding == "all":
        is_pad = np.ones(num_rows, bool)
    else:
        flags = draw(st.lists(st.booleans(), min_size=num_rows, max_size=num_rows))
        is_pad = np.asarray(flags, dtype=bool).reshape(num_rows)
    for i in np.flatnonzero(is_pad):
        rows[i, 0] = draw(st.sampled_from(PADDING_CLASSES))
        rows[i, 1:] = draw(_padding_box(rows, is_pad, lattice, garbage))
    return rows.reshape(num_rows, 5)


@st.composite
def _padding_box(
    draw, rows: np.ndarray, is_pad: np.ndarray, lattice: bool, garbage: bool
) -> np.ndarray:
    """Coordinates of a padding row: a fill value, a drawn box, or a copy of a real row's box."""
    real = np.flatnonzero(~is_pad)
    kinds = ["fill", "own"] + (["copy"] if len(real) else []) + (["garbage"] if garbage else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "fill":
        return np.full(4, draw(st.sampled_from(_PADDING_FILL)), np.float32)
    if kind == "copy":  # a padding row on top of a real object: it would win anchors
        return rows[real[draw(st.integers(0, len(real) - 1))], 1:].copy()
    if kind == "garbage":
        return np.asarray(draw(st.sampled_from(_GARBAGE_BOXES)), np.float32)
    return draw(_pool(1, lattice))[0]  # a box of its own


@st.composite
def label_batches(
    draw,
    batch: int | st.SearchStrategy[int] | None = None,
    num_rows: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    num_classes: int = 3,
    padding: bool = True,
    garbage: bool = False,
) -> np.ndarray:
    """``(B, G, 5)`` float32 label batches; padding rows (class < 0) anywhere.

    ``B`` defaults to 1 or 3, ``G`` to ``sizes(8)`` (0 included). Real rows have a whole class
    in ``[0, num_classes)`` and a box from :func:`properties.strategies.boxes` (degenerate boxes
    included). With ``padding``, each image independently has no padding, padding at drawn
    positions, or only padding (an all-padding image). A padding row has a negative class from
    ``PADDING_CLASSES`` and coordinates that are a fill value (-1 or 0), the box it held, or a
    copy of a real row's box (so that code which lets padding compete would visibly take
    anchors); with ``garbage``, also NaN, infinite or inverted coordinates (never read).
    """
    b = _size(draw, batch, st.sampled_from((1, 3)))
    g = _size(draw, num_rows, sizes(8))
    kinds = ["none", "some", "all"] if padding else ["none"]
    images = [
        draw(_image_labels(g, lattice, num_classes, draw(st.sampled_from(kinds)), garbage))
        for _ in range(b)
    ]
    return np.stack(images).reshape(b, g, 5).astype(np.float32)


@st.composite
def pad_labels(
    draw,
    labels: np.ndarray,
    num_padding: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    garbage: bool = False,
) -> np.ndarray:
    """Insert ``num_padding`` (default ``sizes(5)``) padding rows into every image of ``labels``.

    Returns ``(B, G + P, 5)``; removing the rows with class < 0 gives back ``labels`` (whose
    rows must all be real). Each image gets its own positions, classes and coordinates (as in
    :func:`label_batches`).
    """
    p = _size(draw, num_padding, sizes(5))
    batch, g = labels.shape[:2]
    out = np.zeros((batch, g + p, 5), np.float32)
    for b in range(batch):
        slots = draw(st.permutations(range(g + p)))
        pad_slots = sorted(slots[:p])
        is_pad = np.zeros(g + p, bool)
        is_pad[pad_slots] = True
        out[b, ~is_pad] = labels[b]
        for i in pad_slots:
            out[b, i, 0] = draw(st.sampled_from(PADDING_CLASSES))
            out[b, i, 1:] = draw(_padding_box(out[b], is_pad, lattice, garbage))
    return out


# --- NMS and detection: scores with ties, NMS problems, chains, class probabilities ------
# Everything returns NumPy arrays (float32 unless stated), shaped as the contract says, and
# builds on :mod:`properties.strategies` (lattice boxes, size buckets, dyadic thresholds).
#
# - scores: :func:`tied_scores` (few distinct levels, so equal scores are common, also in
#   groups of more than 16, where unstable sorts reorder them), :func:`nms_scores` (tied or
#   distinct);
# - NMS problems: :func:`nms_problems` (boxes, scores, threshold; exact on the lattice with
#   dyadic thresholds, or off the lattice with any threshold), :func:`nms_chains` (A suppresses
#   B, B overlaps C, A does not overlap C, ... with unrelated boxes around them),
#   :func:`boxes_at_threshold` (pairs whose IoU is exactly a dyadic threshold),
#   :func:`nonpositive_boxes` (every coordinate ``<= 0``);
# - detection: :func:`class_probs` ``(B, C+1, A)`` with ties along both axes,
#   :func:`detection_offsets` ``(B, 4A)`` (zero, lattice-friendly, or small floats),
#   :func:`detection_problems`.
#
# Shapes: lengths come from :func:`properties.strategies.sizes`; detection shapes
# ``(B, C+1, A)`` from ``BATCH_CLASSES`` x ``DETECTION_ANCHORS`` (12 shapes: a jitted detection
# compiles slowly), so a jitted implementation compiles a bounded number of times.

# Thresholds at which float32 and float64 comparisons of a rounded IoU can disagree (the
# exact 3/10 rounds up in float32), so decisions near them are compared margin-aware.
NON_DYADIC_THRESHOLDS = (0.1, 0.3, 0.45, 0.7, 0.9)
# The d2l default pos_threshold, and values on the probability lattice (so some confidences
# are exactly at the threshold: ``conf < pos_threshold`` is strict).
POS_THRESHOLDS = (0.009999999, 0.0, 1 / 64, 0.25, 0.5, 1.0)
# Detection shapes (B, C, A): (batch, object classes) pairs times anchor counts, 12 in all
# (a jitted detection compiles for each; batch 3 and batch 1 share C = 3 for batch-vs-image).
BATCH_CLASSES = ((1, 1), (1, 3), (3, 3))
DETECTION_ANCHORS = (0, 1, 5, 21)
PROB_STEP = 1.0 / 64  # lattice probabilities k / 64 in [0, 1]


class NmsProblem(NamedTuple):
    """Arguments of ``nms`` and whether every decision is exact (lattice, dyadic threshold)."""

    boxes: np.ndarray  # (N, 4) float32
    scores: np.ndarray  # (N,) float32
    iou_threshold: float
    exact: bool


class Chain(NamedTuple):
    """An NMS problem holding a suppression chain ``chain[0] -> chain[1] -> ...``.

    Consecutive chain boxes overlap with IoU ``> iou_threshold``, boxes two apart with IoU
    ``<= iou_threshold``, and the chain is visited in order (descending scores), so greedy NMS
    keeps exactly ``chain[0::2]``. The other boxes lie apart from the chain (IoU 0 with it).
    """

    boxes: np.ndarray
    scores: np.ndarray
    iou_threshold: float
    chain: tuple[int, ...]  # indices into boxes, in visiting order
    exact: bool


class DetectionProblem(NamedTuple):
    """Arguments of ``multibox_detection`` and whether every decision is exact."""

    cls_probs: np.ndarray  # (B, C+1, A) float32
    offset_preds: np.ndarray  # (B, 4A) float32
    anchors: np.ndarray  # (1, A, 4) float32
    nms_threshold: float
    pos_threshold: float
    exact: bool

    def args(self) -> dict:
        """The five arguments of ``multibox_detection``, by name, in call order."""
        return {k: getattr(self, k) for k in self._fields if k != "exact"}


# --- scores -------------------------------------------------------------------------------


@st.composite
def tied_scores(draw, n: int, max_levels: int = 4) -> np.ndarray:
    """``(n,)`` float32 scores taking at most ``max_levels`` distinct values (k / 64).

    With ``n > max_levels`` some scores are equal; with ``n >= 17`` the groups of equal scores
    are large enough that NumPy's default (unstable) sort reorders them.
    """
    if n == 0:
        return np.zeros(0, np.float32)
    count = draw(st.integers(1, max(1, min(max_levels, n))))
    levels = draw(
        st.lists(st.integers(1, 64), min_size=count, max_size=count, unique=True).map(sorted)
    )
    picks = draw(st.lists(st.sampled_from(levels), min_size=n, max_size=n))
    return np.asarray(picks, dtype=np.float32) * np.float32(PROB_STEP)


def nms_scores(n: int) -> st.SearchStrategy[np.ndarray]:
    """``(n,)`` float32 scores: pairwise distinct, or with ties."""
    return st.one_of(distinct_scores(n), tied_scores(n))


def increasing_maps(levels: int) -> st.SearchStrategy[np.ndarray]:
    """``levels`` strictly increasing float32 values: a strictly increasing map of ``levels``
    sorted distinct scores (negative, large and tiny values included)."""
    # No subnormals: XLA treats them as 0 in comparisons (denormals-are-zero), so a map onto
    # them would not be strictly increasing there (reported: jaximpl orders a score of 1e-45
    # as equal to 0).
    values = st.floats(
        -1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32
    )
    return st.lists(values, min_size=levels, max_size=levels, unique=True).map(
        lambda v: np.sort(np.asarray(v, dtype=np.float32))
    )


# --- NMS problems -------------------------------------------------------------------------


def any_thresholds() -> st.SearchStrategy[float]:
    """Thresholds in [0, 1]: dyadic, non-dyadic (0.3, ...), or any float32 in between."""
    return st.one_of(
        dyadic_thresholds(),
        st.sampled_from(NON_DYADIC_THRESHOLDS),
        st.floats(0, 1, width=32).map(float),
    )


@st.composite
def nms_problems(
    draw,
    lattice: bool = True,
    n: st.SearchStrategy[int] | None = None,
    scores: str = "any",
) -> NmsProblem:
    """An ``nms`` problem: lattice boxes with a dyadic threshold (``exact``) or off-lattice
    boxes (:func:`properties.strategies.offlattice_boxes`: no area underflows float32) with
    any threshold. ``scores``: ``"any"`` (distinct or tied), ``"tied"`` or ``"distinct"``.
    """
    n = sizes() if n is None else n
    b = draw(boxes(n, lattice=True) if lattice else offlattice_boxes(n))
    count = len(b)
    if scores == "tied":
        s = draw(tied_scores(count))
    elif scores == "distinct":
        s = draw(distinct_scores(count))
    else:
        s = draw(nms_scores(count))
    t = draw(dyadic_thresholds() if lattice else any_thresholds())
    return NmsProblem(b, s, float(t), exact=lattice)


@st.composite
def nms_chains(draw, max_extra: int = 18) -> Chain:
    """A suppression chain of 3 to 8 equal lattice boxes, shifted by ``d`` along x (or y).

    With width ``w`` (along the shift) the IoU of neighbours is ``(w - d) / (w + d)`` and of
    boxes two apart ``max(0, w - 2d) / (w + 2d)``. For a threshold ``t`` with
    ``r = (1 + t) / (1 - t)`` that means ``d r < w <= 2 d r``; ``w`` is drawn in that range,
    with its upper end (IoU of boxes two apart exactly ``t``) included for dyadic ``t``. The
    thresholds include ones below 0.5 with neighbour IoUs in ``(t, 0.5]``, which a
    self-suppression step hard-coding 0.5 gets wrong. Scores descend along the chain; the
    boxes are shuffled among up to ``max_extra`` unrelated boxes placed apart (IoU 0), so
    that the total is a size bucket.
    """
    t = draw(st.sampled_from((0.0, 0.25, 0.5, 0.75) + NON_DYADIC_THRESHOLDS[:-1]))
    dyadic = t in DYADIC_THRESHOLDS
    exact_t = Fraction(str(t))  # 3/10, not the double nearest to it
    length = draw(st.integers(3, 8))

    def widths(k_d: int) -> list[int]:
        # Lengths in lattice steps. Rational IoUs, so "exactly at t" is decided exactly; for a
        # non-dyadic t both sides keep clear of t (a rounded IoU could land on either side).
        out = []
        for k_w in range(k_d + 1, 129 - (length - 1) * k_d):
            near = Fraction(k_w - k_d, k_w + k_d)
            far = Fraction(max(0, k_w - 2 * k_d), k_w + 2 * k_d)
            if near > exact_t and (far < exact_t or (dyadic and far == exact_t)):
                out.append(k_w)
        return out

    k_d = draw(st.integers(1, 8))
    candidates = widths(k_d)
    while not candidates:  # too long for this step: shorten the chain
        length -= 1 if length > 3 else 0
        k_d = max(1, k_d - 1)
        candidates = widths(k_d)
    k_w = draw(st.sampled_from(candidates))
    k_h = draw(st.integers(1, 48))
    k_y = draw(st.integers(0, 64 - k_h))
    k_x = draw(st.integers(0, 128 - (length - 1) * k_d - k_w))
    chain = [
        (k_x + i * k_d, k_y, k_x + i * k_d + k_w, k_y + k_h) for i in range(length)
    ]  # y in [0, 1]
    # Unrelated boxes: y in [1 + 1/64, 2], apart from the chain; in all a size bucket of boxes.
    extra_n = draw(sizes(length + max_extra, min_size=length)) - length
    extra = []
    for _ in range(extra_n):
        x = sorted(draw(st.lists(st.integers(0, 128), min_size=2, max_size=2)))
        y = sorted(draw(st.lists(st.integers(65, 128), min_size=2, max_size=2)))
        extra.append((x[0], y[0], x[1], y[1]))
    all_boxes = np.asarray(chain + extra, dtype=np.float64).reshape(-1, 4) * LATTICE_STEP
    if draw(st.booleans()):  # the chain along y instead
        all_boxes = all_boxes[:, [1, 0, 3, 2]]
    n = len(all_boxes)
    # Scores: the chain descending, from the top (0.5 .. 1]; the others anywhere, with ties.
    chain_scores = np.float32(1.0) - np.arange(length, dtype=np.float32) / np.float32(64)
    extra_scores = draw(tied_scores(extra_n)) if extra_n else np.zeros(0, np.float32)
    s = np.concatenate([chain_scores, extra_scores]).astype(np.float32)
    perm = np.asarray(draw(st.permutations(range(n))), dtype=np.int64)  # new position -> old
    inverse = np.argsort(perm)  # old -> new
    return Chain(
        boxes=all_boxes[perm].astype(np.float32),
        scores=s[perm],
        iou_threshold=float(t),
        chain=tuple(int(inverse[i]) for i in range(length)),
        exact=dyadic,
    )


@st.composite
def boxes_at_threshold(draw) -> tuple[np.ndarray, float]:
    """Two lattice boxes whose IoU is exactly a dyadic threshold ``t``: ``((2, 4), t)``.

    Equal boxes shifted by ``x`` along one axis have IoU ``(w - x) / (w + x)``, which is ``t``
    for ``x = w (1 - t) / (1 + t)``: ``(w, x) = (3k, k)`` at 0.5, ``(5k, 3k)`` at 0.25,
    ``(7k, k)`` at 0.75, ``(k, k)`` (touching) at 0 and ``(k, 0)`` (identical) at 1.
    """
    t = draw(dyadic_thresholds())
    ratio = {0.0: (1, 1), 0.25: (5, 3), 0.5: (3, 1), 0.75: (7, 1), 1.0: (1, 0)}[t]
    k = draw(st.integers(1, 128 // (ratio[0] + ratio[1])))
    w, x = ratio[0] * k, ratio[1] * k
    h = draw(st.integers(1, 64))
    x0 = draw(st.integers(0, 128 - w - x))
    y0 = draw(st.integers(0, 128 - h))
    pair = np.asarray([[x0, y0, x0 + w, y0 + h], [x0 + x, y0, x0 + x + w, y0 + h]], np.float64)
    if draw(st.booleans()):
        pair = pair[:, [1, 0, 3, 2]]  # along y
    if draw(st.booleans()):
        pair = pair[::-1]
    return (pair * LATTICE_STEP).astype(np.float32), float(t)


@st.composite
def nonpositive_boxes(draw, n: st.SearchStrategy[int] | None = None) -> np.ndarray:
    """``(n, 4)`` lattice boxes with every coordinate ``<= 0`` (in ``[-2, 0]``).

    Lattice boxes moved by -2 (exact), some of them replaced by the origin point
    ``(0, 0, 0, 0)`` or boxes ending at the origin ``(-w, -h, 0, 0)``: what a "zeroed means
    suppressed" NMS loses.
    """
    b = draw(boxes(sizes() if n is None else n, lattice=True)) - np.float32(2)
    for i in range(len(b)):
        kind = draw(st.sampled_from(["shifted", "shifted", "origin", "ends_at_origin"]))
        if kind == "origin":
            b[i] = 0
        elif kind == "ends_at_origin":
            w, h = draw(st.integers(0, 128)), draw(st.integers(0, 128))
            b[i] = (-w * LATTICE_STEP, -h * LATTICE_STEP, 0, 0)
    return b.astype(np.float32)


# --- detection ----------------------------------------------------------------------------


@st.composite
def class_probs(draw, batch: int, classes: int, anchors: int) -> np.ndarray:
    """``(batch, classes + 1, anchors)`` float32 probabilities on the lattice k / 64.

    Drawn from a few levels, so equal maxima across classes (argmax ties) and equal
    confidences across anchors (NMS ties) are common; 0 (below the default
    ``pos_threshold``) and 1 are among the levels often. Rows need not sum to 1.
    """
    shape = (batch, classes + 1, anchors)
    size = int(np.prod(shape))
    if size == 0:
        return np.zeros(shape, np.float32)
    count = draw(st.integers(1, 5))
    levels = draw(
        st.lists(
            st.one_of(st.sampled_from([0, 1, 32, 64]), st.integers(0, 64)),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    picks = draw(st.lists(st.sampled_from(levels), min_size=size, max_size=size))
    return (np.asarray(picks, np.float32) * np.float32(PROB_STEP)).reshape(shape)


@st.composite
def detection_offsets(draw, batch: int, anchors: int, kind: str | None = None) -> np.ndarray:
    """``(batch, 4 * anchors)`` float32 offsets.

    ``kind``: ``"zero"`` (decoded boxes are the anchors), ``"lattice"`` (centre offsets
    ``1.25 k`` for ``|k| <= 4``, size offsets 0: a lattice anchor moves by ``k w / 8``, exact
    in float32 whatever the order of operations, so decisions stay exact) or ``"float"``
    (centre offsets in [-3, 3], size offsets in [-2, 2]); drawn when None.
    """
    if kind is None:
        kind = draw(st.sampled_from(["zero", "lattice", "float"]))
    shape = (batch, anchors, 4)
    size = batch * anchors
    if kind == "zero" or size == 0:
        return np.zeros((batch, 4 * anchors), np.float32)
    out = np.zeros(shape, np.float32)
    if kind == "lattice":
        k = draw(st.lists(st.integers(-4, 4), min_size=2 * size, max_size=2 * size))
        out[..., :2] = (np.asarray(k, np.float32) * np.float32(1.25)).reshape(batch, anchors, 2)
    else:
        xy = st.floats(-3, 3, width=32)
        wh = st.floats(-2, 2, width=32)
        out[..., :2] = np.asarray(
            draw(st.lists(xy, min_size=2 * size, max_size=2 * size)), np.float32
        ).reshape(batch, anchors, 2)
        out[..., 2:] = np.asarray(
            draw(st.lists(wh, min_size=2 * size, max_size=2 * size)), np.float32
        ).reshape(batch, anchors, 2)
    return out.reshape(batch, 4 * anchors)


@st.composite
def detection_problems(
    draw,
    exact: bool = True,
    num_anchors: st.SearchStrategy[int] | None = None,
    batch_classes: st.SearchStrategy[tuple[int, int]] | None = None,
    pos_threshold: st.SearchStrategy[float] | None = None,
    nms_threshold: st.SearchStrategy[float] | None = None,
) -> DetectionProblem:
    """A ``multibox_detection`` problem: lattice anchors, lattice probabilities with ties,
    shapes ``(B, C+1, A)`` from ``BATCH_CLASSES`` x ``DETECTION_ANCHORS``.

    ``exact``: zero or lattice-friendly offsets and a dyadic NMS threshold, so every decision
    is exact; otherwise float offsets and any threshold. ``num_anchors``, ``batch_classes``
    (``(B, C)`` pairs), ``pos_threshold`` and ``nms_threshold`` override the defaults.
    """
    b, c = draw(st.sampled_from(BATCH_CLASSES) if batch_classes is None else batch_classes)
    n = st.sampled_from(DETECTION_ANCHORS) if num_anchors is None else num_anchors
    anchors = draw(boxes(n, lattice=True))
    a = len(anchors)
    probs = draw(class_probs(b, c, a))
    kind = draw(st.sampled_from(["zero", "lattice"])) if exact else "float"
    offs = draw(detection_offsets(b, a, kind))
    if nms_threshold is None:
        nms_threshold = dyadic_thresholds() if exact else any_thresholds()
    if pos_threshold is None:
        pos_threshold = st.sampled_from(POS_THRESHOLDS)
    return DetectionProblem(
        cls_probs=probs,
        offset_preds=offs,
        anchors=anchors[None],
        nms_threshold=float(draw(nms_threshold)),
        pos_threshold=float(draw(pos_threshold)),
        exact=exact,
    )


@st.composite
def touching_boxes(draw) -> np.ndarray:
    """``(n, 4)`` lattice boxes that at most touch: cells of a random grid over ``[0, 2]^2``
    (sharing edges and corners), some of them collapsed onto a grid line (zero area, IoU 0
    with everything), in random order. Every pairwise IoU is exactly 0.
    """
    xs = draw(st.lists(st.integers(0, 128), min_size=2, max_size=6, unique=True).map(sorted))
    ys = draw(st.lists(st.integers(0, 128), min_size=2, max_size=6, unique=True).map(sorted))
    cells = [
        (x0, y0, x1, y1)
        for x0, x1 in zip(xs, xs[1:], strict=False)
        for y0, y1 in zip(ys, ys[1:], strict=False)
    ]
    count = draw(sizes(len(cells), min_size=1))
    picked = draw(st.permutations(cells))[:count]
    out = []
    for x0, y0, x1, y1 in picked:
        kind = draw(st.sampled_from(["cell", "cell", "cell", "left_edge", "top_edge"]))
        if kind == "left_edge":
            x1 = x0
        elif kind == "top_edge":
            y1 = y0
        out.append((x0, y0, x1, y1))
    return (np.asarray(out, np.float64) * LATTICE_STEP).astype(np.float32)
