"""nms suppresses at ``IoU >= threshold`` instead of ``IoU > threshold``.

Bug: a box whose IoU with a kept box is exactly the threshold is suppressed,
and at threshold 0 so is every box that merely touches a kept one. PITFALLS
"NMS": torchvision's CPU kernel had ``>=`` until pytorch/vision PR #1556; TF's
and the mlperf/scenic tiled JAX NMS suppress at ``>=``; tensorflow #34268.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v
from reference.boxes import _iou

CAUGHT_BY: list[str] = [
    "test_nms.py::test_nms_iou_exactly_at_threshold_is_kept",
    "test_nms.py::test_nms_touching_boxes_kept_at_threshold_zero",
    "test_nms.py::test_nms_matches_reference_on_lattice",
]


def nms(boxes, scores, iou_threshold):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    order = sorted(range(len(s)), key=lambda i: -s[i])
    keep: list[int] = []
    suppressed = np.zeros(len(s), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= _iou(b[i : i + 1], b)[0] >= t  # BUG: should be >
    return np.asarray(keep, dtype=np.int64)
