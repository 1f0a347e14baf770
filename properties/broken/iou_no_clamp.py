"""box_iou does not clamp a negative overlap to zero.

Bug: ``inter = (right - left) * (bottom - top)`` without ``clip(0)``: two
boxes apart in both x and y get a positive "intersection" (negative times
negative), and boxes apart in one axis a negative one. Every IoU tutorial
warns about it; it still ships in hand-written IoU code.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_is_zero_for_disjoint_and_touching_boxes",
    "test_box_iou.py::test_box_iou_in_unit_interval",
]


def box_iou(boxes1, boxes2):
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    left = np.maximum(b1[:, None, 0], b2[None, :, 0])
    top = np.maximum(b1[:, None, 1], b2[None, :, 1])
    right = np.minimum(b1[:, None, 2], b2[None, :, 2])
    bottom = np.minimum(b1[:, None, 3], b2[None, :, 3])
    inter = (right - left) * (bottom - top)  # BUG: no clip(0) of either side
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    union = area1[:, None] + area2[None, :] - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union != 0)
    return iou
