"""box_iou returns NaN (0/0) for two zero-area boxes.

Bug: ``inter / union`` with no guard: two degenerate boxes have union 0 and
get NaN; the contract says 0. This is d2l's own ``box_iou`` (a deliberate
departure, CONTRACT.md §8) and torchvision's ``box_iou`` (PITFALLS.md, IoU:
0/0 for two empty boxes). The edit drops the ``where=`` guard of the
reference's division.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_iou.py::test_box_iou_empty_union_is_zero",
    "test_box_iou.py::test_box_iou_in_unit_interval",
]

BUG = Edit(
    "boxes.py",
    "np.divide(inter, union, out=out, where=union > 0)",
    "np.divide(inter, union, out=out)",
)
globals().update(implementation(__name__, BUG))
