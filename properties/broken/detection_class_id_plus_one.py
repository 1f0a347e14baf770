"""multibox_detection reports class ids shifted by one (the background row counted).

Bug: ``class_id`` is the argmax over ``cls_probs[1:]`` plus 1, i.e. the row
index in ``cls_probs`` rather than the object class (``multibox_target``'s
``class + 1`` convention leaking into the decoder). The chapter prints
class 0 for the dog: this prints 1.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_inverse
from reference.nms import _nms

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_class_id_is_first_argmax_on_ties",
    "test_multibox_detection.py::test_multibox_detection_rows_are_a_permutation_of_decoded_anchors",
    "test_multibox_detection.py::test_multibox_detection_matches_reference",
]


def multibox_detection(
    cls_probs, offset_preds, anchors, nms_threshold=0.5, pos_threshold=0.009999999
):
    # The reference's argument checks (shapes, finiteness, thresholds, overflow).
    _reference.multibox_detection(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold)
    probs = np.asarray(cls_probs, dtype=np.float64)
    offs = np.asarray(offset_preds, dtype=np.float64)
    anc = np.asarray(anchors, dtype=np.float64)[0]
    batch, num_anchors = probs.shape[0], probs.shape[2]
    out = np.empty((batch, num_anchors, 6))
    for b in range(batch):
        conf = probs[b, 1:].max(axis=0)
        class_id = probs[b, 1:].argmax(axis=0).astype(np.float64) + 1  # BUG: + 1
        boxes = _offset_inverse(anc, offs[b].reshape(-1, 4))
        keep = _nms(boxes, conf, float(nms_threshold))
        kept = np.zeros(num_anchors, dtype=bool)
        kept[keep] = True
        rest = np.flatnonzero(~kept)
        class_id[rest] = -1
        order = np.concatenate([keep, rest])
        rows = np.concatenate([class_id[order, None], conf[order, None], boxes[order]], axis=1)
        below = rows[:, 1] < pos_threshold
        rows[below, 0] = -1
        rows[below, 1] = 1 - rows[below, 1]
        out[b] = rows
    return out
