"""NMS: scores with ties, NMS problems, suppression chains, boxes at a threshold.

Built on :mod:`properties.strategies.lattice`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from ._once import once, permutations, sampled
from .lattice import (
    DYADIC_THRESHOLDS,
    LATTICE_STEP,
    PROB_STEP,
    boxes,
    distinct_scores,
    dyadic_thresholds,
    offlattice_boxes,
    sizes,
)

__all__ = [
    "Chain",
    "NON_DYADIC_THRESHOLDS",
    "NmsProblem",
    "any_thresholds",
    "boxes_at_threshold",
    "increasing_maps",
    "nms_chains",
    "nms_problems",
    "nms_scores",
    "nonpositive_boxes",
    "tied_scores",
    "touching_boxes",
]

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


# --- scores -------------------------------------------------------------------------------


def _sorted_levels(count: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, 64), min_size=count, max_size=count, unique=True).map(sorted)


@st.composite
def tied_scores(draw, n: int, max_levels: int = 4) -> np.ndarray:
    """``(n,)`` float32 scores taking at most ``max_levels`` distinct values (k / 64).

    With ``n > max_levels`` some scores are equal; with ``n >= 17`` the groups of equal scores
    are large enough that NumPy's default (unstable) sort reorders them.
    """
    if n == 0:
        return np.zeros(0, np.float32)
    count = draw(st.integers(1, max(1, min(max_levels, n))))
    levels = draw(once(_sorted_levels, count))
    picks = draw(st.lists(sampled(*levels), min_size=n, max_size=n))
    return np.asarray(picks, dtype=np.float32) * np.float32(PROB_STEP)


def nms_scores(n: int) -> st.SearchStrategy[np.ndarray]:
    """``(n,)`` float32 scores: pairwise distinct, or with ties."""
    return once(_nms_scores, n)


def _nms_scores(n: int) -> st.SearchStrategy[np.ndarray]:
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
    return _ANY_THRESHOLDS


_ANY_THRESHOLDS = st.one_of(
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
    b = draw(once(boxes, n, lattice=True) if lattice else once(offlattice_boxes, n))
    count = len(b)
    if scores == "tied":
        s = draw(once(tied_scores, count))
    elif scores == "distinct":
        s = draw(once(distinct_scores, count))
    else:
        s = draw(nms_scores(count))
    t = draw(dyadic_thresholds() if lattice else any_thresholds())
    return NmsProblem(b, s, float(t), exact=lattice)


_CHAIN_THRESHOLDS = st.sampled_from((0.0, 0.25, 0.5, 0.75) + NON_DYADIC_THRESHOLDS[:-1])


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
    t = draw(_CHAIN_THRESHOLDS)
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
    k_w = draw(sampled(*candidates))
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
    extra_scores = draw(once(tied_scores, extra_n)) if extra_n else np.zeros(0, np.float32)
    s = np.concatenate([chain_scores, extra_scores]).astype(np.float32)
    perm = np.asarray(draw(permutations(n)), dtype=np.int64)  # new position -> old
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
    b = draw(once(boxes, sizes() if n is None else n, lattice=True)) - np.float32(2)
    for i in range(len(b)):
        kind = draw(sampled("shifted", "shifted", "origin", "ends_at_origin"))
        if kind == "origin":
            b[i] = 0
        elif kind == "ends_at_origin":
            w, h = draw(st.integers(0, 128)), draw(st.integers(0, 128))
            b[i] = (-w * LATTICE_STEP, -h * LATTICE_STEP, 0, 0)
    return b.astype(np.float32)


_GRID_LINES = st.lists(st.integers(0, 128), min_size=2, max_size=6, unique=True).map(sorted)


@st.composite
def touching_boxes(draw) -> np.ndarray:
    """``(n, 4)`` lattice boxes that at most touch: cells of a random grid over ``[0, 2]^2``
    (sharing edges and corners), some of them collapsed onto a grid line (zero area, IoU 0
    with everything), in random order. Every pairwise IoU is exactly 0.
    """
    xs = draw(_GRID_LINES)
    ys = draw(_GRID_LINES)
    cells = [
        (x0, y0, x1, y1)
        for x0, x1 in zip(xs, xs[1:], strict=False)
        for y0, y1 in zip(ys, ys[1:], strict=False)
    ]
    count = draw(sizes(len(cells), min_size=1))
    picked = draw(st.permutations(cells))[:count]
    out = []
    for x0, y0, x1, y1 in picked:
        kind = draw(sampled("cell", "cell", "cell", "left_edge", "top_edge"))
        if kind == "left_edge":
            x1 = x0
        elif kind == "top_edge":
            y1 = y0
        out.append((x0, y0, x1, y1))
    return (np.asarray(out, np.float64) * LATTICE_STEP).astype(np.float32)
