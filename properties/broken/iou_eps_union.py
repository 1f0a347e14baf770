"""box_iou adds an epsilon to the union: ``inter / (union + 1e-6)``.

Bug: the epsilon that avoids 0/0 also biases every IoU low: a box's IoU with
itself is ``1 / (1 + 1e-6 / area)`` instead of 1, and an IoU exactly at a
threshold falls below it. PITFALLS.md, IoU: scenic adds 1e-6 to the union,
TF 1e-8.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_of_box_with_itself_is_one",
    "test_box_iou.py::test_box_iou_at_dyadic_value_is_exact",
    "test_box_iou.py::test_box_iou_is_scale_invariant",
]

BUG = Edit(
    "boxes.py",
    "union = area(b1)[:, None] + area(b2)[None, :] - inter",
    "union = area(b1)[:, None] + area(b2)[None, :] - inter + 1e-6",
)
globals().update(implementation(__name__, BUG))
