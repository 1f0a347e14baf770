"""assign_anchor_to_bbox's step a gives a tied anchor its *last* best ground truth.

Bug: when an anchor's IoU ties between several ground truths, it takes the
highest-indexed one (a loop over ground truths that overwrites on ``>=``).
PITFALLS "Matching": two ground truths sharing one best anchor, "last wins" in
old d2l code (discussion t/1603, fixed in d2l-en PR #1630).
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_ties_go_to_lowest_index",
    "test_assign.py::test_assign_at_threshold_is_assigned",
]


def assign_anchor_to_bbox(ground_truth, anchors, device=None, iou_threshold=0.5):
    gt = v.boxes(ground_truth, "ground_truth")
    anc = v.boxes(anchors, "anchors")
    t = v.threshold(iou_threshold, "iou_threshold")
    num_anchors, num_gt = anc.shape[0], gt.shape[0]
    assigned = np.full(num_anchors, -1, dtype=np.int64)
    if num_gt == 0:
        return assigned
    jaccard = _iou(anc, gt)  # (A, G)
    # a. Loop over the ground truths, keeping the best one seen so far.
    for a in range(num_anchors):
        best = 0
        for g in range(num_gt):
            if jaccard[a, g] >= jaccard[a, best]:  # BUG: >= lets a later tie win
                best = g
        if jaccard[a, best] >= t:
            assigned[a] = best
    # b. min(A, G) greedy rounds over the remaining matrix, first maximum in row-major order.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned
