"""complete_box_iou_loss computes alpha = v / (1 - iou + v + eps) without a guard.

Bug: with ``eps = 0`` a box and itself have ``v = 0`` and ``1 - iou = 0``, so alpha is
0 / 0 = NaN and the loss of a perfect prediction is NaN (CIoU's NaN on identical boxes,
ultralytics/yolov5 #2376; PITFALLS.md, "Beyond the chapter"). The contract makes every
quotient with a zero denominator 0 (CONTRACT.md §3.5).
"""

from __future__ import annotations

import math

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.iou_losses import K_V, loss_parts

CAUGHT_BY: list[str] = [
    "test_iou_losses.py::test_loss_matches_reference",
    "test_iou_losses.py::test_loss_of_identical_boxes",
]


def complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    reference.complete_box_iou_loss(boxes1, boxes2, reduction, eps)  # the validation
    b1 = np.asarray(boxes1, dtype=np.float64)
    b2 = np.asarray(boxes2, dtype=np.float64)
    p = loss_parts(b1, b2)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = (
            p["inter"] / (p["union"] + eps)
            if eps > 0
            else np.where(p["union"] > 0, p["inter"] / np.where(p["union"] > 0, p["union"], 1), 0.0)
        )
        rho = np.where(
            p["c2"] + eps > 0, p["rho2"] / np.where(p["c2"] + eps > 0, p["c2"] + eps, 1), 0
        )
        aspect = K_V * (p["theta2"] - p["theta1"]) ** 2
        alpha = aspect / (1 - iou + aspect + eps)  # BUG: 0 / 0 for identical boxes, eps = 0
        loss = 1 - iou + rho + alpha * aspect
    if reduction == "sum":
        return np.asarray(loss.sum())
    if reduction == "mean":
        return np.asarray(loss.mean() if loss.size else 0.0)
    return loss


assert math.isclose(K_V, 4 / math.pi**2)
