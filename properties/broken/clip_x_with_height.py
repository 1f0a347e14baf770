"""clip_boxes_to_image clips x with the height and y with the width.

Bug: ``size`` is torchvision's ``(height, width)``; reading it as ``(width, height)`` (or
transposing the image) clips x to ``[0, height]``: right on square images, wrong on every
other. PITFALLS.md, "Beyond the chapter" (torchvision's SSD default boxes swapped W and H,
pytorch/vision #6550) and "Box coding and anchors" (clipping).
"""

from __future__ import annotations

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_clipping.py::test_clip_matches_reference_and_known_values",
    "test_clipping.py::test_clip_is_idempotent_and_keeps_inner_boxes",
]


def clip_boxes_to_image(boxes, size):
    reference.clip_boxes_to_image(boxes, size)  # the validation
    height, width = size
    return reference.clip_boxes_to_image(boxes, (width, height))  # BUG: x clipped to height
