"""multibox_target does not multiply the offsets by the mask.

Bug: as in d2l, unassigned anchors get the all-zero box as their "assigned
box" and ``offset_boxes`` is computed for every anchor, but the final
``* bbox_mask`` is dropped: background anchors carry large offsets towards the
origin (``5 log(eps)`` in size) instead of exact zeros.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_boxes
from reference.matching import _assign

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_offsets_zero_where_unmasked",
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
        mask[b, hit] = 1.0
        assigned_bb = np.zeros((num_anchors, 4))  # unassigned anchors: the zero box
        assigned_bb[hit] = matched[:, 1:]
        offsets[b] = _offset_boxes(anc, assigned_bb, 1e-6)  # BUG: never multiplied by mask
    return offsets.reshape(batch, -1), mask.reshape(batch, -1), class_labels
