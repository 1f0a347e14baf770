"""Matching: assignment problems (tied, disjoint, overlapping), anchors, label batches.

Built on :mod:`properties.strategies.lattice`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ._once import once, permutations, sampled
from ._shared import count_of
from .lattice import LATTICE_MAX, LATTICE_STEP, boxes, sizes

__all__ = [
    "FLUSH_BELOW",
    "PADDING_CLASSES",
    "anchors_1a4",
    "disjoint_matching_problems",
    "flush_tiny",
    "label_batches",
    "matching_problems",
    "overlapping_matching_problems",
    "pad_labels",
    "perturbed",
    "tied_matching_problems",
]

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


def _pool(n: int, lattice: bool, degenerate: bool = True) -> st.SearchStrategy[np.ndarray]:
    return once(_make_pool, n, lattice, degenerate)


def _make_pool(n: int, lattice: bool, degenerate: bool) -> st.SearchStrategy[np.ndarray]:
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
    g = count_of(draw, num_gt, sizes(8))
    a = count_of(draw, num_anchors, sizes(21))
    pool = draw(_pool(g + a, lattice, degenerate))
    order = np.asarray(draw(permutations(g + a)), dtype=np.intp).reshape(-1)
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
    g = count_of(draw, num_gt, sizes(8, min_size=1))
    a = count_of(draw, num_anchors, sizes(21, min_size=1))
    gt, anchors = draw(once(matching_problems, g, a, lattice=True))
    gt, anchors = gt.copy(), anchors.copy()
    for i in range(1, len(gt)):
        kind = draw(sampled("keep", "copy", "mirror"))
        j = draw(st.integers(0, i - 1))
        if kind == "copy":
            gt[i] = gt[j]
        elif kind == "mirror":
            gt[i] = _mirror(gt[j])
    for i in range(len(anchors)):
        kinds = ["keep", "symmetric"] + (["copy"] if i else []) + (["gt"] if len(gt) else [])
        kind = draw(sampled(*kinds))
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
    g = count_of(draw, num_gt, sizes(8, min_size=1))
    a = count_of(draw, num_anchors, sizes(21, min_size=1))
    half = LATTICE_MAX // 2
    pool = draw(once(boxes, g + a, lattice=True))
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
    g = count_of(draw, num_gt, sizes(8))
    a = count_of(draw, num_anchors, sizes(21))
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
    b = draw(_pool(count_of(draw, n, sizes(13)), lattice, degenerate=False))
    # Off the lattice the flush of tiny coordinates can collapse a box: widen it again.
    return b[None] if lattice else _widen(b, 1.0 / 128)[None]


_PADDING_CLASS = st.sampled_from(PADDING_CLASSES)
_FILL = st.sampled_from(_PADDING_FILL)
_GARBAGE = st.sampled_from(_GARBAGE_BOXES)


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
        rows[i, 0] = draw(_PADDING_CLASS)
        rows[i, 1:] = draw(_padding_box(rows, is_pad, lattice, garbage))
    return rows.reshape(num_rows, 5)


@st.composite
def _padding_box(
    draw, rows: np.ndarray, is_pad: np.ndarray, lattice: bool, garbage: bool
) -> np.ndarray:
    """Coordinates of a padding row: a fill value, a drawn box, or a copy of a real row's box."""
    real = np.flatnonzero(~is_pad)
    kinds = ["fill", "own"] + (["copy"] if len(real) else []) + (["garbage"] if garbage else [])
    kind = draw(sampled(*kinds))
    if kind == "fill":
        return np.full(4, draw(_FILL), np.float32)
    if kind == "copy":  # a padding row on top of a real object: it would win anchors
        return rows[real[draw(st.integers(0, len(real) - 1))], 1:].copy()
    if kind == "garbage":
        return np.asarray(draw(_GARBAGE), np.float32)
    return draw(_pool(1, lattice))[0]  # a box of its own


_BATCH = st.sampled_from((1, 3))


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
    b = count_of(draw, batch, _BATCH)
    g = count_of(draw, num_rows, sizes(8))
    kinds = ["none", "some", "all"] if padding else ["none"]
    images = [
        draw(once(_image_labels, g, lattice, num_classes, draw(sampled(*kinds)), garbage))
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
    p = count_of(draw, num_padding, sizes(5))
    batch, g = labels.shape[:2]
    out = np.zeros((batch, g + p, 5), np.float32)
    for b in range(batch):
        slots = draw(permutations(g + p))
        pad_slots = sorted(slots[:p])
        is_pad = np.zeros(g + p, bool)
        is_pad[pad_slots] = True
        out[b, ~is_pad] = labels[b]
        for i in pad_slots:
            out[b, i, 0] = draw(_PADDING_CLASS)
            out[b, i, 1:] = draw(_padding_box(out[b], is_pad, lattice, garbage))
    return out
