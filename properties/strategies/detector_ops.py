"""Hypothesis strategies for the detector operations of CONTRACT.md §3, reusable in your tests.

Built on the package's :mod:`~properties.strategies.lattice` (the lattice, the size buckets,
boxes), :mod:`~properties.strategies.nms` and :mod:`~properties.strategies.matching`; NumPy
float32 arrays unless stated. Sections:

- formats (§3.1): :func:`formats`, :func:`format_boxes` (boxes in any format with their
  corners; exact on the lattice);
- class-aware NMS (§3.2): :func:`class_labels`, :func:`batched_nms_problems`,
  :func:`padded_batches` (the static twin's batched arguments);
- box coding (§3.3): :data:`CODER_WEIGHTS`, :func:`coder_problems`;
- matching (§3.4): :func:`quality_matrices` (IoU matrices of related lattice boxes, or few
  levels so that ties are everywhere), :func:`matcher_thresholds`;
- the GIoU family (§3.5): :func:`loss_pairs` (identical, nested, touching, crossing,
  degenerate, apart);
- clipping and filtering (§3.6): :func:`clip_problems`, :func:`min_sizes`.

Shapes come from ``SIZE_BUCKETS`` so a jitted implementation compiles a bounded number of
times per test.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from reference import box_iou

from ._once import once, sampled
from .lattice import LATTICE_MAX, LATTICE_STEP, boxes, dyadic_thresholds, offlattice_boxes, sizes
from .matching import matching_problems
from .nms import any_thresholds, nms_scores

__all__ = [
    "CODER_WEIGHTS",
    "FORMATS",
    "MATCHER_THRESHOLDS",
    "PAIR_KINDS",
    "BatchedNmsProblem",
    "PaddedBatch",
    "batched_nms_problems",
    "class_labels",
    "clip_problems",
    "coder_problems",
    "corners_to",
    "format_boxes",
    "formats",
    "loss_pairs",
    "matcher_thresholds",
    "min_sizes",
    "padded_batches",
    "quality_matrices",
]

FORMATS = ("xyxy", "xywh", "cxcywh", "yxyx")


def _count(draw, n, default) -> int:
    """``n`` itself, or drawn from it when it is a strategy (``default`` when None)."""
    fixed = isinstance(n, int)
    return n if fixed else draw(default if n is None else n)


def _related_boxes(n: int, lattice: bool, degenerate: bool = True) -> st.SearchStrategy:
    return (
        once(boxes, n, lattice=True, degenerate=degenerate)
        if lattice
        else once(offlattice_boxes, n, degenerate=degenerate)
    )


# --- formats ---------------------------------------------------------------------------------


def formats() -> st.SearchStrategy[str]:
    """One of ``xyxy``, ``xywh``, ``cxcywh``, ``yxyx``."""
    return _FORMATS


_FORMATS = st.sampled_from(FORMATS)


def corners_to(corners: np.ndarray, fmt: str) -> np.ndarray:
    """``(..., 4)`` corners in ``fmt``, computed in float64 (exact for lattice corners:
    centres are multiples of 1/128, sizes of 1/64)."""
    c = np.asarray(corners, dtype=np.float64)
    x1, y1, x2, y2 = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    out = {
        "xyxy": (x1, y1, x2, y2),
        "xywh": (x1, y1, x2 - x1, y2 - y1),
        "cxcywh": ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1),
        "yxyx": (y1, x1, y2, x2),
    }[fmt]
    return np.stack(out, axis=-1)


@st.composite
def format_boxes(
    draw, fmt: str, n: int | st.SearchStrategy[int] | None = None, lattice: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes in fmt, their corners)``: two ``(n, 4)`` float32 arrays.

    The corners come from :func:`properties.strategies.boxes` (identical, nested, touching
    and degenerate boxes) or :func:`properties.strategies.offlattice_boxes`; the boxes in
    ``fmt`` are computed from them in float64 and rounded to float32, so on the lattice every
    value is exact and the two arrays describe the same boxes.
    """
    count = _count(draw, n, sizes())
    corners = draw(_related_boxes(count, lattice))
    return corners_to(corners, fmt).astype(np.float32).reshape(count, 4), corners


# --- class-aware NMS ---------------------------------------------------------------------


