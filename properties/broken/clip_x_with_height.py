"""clip_boxes_to_image clips x with the height and y with the width.

Bug: ``size`` is torchvision's ``(height, width)``; reading it as ``(width, height)`` (or
transposing the image) clips x to ``[0, height]``: right on square images, wrong on every
other. PITFALLS.md, "Beyond the chapter" (torchvision's SSD default boxes swapped W and H,
pytorch/vision #6550) and "Box coding and anchors" (clipping).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_clipping.py::test_clip_matches_reference_and_known_values",
    "test_clipping.py::test_clip_is_idempotent_and_keeps_inner_boxes",
]

BUG = Edit("clipping.py", "height, width = _size(size)", "width, height = _size(size)")
globals().update(implementation(__name__, BUG))
