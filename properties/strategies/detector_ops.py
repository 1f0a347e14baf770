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
  levels so that ties are everywhere), :func:`matcher_thresholds`.

The GIoU family (§3.5) and clipping (§3.6) are in :mod:`~properties.strategies.detector_geometry`.

Shapes come from ``SIZE_BUCKETS`` so a jitted implementation compiles a bounded number of
times per test.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from reference import box_iou

from ._once import once, sampled
from ._shared import count_of, related_boxes
from .lattice import dyadic_thresholds, sizes
from .matching import matching_problems
from .nms import any_thresholds, nms_scores

__all__ = [
    "CODER_WEIGHTS",
    "FORMATS",
    "MATCHER_THRESHOLDS",
    "BatchedNmsProblem",
    "PaddedBatch",
    "batched_nms_problems",
    "class_labels",
    "coder_problems",
    "corners_to",
    "format_boxes",
    "formats",
    "matcher_thresholds",
    "padded_batches",
    "quality_matrices",
]

FORMATS = ("xyxy", "xywh", "cxcywh", "yxyx")


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
    count = count_of(draw, n, sizes())
    corners = draw(related_boxes(count, lattice))
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
    count = count_of(draw, n, sizes())
    b = draw(related_boxes(count, lattice))
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
    b = count_of(draw, batch, st.integers(1, 3))
    count = count_of(draw, n, sizes(21))
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
    count = count_of(draw, n, sizes())
    proposals = draw(related_boxes(count, lattice, degenerate=False))
    gt = draw(related_boxes(count, lattice, degenerate=degenerate)).astype(np.float64)
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
    g = count_of(draw, num_gt, sizes(8))
    a = count_of(draw, num_anchors, sizes(21))
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
