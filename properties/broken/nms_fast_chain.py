"""nms lets suppressed boxes suppress others ("Fast NMS").

Bug: a box is dropped if *any* higher-scored box overlaps it by more than the
threshold, whether or not that box was itself kept: the one-shot matrix form
``keep = (triu(IoU, 1).max(axis=0) <= t)`` of YOLACT's Fast NMS
(dbolya/yolact, Bolya et al. 2019), which trades exactness for speed
(PITFALLS.md, NMS, chains): on a chain (A suppresses B, B overlaps C, A does
not overlap C) C is lost.
"""

from __future__ import annotations

import numpy as np

from properties.broken._mutate import Swap, implementation
from reference.boxes import iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_suppression_chains_keep_every_other_box",
    "test_nms.py::test_nms_every_suppressed_box_has_an_earlier_kept_box_over_threshold",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def fast_nms(boxes, scores, iou_threshold):
    """YOLACT's Fast NMS: one matrix step instead of the greedy loop."""
    order = np.argsort(-scores, kind="stable")  # descending scores, ties by ascending index
    upper = np.triu(iou(boxes[order], boxes[order]), k=1)  # row i ranks above column j
    keep = upper.max(axis=0, initial=0) <= iou_threshold  # BUG: suppressed boxes suppress too
    return order[keep]


globals().update(implementation(__name__, Swap("nms.py", "greedy_nms", fast_nms)))
