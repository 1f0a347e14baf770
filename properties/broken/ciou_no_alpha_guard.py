"""complete_box_iou_loss computes alpha = v / (1 - iou + v + eps) without a guard.

Bug: with ``eps = 0`` a box and itself have ``v = 0`` and ``1 - iou = 0``, so alpha is
0 / 0 = NaN and the loss of a perfect prediction is NaN (CIoU's NaN on identical boxes,
ultralytics/yolov5 #2376; PITFALLS.md, "Beyond the chapter"). The contract makes every
quotient with a zero denominator 0 (CONTRACT.md §3.5).

The unguarded quotient is CIoU's one ``alpha``, so the pairwise ``complete_box_iou`` and the
loss's gradient get it too, as in a real implementation.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_iou_losses.py::test_loss_matches_reference",
    "test_iou_losses.py::test_loss_of_identical_boxes",
]

# BUG: v / (1 - iou + v + eps) is 0 / 0 = NaN for identical boxes at eps = 0.
UNGUARDED = 'with np.errstate(invalid="ignore"):\n        return aspect / (1 - iou + aspect + eps)'
BUG = Edit("iou_losses.py", "return _div(aspect, 1 - iou + aspect + eps)", UNGUARDED)
globals().update(implementation(__name__, BUG))
