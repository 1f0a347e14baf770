"""generalized_box_iou divides by the union and the enclosing area unguarded.

Bug: ``I / U - (C - U) / C`` as torchvision (and DETR) write it: two boxes of zero area
have ``U = 0`` and a NaN IoU, and two segments on one line a NaN penalty (``C = 0``).
torchvision's answer was to forbid such boxes (pytorch/vision #3404, PR #3405 closed); the
contract allows them and says 0 (CONTRACT.md §2.3, §3.5). PITFALLS.md, "IoU" and "Beyond
the chapter".
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.iou_losses import loss_parts

CAUGHT_BY: list[str] = [
    "test_iou_losses.py::test_pairwise_matches_reference",
    "test_iou_losses.py::test_giou_is_in_minus_one_one",
]


def generalized_box_iou(boxes1, boxes2):
    reference.generalized_box_iou(boxes1, boxes2)  # the validation
    b1 = np.asarray(boxes1, dtype=np.float64)[:, None, :]
    p = loss_parts(b1, np.asarray(boxes2, dtype=np.float64)[None, :, :])
    with np.errstate(invalid="ignore", divide="ignore"):  # BUG: 0 / 0 is NaN
        return p["inter"] / p["union"] - (p["enclosing"] - p["union"]) / p["enclosing"]
