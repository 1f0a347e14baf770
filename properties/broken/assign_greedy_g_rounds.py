"""assign_anchor_to_bbox runs G greedy rounds, as d2l does, instead of min(A, G).

Bug: with fewer anchors than ground truths, after A rounds every entry of the
matrix has been discarded (set to -1), and each extra round's argmax lands on
entry (0, 0): anchor 0 is re-assigned to ground truth 0, overriding its real
match. This is the chapter's own code (deliberate departure 3 in CONTRACT.md).
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_greedy_runs_min_a_g_rounds",
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
    # b. d2l's loop: one round per ground truth, discarding rows and columns with -1.
    remaining = jaccard.copy()
    for _ in range(num_gt):  # BUG: should be min(num_anchors, num_gt)
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[a, :] = -1
        remaining[:, g] = -1
    return assigned