class BatchedNmsProblem(NamedTuple):
    """Arguments of ``batched_nms`` and whether every decision is exact."""

    boxes: np.ndarray
    scores: np.ndarray
    idxs: np.ndarray
    iou_threshold: float
    exact: bool


@st.composite
def class_labels(draw, n: int, max_classes: int = 4) -> np.ndarray:
    """``(n,)`` int64 class labels: 1 to ``max_classes`` distinct values, negative ones
    included (any integer is a class in ``batched_nms``), in any order."""
    k = draw(st.integers(1, max_classes))
    pool = draw(once(_class_pool, k))
    label = sampled(*pool)
    return np.asarray([draw(label) for _ in range(n)], dtype=np.int64)


def _class_pool(k: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(-3, 40), min_size=k, max_size=k, unique=True) | st.just(
        list(range(k))
    )


@st.composite
def batched_nms_problems(
    draw,
    lattice: bool = True,
    n: st.SearchStrategy[int] | None = None,
    max_classes: int = 4,
) -> BatchedNmsProblem:
    """A ``batched_nms`` problem: related boxes (lattice with a dyadic threshold: ``exact``;
    or off the lattice with any threshold), scores distinct or tied, 1 to ``max_classes``
    classes. Related boxes land in different classes, so a class-blind NMS suppresses boxes
    it must keep."""
    count = _count(draw, n, sizes())
    b = draw(_related_boxes(count, lattice))
    s = draw(nms_scores(count))
    idxs = draw(once(class_labels, count, max_classes))
    t = draw(dyadic_thresholds() if lattice else any_thresholds())
    return BatchedNmsProblem(b, s, idxs, float(t), exact=lattice)


class PaddedBatch(NamedTuple):
    """Arguments of ``batched_nms_padded`` (``(B, N, 4), (B, N), (B, N)``, ...)."""

    boxes: np.ndarray
    scores: np.ndarray
    idxs: np.ndarray
    iou_threshold: float
    max_output_size: int
    score_threshold: float | None


