"""nms assumes its input is already sorted by descending score.

Bug: the boxes are visited in index order; the scores are never looked at.
PITFALLS "NMS": some jittable NMS (the mlperf/scenic tiled NMS documents "the
boxes are sorted by scores") are silently wrong on unsorted input.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_unsorted_input",
    "test_nms.py::test_nms_kept_list_in_descending_score_order",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    keep: list[int] = []
    suppressed = np.zeros(len(s), dtype=bool)
    for i in range(len(s)):  # BUG: index order, as if the caller had sorted by score
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= _iou(b[i : i + 1], b)[0] > t
    return np.asarray(keep, dtype=np.int64)
