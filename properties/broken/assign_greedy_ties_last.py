"""assign_anchor_to_bbox's greedy step breaks ties by the *last* maximum.

Bug: each greedy round takes the last entry equal to the maximum in row-major
order (``argmax`` of the reversed, flattened matrix) instead of the first.
PITFALLS "Matching": "last wins" in old d2l code (discussion t/1603, fixed in
d2l-en PR #1630); the contract pins ties to the lowest index.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_ties_go_to_lowest_index",
    "test_assign.py::test_assign_matches_reference_on_lattice",
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
    # a. Each anchor whose best IoU reaches the threshold takes its best ground truth.
    for a in range(num_anchors):
        best = int(np.argmax(jaccard[a]))
        if jaccard[a, best] >= t:
            assigned[a] = best
    # b. min(A, G) greedy rounds over the remaining matrix.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        flat = remaining.ravel()
        last = flat.size - 1 - int(np.argmax(flat[::-1]))  # BUG: last maximum, not first
        a, g = np.unravel_index(last, remaining.shape)
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned
