"""multibox_detection marks low-confidence rows as background but does not flip their confidence.

Bug: a row with ``conf < pos_threshold`` gets ``class_id = -1`` but keeps
``conf`` instead of ``1 - conf`` (the chapter's "confidence of being
background"). Half of a two-line step, dropped.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_inverse
from reference.nms import _nms

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_flips_confidence_below_pos_threshold",
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
        class_id = probs[b, 1:].argmax(axis=0).astype(np.float64)
        boxes = _offset_inverse(anc, offs[b].reshape(-1, 4))
        keep = _nms(boxes, conf, float(nms_threshold))
        kept = np.zeros(num_anchors, dtype=bool)
        kept[keep] = True
        rest = np.flatnonzero(~kept)
        class_id[rest] = -1
        order = np.concatenate([keep, rest])
        rows = np.concatenate([class_id[order, None], conf[order, None], boxes[order]], axis=1)
        below = rows[:, 1] < pos_threshold
        rows[below, 0] = -1  # BUG: conf is not replaced by 1 - conf
        out[b] = rows
    return out
