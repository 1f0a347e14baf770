"""nms lets suppressed boxes suppress others ("Fast NMS").

Bug: a box is dropped if *any* higher-scored box overlaps it by more than the
threshold, whether or not that box was itself kept: the one-shot matrix form
``keep = (triu(IoU, 1).max(axis=0) <= t)`` of YOLACT's Fast NMS
(dbolya/yolact, Bolya et al. 2019), which trades exactness for speed. On a
chain (A suppresses B, B overlaps C, A does not overlap C) C is lost.
PITFALLS "NMS", chains.
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
    order = np.asarray(sorted(range(len(scores)), key=lambda i: -scores[i]), dtype=np.int64)
    if len(order) == 0:
        return order
    ranked = boxes[order]
    upper = np.triu(iou(ranked, ranked), k=1)  # row i ranks above column j
    keep = upper.max(axis=0) <= iou_threshold  # BUG: counts suppressed boxes as suppressors too
    return order[keep]


globals().update(implementation(__name__, Swap("nms.py", "greedy_nms", fast_nms)))
