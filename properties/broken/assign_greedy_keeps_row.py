"""assign_anchor_to_bbox's greedy step discards the ground truth's column but not the anchor's row.

Bug: after a round assigns anchor ``a`` to ground truth ``g``, only column
``g`` is removed; anchor ``a`` stays available, so a later round can take it
again for another ground truth, overwriting the earlier assignment and
leaving that ground truth with no anchor. Forgetting one of the two discards
is an easy slip when porting d2l's ``jaccard[:, box_idx] = col_discard;
jaccard[anc_idx, :] = row_discard``.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_assign.py::test_assign_every_ground_truth_owns_an_anchor",
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
        a, g = np.unravel_index(np.argmax(remaining), remaining.shape)
        assigned[a] = g
        remaining[:, g] = -np.inf  # BUG: the anchor's row is not discarded
    return assigned
