"""box_iou returns NaN (0/0) for two zero-area boxes.

Bug: ``inter / union`` with no guard: two degenerate boxes have union 0 and
get NaN; the contract says 0. This is d2l's own ``box_iou`` (the first
deliberate departure in CONTRACT.md) and torchvision's ``box_iou``
(PITFALLS "IoU": 0/0 for two empty boxes).
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_empty_union_is_zero",
    "test_box_iou.py::test_box_iou_in_unit_interval",
]


def box_iou(boxes1, boxes2):
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    left = np.maximum(b1[:, None, 0], b2[None, :, 0])
    top = np.maximum(b1[:, None, 1], b2[None, :, 1])
    right = np.minimum(b1[:, None, 2], b2[None, :, 2])
    bottom = np.minimum(b1[:, None, 3], b2[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    union = area1[:, None] + area2[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / union  # BUG: 0 / 0 = NaN where both boxes have zero area
