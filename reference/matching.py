"""Matching anchors to ground truth, and the training targets built on it.

:func:`assign` is the check-free core of ``assign_anchor_to_bbox``, which
``multibox_target`` runs once per image.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .boxes import iou
from .coding import check_anchor_extent, encode
from .rules import CONTRACT, Rules


def assign(
    ground_truth: np.ndarray, anchors: np.ndarray, iou_threshold: float, rules: Rules = CONTRACT
) -> np.ndarray:
    """Check-free core of :func:`assign_anchor_to_bbox`: ``(G, 4), (A, 4) -> (A,)``.

    ``rules`` (CONTRACT.md §7) change only the IoU. A NaN IoU (another library's empty union)
    is the largest for ``np.argmax``, as for the chapter's ``torch.argmax``, and fails every
    threshold comparison.
    """
    num_anchors, num_gt = anchors.shape[0], ground_truth.shape[0]
    assigned = np.full(num_anchors, -1, dtype=np.int64)
    if num_gt == 0:
        return assigned
    jaccard = iou(anchors, ground_truth, rules)  # (A, G)

    # a. Every anchor whose best IoU reaches the threshold takes its best
    #    ground truth (np.argmax returns the first maximum: lowest index on ties).
    for a in range(num_anchors):
        best_gt = int(np.argmax(jaccard[a]))
        if jaccard[a, best_gt] >= iou_threshold:
            assigned[a] = best_gt

    # b. min(A, G) greedy rounds. Each takes the largest remaining entry of the
    #    matrix (the first in row-major order on ties: np.argmax of the flattened
    #    C-ordered matrix), assigns that anchor to that ground truth, overriding
    #    step a, and removes the anchor's row and the ground truth's column.
    #    A round runs even when the largest remaining IoU is 0.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned


def assign_anchor_to_bbox(
    ground_truth, anchors, device=None, iou_threshold: float = 0.5
) -> np.ndarray:
    """Assign ground-truth boxes to anchors: ``(G, 4), (A, 4) -> (A,)`` int64.

    ``result[a]`` is the index of the ground truth assigned to anchor ``a``, or
    -1. With ``J = box_iou(anchors, ground_truth)``:

    a. each anchor whose best IoU is ``>= iou_threshold`` takes its best
       ground truth (the lowest index on ties);
    b. then ``min(A, G)`` greedy rounds: the largest remaining entry of ``J``
       (the first in row-major order on ties) assigns its anchor to its ground
       truth, overriding a, and removes that row and column. A round runs even
       when the largest remaining IoU is 0, so every ground truth owns at least
       one anchor when ``A >= G``.

    ``device`` is accepted for compatibility with d2l and ignored. Zero ground
    truths give all -1.
    """
    gt = v.boxes(ground_truth, "ground_truth")
    anc = v.boxes(anchors, "anchors")
    t = v.threshold(iou_threshold, "iou_threshold")
    return assign(gt, anc, t)


def multibox_target(anchors, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training targets for a batch: ``(1, A, 4), (B, G, 5)`` -> offsets, mask, classes.

    A label row is ``(class, x1, y1, x2, y2)``; a row with ``class < 0`` is
    padding and ignored (its coordinates are not even read). Per image, the
    anchors are assigned (``assign_anchor_to_bbox`` with threshold 0.5) over the
    non-padding rows only. Returns:

    - ``offsets`` ``(B, 4A)`` float64: ``offset_boxes(anchor, assigned box)``
      for assigned anchors, flattened anchor by anchor, and 0 elsewhere;
    - ``mask`` ``(B, 4A)`` float64: 1 on the four entries of every assigned
      anchor, else 0;
    - ``class_labels`` ``(B, A)`` int64: the assigned row's class + 1, or 0
      for background.

    Anchors must have positive width and height (the offsets divide by them).
    Classes of non-padding rows must be whole numbers.
    """
    anc = v.as_array(anchors, "anchors", ndim=3, last=4)
    if anc.shape[0] != 1:
        raise ValueError(f"anchors: expected shape (1, A, 4), got {anc.shape}")
    anc = anc[0]
    v.check_corner_boxes(anc, "anchors")
    check_anchor_extent(anc, "anchors")
    lab = v.as_array(labels, "labels", ndim=3, last=5)
    classes = lab[:, :, 0]
    v.check_finite(classes, "labels", "class")
    real = classes >= 0
    v.check_corner_boxes(np.where(real[..., None], lab[:, :, 1:], 0.0), "labels")
    if (real & (classes != np.round(classes))).any():
        b, g = np.argwhere(real & (classes != np.round(classes)))[0]
        raise ValueError(f"labels: class must be a whole number, got {classes[b, g]} at {b, g}")

    batch, num_anchors = lab.shape[0], anc.shape[0]
    offsets = np.zeros((batch, num_anchors, 4))
    mask = np.zeros((batch, num_anchors, 4))
    class_labels = np.zeros((batch, num_anchors), dtype=np.int64)
    for b in range(batch):
        rows = lab[b][real[b]]  # the non-padding rows, in their original order
        assigned = assign(rows[:, 1:], anc, 0.5)
        hit = np.flatnonzero(assigned >= 0)  # the assigned anchors
        matched = rows[assigned[hit]]  # their label rows
        class_labels[b, hit] = matched[:, 0].astype(np.int64) + 1
        mask[b, hit] = 1.0
        offsets[b, hit] = encode(anc[hit], matched[:, 1:], 1e-6)
    return (
        offsets.reshape(batch, 4 * num_anchors),
        mask.reshape(batch, 4 * num_anchors),
        class_labels,
    )
