"""multibox_target writes the object's class without the ``+ 1``.

Bug: ``class_labels = class`` instead of ``class + 1``, so class 0 collides
with background (0) and every other class is shifted. The ``+ 1`` that makes
room for the background is the detail d2l's text stresses and ports drop.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_class_labels_are_class_plus_one",
    "test_multibox_target.py::test_multibox_target_mask_marks_assigned_anchors",
]

BUG = Edit("matching.py", "matched[:, 0].astype(np.int64) + 1", "matched[:, 0].astype(np.int64)")
globals().update(implementation(__name__, BUG))
