"""multibox_target's mask covers every anchor, background included.

Bug: the mask is built from ``class_labels >= 0``, which is true for the
background label 0 too, instead of ``> 0`` (or ``assigned >= 0``): the offset
loss then trains background anchors towards zero offsets. An off-by-one in a
comparison against the background label.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_boxes
from reference.matching import _assign

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_mask_marks_assigned_anchors",
    "test_multibox_target.py::test_multibox_target_matches_reference",
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
        class_labels[b, hit] = matched[:, 0].astype(np.int64) + 1
        mask[b] = (class_labels[b] >= 0)[:, None]  # BUG: should be > 0 (0 is background)
        offsets[b, hit] = _offset_boxes(anc[hit], matched[:, 1:], 1e-6)
    return offsets.reshape(batch, -1), mask.reshape(batch, -1), class_labels
