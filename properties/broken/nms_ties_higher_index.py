"""nms visits equal scores from the highest index down (``argsort(s)[::-1]``).

Bug: ``np.argsort(scores)[::-1]``, the "flip(argsort)" idiom, reverses a
stable ascending sort, so among equal scores the *higher* index goes first.
PITFALLS "NMS": flip(argsort) puts the higher index first; d2l's MXNet edition
sorts with ``scores.argsort()[::-1]``. The contract pins "lower index".
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "test_nms.py::test_nms_single_score_keeps_lowest_index_of_identical_boxes",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    order = np.argsort(s, kind="stable")[::-1]  # BUG: equal scores, highest index first
    keep: list[int] = []
    suppressed = np.zeros(len(s), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= _iou(b[i : i + 1], b)[0] > t
    return np.asarray(keep, dtype=np.int64)
