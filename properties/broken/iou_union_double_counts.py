"""box_iou forgets to subtract the intersection from the union.

Bug: ``union = area1 + area2`` instead of ``area1 + area2 - inter``: the
overlap is counted twice, so a box's IoU with itself is 1/2 and every IoU is
too small (``inter / (area1 + area2)`` is half the Dice coefficient, a
different measure).
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_of_box_with_itself_is_one",
    "test_box_iou.py::test_box_iou_at_dyadic_value_is_exact",
    "test_box_iou.py::test_box_iou_matches_reference_on_lattice",
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
    union = area1[:, None] + area2[None, :]  # BUG: - inter is missing
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    return iou