@st.composite
def padded_batches(
    draw, batch: st.SearchStrategy[int] | None = None, n: st.SearchStrategy[int] | None = None
) -> PaddedBatch:
    """Lattice problems for ``batched_nms_padded``: ``B`` images (1 to 3) of ``N`` boxes
    (a size bucket), a dyadic threshold, ``max_output_size`` below, at or above ``N`` (0
    included), and a score threshold (None, or one of the scores: strictly above it counts)."""
    b = _count(draw, batch, st.integers(1, 3))
    count = _count(draw, n, sizes(21))
    image = once(batched_nms_problems, lattice=True, n=once(st.just, count))
    images = [draw(image) for _ in range(b)]
    size = draw(sampled(*sorted({0, 1, max(count // 2, 1), count, count + 3})))
    scores = np.stack([p.scores for p in images]).reshape(b, count)
    score_threshold = None
    if count and draw(st.booleans()):
        score_threshold = float(draw(sampled(*sorted(set(scores.ravel().tolist())))))
    return PaddedBatch(
        boxes=np.stack([p.boxes for p in images]).reshape(b, count, 4),
        scores=scores,
        idxs=np.stack([p.idxs for p in images]).reshape(b, count),
        iou_threshold=draw(dyadic_thresholds()),
        max_output_size=size,
        score_threshold=score_threshold,
    )


# --- box coding ----------------------------------------------------------------------------

# Faster R-CNN's RPN and RetinaNet (1, 1, 1, 1), its box head and SSD (10, 10, 5, 5), and a
# power-of-two set.
CODER_WEIGHTS = ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0), (2.0, 4.0, 0.5, 1.0))


_SCALE_EXPONENTS = st.sampled_from((-7, -3, 3, 7))


@st.composite
def coder_problems(
    draw,
    n: int | st.SearchStrategy[int] | None = None,
    lattice: bool = True,
    degenerate: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(reference_boxes, proposals)``: two ``(n, 4)`` float32 arrays for ``BoxCoder.encode``.

    Proposals have positive width and height (the code divides by them); the boxes to code
    are degenerate only with ``degenerate`` (a zero size needs ``eps > 0``). Some boxes are
    proposals scaled far up or down (size ratios past the decoder's clamp, ``1000 / 16``).
    """
    count = _count(draw, n, sizes())
    proposals = draw(_related_boxes(count, lattice, degenerate=False))
    gt = draw(_related_boxes(count, lattice, degenerate=degenerate)).astype(np.float64)
    for i in range(count):
        if draw(st.integers(0, 4)) == 0:  # a box 2**k times its proposal's size
            k = draw(_SCALE_EXPONENTS)
            px, py = proposals[i, :2] + (proposals[i, 2:] - proposals[i, :2]) / 2
            half = (proposals[i, 2:] - proposals[i, :2]).astype(np.float64) * 2.0**k / 2
            gt[i] = [px - half[0], py - half[1], px + half[0], py + half[1]]
    return gt.astype(np.float32), proposals


# --- matching ------------------------------------------------------------------------------


_EIGHTHS = st.integers(-8, 8).map(lambda k: k / 8)


def _integers_except(hi: int, excluded: int) -> st.SearchStrategy[int]:
    return st.integers(0, hi).filter(lambda i: i != excluded)


@st.composite
def quality_matrices(
    draw,
    num_gt: int | st.SearchStrategy[int] | None = None,
    num_anchors: int | st.SearchStrategy[int] | None = None,
) -> np.ndarray:
    """``(G, A)`` float32 quality matrices, ground truths by rows.

    Either the IoU matrix of a lattice matching problem (related boxes: copies give exact
    ties, touching boxes zeros), or values on a few levels ``k / 8`` in ``[-1, 1]`` (a GIoU
    can be negative) with whole rows or columns copied: ties at a ground truth's maximum in
    several anchors, and anchors whose own best ground truth is another one; some columns
    are copies one ulp lower, near ties that only an exact comparison tells apart.
    """
    g = _count(draw, num_gt, sizes(8))
    a = _count(draw, num_anchors, sizes(21))
    if draw(st.booleans()):
        problem = once(matching_problems, once(st.just, g), once(st.just, a), lattice=True)
        gt, anchors = draw(problem)
        # The contract's IoU in float64, then rounded once.
        return np.asarray(box_iou(gt, anchors), np.float64).astype(np.float32).reshape(g, a)
    q = np.asarray([[draw(_EIGHTHS) for _ in range(a)] for _ in range(g)], np.float32)
    q = q.reshape(g, a)
    for i in range(1, a):
        if draw(st.integers(0, 3)) == 0:  # a tie in every row
            q[:, i] = q[:, draw(st.integers(0, i - 1))]
    for i in range(1, g):
        if draw(st.integers(0, 3)) == 0:
            q[i] = q[draw(st.integers(0, i - 1))]
    if g and a >= 2 and draw(st.booleans()):
        # A near tie: a copy, one ulp lower, of the best anchor of the ground truth whose best
        # is the poorest (where low-quality matches act; detectron2 #3750: a 1e-7 rounding
        # decides whether an anchor is a tie).
        poorest = int(np.argmin(q.max(axis=1)))
        best = int(np.argmax(q[poorest]))
        near = draw(once(_integers_except, a - 1, best))
        q[:, near] = -1
        top = q[poorest, best]
        # One ulp below, but never a subnormal (XLA flushes those to 0, CONTRACT.md §5.4).
        below = np.nextafter(top, np.float32(-np.inf)) if top != 0 else np.float32(-(2.0**-24))
        q[poorest, near] = below
    return q


# (high, low) pairs: torchvision's detectors (Faster R-CNN's RPN 0.7/0.3, its box head
# 0.5/0.5, RetinaNet 0.5/0.4) and dyadic ones, where lattice qualities sit exactly on them.
MATCHER_THRESHOLDS = ((0.7, 0.3), (0.5, 0.5), (0.5, 0.4), (0.5, 0.25), (0.75, 0.25), (1.0, 0.0))


_MATCHER_THRESHOLDS = st.sampled_from(MATCHER_THRESHOLDS)


@st.composite
def matcher_thresholds(draw) -> tuple[float, float]:
    """``(high_threshold, low_threshold)``, ``low <= high``: the pairs of
    :data:`MATCHER_THRESHOLDS`, or two levels ``k / 8`` (qualities sit exactly on them)."""
    if draw(st.booleans()):
        return draw(_MATCHER_THRESHOLDS)
    a, b = draw(st.integers(-8, 8)), draw(st.integers(-8, 8))
    return max(a, b) / 8, min(a, b) / 8


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
    count = _count(draw, n, sizes())
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
    count = _count(draw, n, sizes())
    b = draw(_related_boxes(count, lattice)).astype(np.float64)
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
