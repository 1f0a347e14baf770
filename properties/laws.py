"""Law checkers and small models of the contract, shared by several property modules.

- NMS: :func:`visiting_rank` (the contract's visiting order), and the two laws that, with the
  visiting order, determine greedy NMS: :func:`check_kept_do_not_overlap` and
  :func:`check_suppressed_have_suppressor` (used on ``nms`` and on the kept rows of
  ``multibox_detection``).
- Matching: :func:`iou_matrix` (the reference's ``J``), :func:`greedy_pairs` and
  :func:`assign_from_iou`, the contract's assignment computed from a given ``J`` (used to apply
  the contract to float32-rounded IoUs).
"""

from __future__ import annotations

import numpy as np

import reference

from .asserts import Call, check


def visiting_rank(scores: np.ndarray) -> np.ndarray:
    """Position of each box in the contract's visiting order (-score, index)."""
    n = len(scores)
    order = np.lexsort((np.arange(n), -scores.astype(np.float64)))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def check_kept_do_not_overlap(got, boxes, t: float, margin: float, call: Call) -> None:
    """Law: no two kept boxes have IoU ``> t`` (``> t + margin`` off the lattice)."""
    __tracebackhide__ = True
    if len(got) < 2:
        return
    iou = reference.box_iou(boxes[got], boxes[got])
    np.fill_diagonal(iou, 0)
    over = np.argwhere(iou > t + margin)
    if over.size:
        i, j = (int(k) for k in over[0])
        check(
            False,
            f"kept indices {got.tolist()}: kept boxes {int(got[i])} and {int(got[j])} have IoU "
            f"{iou[i, j]!r} > iou_threshold {t} (one must suppress the other)",
            call,
        )


def check_suppressed_have_suppressor(got, boxes, scores, t: float, margin: float, call) -> None:
    """Law: every box not kept has IoU ``> t`` (``> t - margin``) with a kept box visited
    before it."""
    __tracebackhide__ = True
    n = len(scores)
    kept = np.zeros(n, dtype=bool)
    kept[got] = True
    if kept.all():
        return
    rank = visiting_rank(scores)
    iou = reference.box_iou(boxes, boxes)
    for j in np.flatnonzero(~kept):
        by = [int(i) for i in got if rank[i] < rank[j] and iou[i, j] > t - margin]
        if not by:
            earlier = [int(i) for i in got if rank[i] < rank[j]]
            best = max(earlier, key=lambda i: iou[i, j]) if earlier else None
            detail = (
                f"the largest IoU with a kept box visited before it is {iou[best, j]!r} "
                f"(box {best})"
                if best is not None
                else "no kept box is visited before it"
            )
            check(
                False,
                f"kept indices {got.tolist()}: box {int(j)} (score {scores[j]!r}) is suppressed, "
                f"but no kept box visited before it has IoU > iou_threshold {t}: {detail}",
                call,
            )


def iou_matrix(gt: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """``J = box_iou(anchors, ground_truth)``, ``(A, G)`` float64 (the reference's IoU)."""
    jaccard = np.asarray(reference.box_iou(anchors, gt), dtype=np.float64)
    return jaccard.reshape(len(anchors), len(gt))


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
