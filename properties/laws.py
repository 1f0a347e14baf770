"""Law checkers and small models of the contract, shared by several property modules.

- NMS: :func:`visiting_rank` (the visiting order), and the two laws that, with the visiting
  order, determine greedy NMS: :func:`check_kept_do_not_overlap` and
  :func:`check_suppressed_have_suppressor` (used on ``nms`` and on the kept rows of
  ``multibox_detection``).
- Matching: :func:`iou_matrix` (the reference's ``J``), :func:`greedy_pairs` and
  :func:`assign_from_iou`, the contract's assignment computed from a given ``J`` (used to apply
  the contract to float32-rounded IoUs).

Each takes the ``conventions`` the implementation is judged by (CONTRACT.md §7; None: the
contract's): the IoU they compute, suppression at ``>`` or ``>=``, and the tie order. Under the
tie order "any" the visiting order among equal scores is open, and the three laws (kept in
non-increasing score; no kept pair over the threshold; every suppressed box over it with a kept
box of higher or equal score) characterise every valid one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.boxes import iou

from .asserts import Call, check
from .conventions import CONTRACT


def _iou(conventions: Any) -> Any:
    return (conventions or CONTRACT).reference.box_iou


def suppresses(iou: np.ndarray, t: float, conventions: Any = None) -> np.ndarray:
    """Where an IoU suppresses at threshold ``t``: ``> t``, or ``>= t`` when the conventions say
    so (a NaN IoU never does)."""
    if (conventions or CONTRACT).nms_suppress == ">=":
        return iou >= t
    return iou > t


def visiting_rank(scores: np.ndarray, ties: str = "lowest") -> np.ndarray:
    """Position of each box in the visiting order: (-score, index) for ``ties`` "lowest",
    (-score, -index) for "highest"; for "any", equal scores share the rank of the first."""
    n = len(scores)
    s = -scores.astype(np.float64)
    key = {"lowest": np.arange(n), "highest": -np.arange(n), "any": np.zeros(n)}[ties]
    order = np.lexsort((key, s))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    if ties == "any":  # equal scores: one rank, the group's first position
        first = np.searchsorted(s[order], s[order], side="left")
        rank[order] = first
    return rank


def check_kept_do_not_overlap(
    got, boxes, t: float, margin: float, call: Call, conventions: Any = None
) -> None:
    """Law: no two kept boxes have an IoU that suppresses (``> t``, or ``>= t`` by the
    conventions; beyond ``margin`` off the lattice)."""
    __tracebackhide__ = True
    if len(got) < 2:
        return
    iou = _iou(conventions)(boxes[got], boxes[got])
    np.fill_diagonal(iou, np.nan)
    over = np.argwhere(suppresses(iou, t + margin, conventions))
    if over.size:
        i, j = (int(k) for k in over[0])
        rule = (conventions or CONTRACT).nms_suppress
        check(
            False,
            f"kept indices {got.tolist()}: kept boxes {int(got[i])} and {int(got[j])} have IoU "
            f"{iou[i, j]!r} {rule} iou_threshold {t} (one must suppress the other)",
            call,
        )


def check_suppressed_have_suppressor(
    got, boxes, scores, t: float, margin: float, call, conventions: Any = None
) -> None:
    """Law: every box not kept has a suppressing IoU (``> t``, or ``>= t``; within ``margin``)
    with a kept box visited before it (under the tie order "any": of higher or equal score)."""
    __tracebackhide__ = True
    n = len(scores)
    kept = np.zeros(n, dtype=bool)
    kept[got] = True
    if kept.all():
        return
    ties = (conventions or CONTRACT).nms_ties
    rank = visiting_rank(scores, ties)
    iou = _iou(conventions)(boxes, boxes)
    over = suppresses(iou, t - margin, conventions)
    rule = (conventions or CONTRACT).nms_suppress
    for j in np.flatnonzero(~kept):
        before = [
            int(i) for i in got if rank[i] < rank[j] or (ties == "any" and rank[i] == rank[j])
        ]
        by = [i for i in before if over[i, j]]
        if not by:
            best = max(before, key=lambda i: np.nan_to_num(iou[i, j], nan=-1)) if before else None
            detail = (
                f"the largest IoU with a kept box visited before it is {iou[best, j]!r} "
                f"(box {best})"
                if best is not None
                else "no kept box is visited before it"
            )
            check(
                False,
                f"kept indices {got.tolist()}: box {int(j)} (score {scores[j]!r}) is suppressed, "
                f"but no kept box visited before it has IoU {rule} iou_threshold {t}: {detail}",
                call,
            )


def iou_matrix(gt: np.ndarray, anchors: np.ndarray, conventions: Any = None) -> np.ndarray:
    """``J = box_iou(anchors, ground_truth)``, ``(A, G)`` float64 (the reference's IoU, under
    the conventions)."""
    jaccard = np.asarray(_iou(conventions)(anchors, gt), dtype=np.float64)
    return jaccard.reshape(len(anchors), len(gt))


def float32_iou(gt: np.ndarray, anchors: np.ndarray, conventions: Any = None) -> np.ndarray:
    """``J`` ``(A, G)`` as a float32 implementation computes it: the reference's IoU core in
    float32 arithmetic (on the lattice the correctly rounded ratio; with an epsilon in the
    union, one more rounding), as float64."""
    b_anchors = np.asarray(anchors, np.float32).reshape(-1, 4)
    b_gt = np.asarray(gt, np.float32).reshape(-1, 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        return iou(b_anchors, b_gt, (conventions or CONTRACT).rules).astype(np.float64)


def greedy_pairs(jaccard: np.ndarray) -> list[tuple[int, int]]:
    """The ``min(A, G)`` greedy picks ``(anchor, gt)`` in round order (first max, row-major)."""
    remaining = np.array(jaccard, dtype=np.float64)
    pairs = []
    for _ in range(min(remaining.shape)):
        a, g = np.unravel_index(int(np.argmax(remaining)), remaining.shape)
        pairs.append((int(a), int(g)))
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return pairs


def assign_from_iou(jaccard: np.ndarray, t: float) -> np.ndarray:
    """The contract's map computed from ``J`` (steps a and b)."""
    num_anchors, num_gt = jaccard.shape
    out = np.full(num_anchors, -1, dtype=np.int64)
    if num_gt == 0:
        return out
    best = np.argmax(jaccard, axis=1)
    hit = jaccard[np.arange(num_anchors), best] >= t
    out[hit] = best[hit]
    for a, g in greedy_pairs(jaccard):
        out[a] = g
    return out
