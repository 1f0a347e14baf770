"""box_convert between ``cxcywh`` and ``xywh`` copies the boxes unchanged.

Bug: the two formats that carry ``(w, h)`` look alike, so the shortcut between them keeps
the first two numbers: a centre is taken for the top-left corner and back. PITFALLS.md,
"Box coding and anchors" (conversions: COCO's ``(x, y, w, h)`` taken for the centre form).
Conversions to and from corners are right, so round trips still pass; the composition law
and the reference catch it.
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_box_convert.py::test_box_convert_matches_reference",
    "test_box_convert.py::test_box_convert_composes",
]


def box_convert(boxes, in_fmt, out_fmt):
    if {in_fmt, out_fmt} == {"cxcywh", "xywh"}:
        reference.box_convert(boxes, in_fmt, in_fmt)  # the validation
        return np.array(boxes, dtype=np.float64)  # BUG: (cx, cy) taken for (x1, y1)
    return reference.box_convert(boxes, in_fmt, out_fmt)
