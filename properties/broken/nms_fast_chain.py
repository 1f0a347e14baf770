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

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_suppression_chains_keep_every_other_box",
    "test_nms.py::test_nms_every_suppressed_box_has_an_earlier_kept_box_over_threshold",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    order = np.asarray(sorted(range(len(s)), key=lambda i: -s[i]), dtype=np.int64)
    if len(order) == 0:
        return order
    sb = b[order]
    iou = np.triu(_iou(sb, sb), k=1)  # row i ranks above column j
    keep = iou.max(axis=0) <= t  # BUG: counts suppressed boxes as suppressors too
    return order[keep]
