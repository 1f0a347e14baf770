"""multibox_target's mask covers every anchor, background included.

Bug: the mask is built from ``class_labels >= 0``, which is true for the
background label 0 too, instead of ``> 0`` (or ``assigned >= 0``): the offset
loss then trains background anchors towards zero offsets. An off-by-one in a
comparison against the background label.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_mask_marks_assigned_anchors",
    "test_multibox_target.py::test_multibox_target_matches_reference",
]

BUG = Edit("matching.py", "mask[b, hit] = 1.0", "mask[b] = (class_labels[b] >= 0)[:, None]")
globals().update(implementation(__name__, BUG))
