"""box_iou does not clamp a negative overlap to zero.

Bug: ``inter = (right - left) * (bottom - top)`` without ``clip(0)``: two
boxes apart in both x and y get a positive "intersection" (negative times
negative), and boxes apart in one axis a negative one. Every IoU tutorial
warns about it; it still ships in hand-written IoU code.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_is_zero_for_disjoint_and_touching_boxes",
    "test_box_iou.py::test_box_iou_in_unit_interval",
]

BUG = Edit(
    "boxes.py",
    "np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)",
    "(right - left) * (bottom - top)",
)
globals().update(implementation(__name__, BUG))
