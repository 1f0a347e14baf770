"""generalized_box_iou divides by the union and the enclosing area unguarded.

Bug: ``I / U - (C - U) / C`` as torchvision (and DETR) write it: two boxes of zero area
have ``U = 0`` and a NaN IoU, and two segments on one line a NaN penalty (``C = 0``).
torchvision's answer was to forbid such boxes (pytorch/vision #3404, PR #3405 closed); the
contract allows them and says 0 (CONTRACT.md §2.3, §3.5). PITFALLS.md, "IoU" and "Beyond
the chapter".
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_iou_losses.py::test_pairwise_matches_reference",
    "test_iou_losses.py::test_giou_is_in_minus_one_one",
]

BUG = Edit(
    "iou_losses.py",
    'return _div(p["inter"], p["union"]) - _div(p["enclosing"] - p["union"], p["enclosing"])',
    'with np.errstate(invalid="ignore", divide="ignore"):\n'
    '        return p["inter"] / p["union"] - (p["enclosing"] - p["union"]) / p["enclosing"]',
)
globals().update(implementation(__name__, BUG))
