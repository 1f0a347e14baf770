"""box_corner_to_center returns COCO's ``(x, y, w, h)`` (top-left corner), not the centre.

Bug: ``(x1, y1, x2 - x1, y2 - y1)`` instead of
``((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)``. COCO annotations are
``xywh`` with ``(x, y)`` the top-left corner; code that mixes that format with
center form ships this.
"""

from __future__ import annotations

import numpy as np

from reference import *  # noqa: F403 -- every other function is the reference's
from reference import _validate as v

CAUGHT_BY: list[str] = [
    "test_conversions.py::test_corner_to_center_to_corner_is_identity",
    "test_conversions.py::test_conversions_known_values",
    "test_conversions.py::test_corner_to_center_matches_reference",
]


def box_corner_to_center(boxes):
    b = v.boxes(boxes, "boxes")
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    # BUG: the top-left corner, not the centre.
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
