"""box_center_to_corner uses the full width and height instead of half.

Bug: ``(cx - w, cy - h, cx + w, cy + h)`` instead of
``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)``: every box comes back twice as
wide and high. Confusing the half-extent of one codebase with the full extent
of another is a common porting slip.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_conversions.py::test_center_to_corner_to_center_is_identity",
    "test_conversions.py::test_conversions_known_values",
    "test_conversions.py::test_center_to_corner_matches_reference",
]

BUG = Edit(
    "boxes.py",
    "[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]",
    "[cx - w, cy - h, cx + w, cy + h]",
)
globals().update(implementation(__name__, BUG))
