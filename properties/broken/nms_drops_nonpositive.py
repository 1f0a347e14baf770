"""nms loses every box whose coordinates are all <= 0.

Bug: suppressed boxes are marked by zeroing their coordinates, and the kept
set is read back as "boxes with any coordinate > 0"; a real box lying
entirely at or left of / above the origin (such as ``(-1, -1, 0, 0)`` or the
point ``(0, 0, 0, 0)``) vanishes with the suppressed ones. PITFALLS "NMS":
tiled NMS implementations (mlperf, scenic's ``jnp.any(selected_boxes > 0)``)
do exactly this.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_nonpositive_boxes_are_like_any_other",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    order = sorted(range(len(s)), key=lambda i: -s[i])
    work = b.copy()
    selected: list[int] = []
    for i in order:
        if not (work[i] > 0).any():  # BUG: "alive" means some coordinate > 0
            continue
        selected.append(i)
        hit = _iou(b[i : i + 1], b)[0] > t
        hit[i] = False
        work[hit] = 0.0  # a suppressed box becomes the zero "dot"
    return np.asarray(selected, dtype=np.int64)
