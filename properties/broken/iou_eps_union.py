"""box_iou adds an epsilon to the union: ``inter / (union + 1e-6)``.

Bug: the epsilon that avoids 0/0 also biases every IoU low: a box's IoU with
itself is ``1 / (1 + 1e-6 / area)`` instead of 1, and an IoU exactly at a
threshold falls below it. PITFALLS "IoU": scenic adds 1e-6 to the union,
TF 1e-8.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_of_box_with_itself_is_one",
    "test_box_iou.py::test_box_iou_at_dyadic_value_is_exact",
    "test_box_iou.py::test_box_iou_is_scale_invariant",
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
    return inter / (union + 1e-6)  # BUG: the epsilon shifts every IoU
