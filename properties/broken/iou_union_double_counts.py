"""box_iou forgets to subtract the intersection from the union.

Bug: ``union = area1 + area2`` instead of ``area1 + area2 - inter``: the
overlap is counted twice, so a box's IoU with itself is 1/2 and every IoU is
too small (``inter / (area1 + area2)`` is half the Dice coefficient, a
different measure).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_of_box_with_itself_is_one",
    "test_box_iou.py::test_box_iou_at_dyadic_value_is_exact",
    "test_box_iou.py::test_box_iou_matches_reference_on_lattice",
]

BUG = Edit(
    "boxes.py",
    "union = area(b1)[:, None] + area(b2)[None, :] - inter",
    "union = area(b1)[:, None] + area(b2)[None, :]",
)
globals().update(implementation(__name__, BUG))
