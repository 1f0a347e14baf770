"""multibox_target lets padding label rows claim anchors.

Bug: the rows with class < 0 are not filtered out before the assignment, so a
padding row (conventionally ``(-1, -1, -1, -1, -1)``, a zero-area box) wins
greedy rounds, takes anchors from real objects, and its anchors get class
``-1 + 1 = 0`` with mask 1 and offsets towards the padding box. This is the
chapter's own ``multibox_target`` (deliberate departure 4 in CONTRACT.md).
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_boxes
from reference.matching import _assign

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_ignores_padding",
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
        rows = lab[b]  # BUG: the padding rows (class < 0) are not dropped
        assigned = _assign(rows[:, 1:], anc, 0.5)
        hit = np.flatnonzero(assigned >= 0)
        matched = rows[assigned[hit]]
        class_labels[b, hit] = matched[:, 0].astype(np.int64) + 1
        mask[b, hit] = 1.0
        offsets[b, hit] = _offset_boxes(anc[hit], matched[:, 1:], 1e-6)
    return offsets.reshape(batch, -1), mask.reshape(batch, -1), class_labels
