"""box_corner_to_center returns COCO's ``(x, y, w, h)`` (top-left corner), not the centre.

Bug: ``(x1, y1, x2 - x1, y2 - y1)`` instead of
``((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)``. COCO annotations are
``xywh`` with ``(x, y)`` the top-left corner; code that mixes that format with
center form ships this.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_conversions.py::test_corner_to_center_to_corner_is_identity",
    "test_conversions.py::test_conversions_known_values",
    "test_conversions.py::test_corner_to_center_matches_reference",
]

BUG = Edit(
    "boxes.py",
    "[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]",
    "[x1, y1, x2 - x1, y2 - y1]",
)
globals().update(implementation(__name__, BUG))
