"""multibox_target writes the object's class without the ``+ 1``.

Bug: ``class_labels = class`` instead of ``class + 1``, so class 0 collides
with background (0) and every other class is shifted. The ``+ 1`` that makes
room for the background is the detail d2l's text stresses and ports drop.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_boxes
from reference.matching import _assign

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_class_labels_are_class_plus_one",
    "test_multibox_target.py::test_multibox_target_mask_marks_assigned_anchors",
]


def multibox_target(anchors, labels):
    _reference.multibox_target(anchors, labels)  # the reference's argument checks
    anc = np.asarray(anchors, dtype=np.float64)[0]
    lab = np.asarray(labels, dtype=np.float64)
    batch, num_anchors = lab.shape[0], anc.shape[0]
    offsets = np.zeros((batch, num_anchors, 4))
    mask = np.zeros((batch, num_anchors, 4))
    class_labels = np.zeros((batch, num_anchors), dtype=np.int64)
    for b in range(batch):
        rows = lab[b][lab[b, :, 0] >= 0]
        assigned = _assign(rows[:, 1:], anc, 0.5)
        hit = np.flatnonzero(assigned >= 0)
        matched = rows[assigned[hit]]
        class_labels[b, hit] = matched[:, 0].astype(np.int64)  # BUG: + 1 is missing
        mask[b, hit] = 1.0
        offsets[b, hit] = _offset_boxes(anc[hit], matched[:, 1:], 1e-6)
    return offsets.reshape(batch, -1), mask.reshape(batch, -1), class_labels
