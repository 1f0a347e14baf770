"""assign_anchor_to_bbox ignores its ``iou_threshold`` argument and uses 0.5.

Bug: step a compares with a hard-coded 0.5, whatever threshold the caller
passes. PITFALLS "Matching": d2l once ignored ``iou_threshold`` entirely
(d2l-ai/d2l-en PR #1915, "the function was earlier not using the argument
iou_threshold internally").
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_at_threshold_is_assigned",
    "test_assign.py::test_assign_matches_reference_on_lattice",
]


def assign_anchor_to_bbox(ground_truth, anchors, device=None, iou_threshold=0.5):
    gt = v.boxes(ground_truth, "ground_truth")
    anc = v.boxes(anchors, "anchors")
    v.threshold(iou_threshold, "iou_threshold")  # validated, then never used (the bug)
    num_anchors, num_gt = anc.shape[0], gt.shape[0]
    assigned = np.full(num_anchors, -1, dtype=np.int64)
    if num_gt == 0:
        return assigned
    jaccard = _iou(anc, gt)  # (A, G)
    # a. BUG: the threshold argument is never read; 0.5 is hard-coded.
    for a in range(num_anchors):
        best = int(np.argmax(jaccard[a]))
        if jaccard[a, best] >= 0.5:
            assigned[a] = best
    # b. min(A, G) greedy rounds over the remaining matrix, first maximum in row-major order.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned
