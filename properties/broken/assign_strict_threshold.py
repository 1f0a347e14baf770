"""assign_anchor_to_bbox's step a uses ``>`` where the contract says ``>=``.

Bug: an anchor whose best IoU is exactly ``iou_threshold`` stays unassigned
(unless the greedy step takes it). Thresholds are ``>=`` in d2l and in
torchvision's ``Matcher`` (``high_threshold``), ``>`` in other matchers; a port
that mixes them changes the decision exactly at the threshold, which lattice
inputs hit.
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
    t = v.threshold(iou_threshold, "iou_threshold")
    num_anchors, num_gt = anc.shape[0], gt.shape[0]
    assigned = np.full(num_anchors, -1, dtype=np.int64)
    if num_gt == 0:
        return assigned
    jaccard = _iou(anc, gt)  # (A, G)
    # a. Each anchor whose best IoU exceeds the threshold takes its best ground truth.
    for a in range(num_anchors):
        best = int(np.argmax(jaccard[a]))
        if jaccard[a, best] > t:  # BUG: should be >=
            assigned[a] = best
    # b. min(A, G) greedy rounds over the remaining matrix, first maximum in row-major order.
    remaining = jaccard.copy()
    for _ in range(min(num_anchors, num_gt)):
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[a, :] = -np.inf
        remaining[:, g] = -np.inf
    return assigned
