"""complete_box_iou_loss's gradient flows through alpha.

Bug: CIoU's trade-off ``alpha = v / (1 - iou + v + eps)`` must be a constant for
differentiation (torchvision computes it under ``no_grad``, as the CIoU paper prescribes;
CONTRACT.md §3.5); differentiating it too adds ``v * d alpha`` to every gradient, which
changes the regression directions wherever the aspect ratios differ. The loss values are
right, so only a gradient test sees it. PITFALLS.md, "Beyond the chapter" (IoU family).
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.iou_losses import K_V, loss_parts

CAUGHT_BY: list[str] = [
    "test_iou_losses.py::test_loss_gradient_matches_reference",
]


def _alpha(b1: np.ndarray, b2: np.ndarray, eps: float) -> np.ndarray:
    p = loss_parts(b1, b2)
    d = p["union"] + eps
    iou = np.divide(p["inter"], d, out=np.zeros_like(d), where=d != 0)
    aspect = K_V * (p["theta2"] - p["theta1"]) ** 2
    den = 1 - iou + aspect + eps
    return np.divide(aspect, den, out=np.zeros_like(den), where=den != 0), aspect


def complete_box_iou_loss_grad(boxes1, boxes2, eps=1e-7):
    g1, g2 = reference.complete_box_iou_loss_grad(boxes1, boxes2, eps)
    b = [np.array(boxes1, dtype=np.float64), np.array(boxes2, dtype=np.float64)]
    _, aspect = _alpha(b[0], b[1], eps)
    grads = [g1.copy(), g2.copy()]
    h = 1e-7
    for which in (0, 1):  # BUG: + v * d alpha, by central differences
        for k in range(4):
            up, down = [x.copy() for x in b], [x.copy() for x in b]
            up[which][..., k] += h
            down[which][..., k] -= h
            slope = (_alpha(*up, eps)[0] - _alpha(*down, eps)[0]) / (2 * h)
            grads[which][..., k] += aspect * slope
    return grads[0], grads[1]
