"""box_center_to_corner uses the full width and height instead of half.

Bug: ``(cx - w, cy - h, cx + w, cy + h)`` instead of
``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)``: every box comes back twice as
wide and high. Confusing the half-extent of one codebase with the full extent
of another is a common porting slip.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_conversions.py::test_center_to_corner_to_center_is_identity",
    "test_conversions.py::test_conversions_known_values",
    "test_conversions.py::test_center_to_corner_matches_reference",
]


def box_center_to_corner(boxes):
    b = v.as_array(boxes, "boxes", ndim=2, last=4)
    v.check_finite(b, "boxes")
    for col, what in ((2, "width"), (3, "height")):
        if (b[:, col] < 0).any():
            i = int(np.argmax(b[:, col] < 0))
            raise ValueError(f"boxes: negative {what} in row {i} ({b[i, col]})")
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    # BUG: should be w / 2 and h / 2.
    return np.stack([cx - w, cy - h, cx + w, cy + h], axis=-1)
