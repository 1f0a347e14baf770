"""box_iou uses the "+1 pixel" convention: width ``x2 - x1 + 1``.

Bug: areas and overlaps add 1 to every side, the integer-pixel convention of
py-faster-rcnn's ``bbox_overlaps`` and Detectron's legacy mode. On normalised
coordinates it is simply wrong: a 0.1 x 0.1 box gets area 1.21.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_is_zero_for_disjoint_and_touching_boxes",
    "test_box_iou.py::test_box_iou_is_scale_invariant",
    "test_box_iou.py::test_box_iou_matches_reference_on_lattice",
]


def box_iou(boxes1, boxes2):
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    left = np.maximum(b1[:, None, 0], b2[None, :, 0])
    top = np.maximum(b1[:, None, 1], b2[None, :, 1])
    right = np.minimum(b1[:, None, 2], b2[None, :, 2])
    bottom = np.minimum(b1[:, None, 3], b2[None, :, 3])
    # BUG: + 1 on every side (integer pixel boxes, inclusive of both ends).
    inter = np.clip(right - left + 1, 0, None) * np.clip(bottom - top + 1, 0, None)
    area1 = (b1[:, 2] - b1[:, 0] + 1) * (b1[:, 3] - b1[:, 1] + 1)
    area2 = (b2[:, 2] - b2[:, 0] + 1) * (b2[:, 3] - b2[:, 1] + 1)
    return inter / (area1[:, None] + area2[None, :] - inter)
