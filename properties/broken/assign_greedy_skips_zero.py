"""assign_anchor_to_bbox stops the greedy step once the best remaining IoU is 0.

Bug: a ground truth that overlaps no anchor never gets one, although the
contract runs every one of the min(A, G) rounds even at IoU 0. PITFALLS
"Matching": mmdetection #8289 shows this opposite choice (``gt_max_assign_all``
with ``min_pos_iou``).
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_greedy_runs_at_zero_iou",
    "test_assign.py::test_assign_every_ground_truth_owns_an_anchor",
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
    # b. Greedy rounds over the remaining matrix.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        if remaining[a, g] <= 0:  # BUG: the contract runs the round anyway
            break
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned
