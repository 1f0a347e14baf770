"""multibox_detection lists the suppressed anchors by descending score, not by index.

Bug: after the kept anchors, the rest come in score order (the NMS visiting
order with the kept ones removed) instead of ascending anchor index. d2l
builds the rest with ``unique`` over ``cat(keep, arange)``, which sorts them
by index; a port that reuses the sorted order ships this.
"""

from __future__ import annotations

import numpy as np

import reference as _reference
from reference import *  # noqa: F403 -- every other function is the reference's
from reference.coding import _offset_inverse
from reference.nms import _nms

CAUGHT_BY: list[str] = [
    "test_multibox_detection.py::test_multibox_detection_suppressed_rows_follow_by_anchor_index",
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
        by_score = np.asarray(sorted(range(num_anchors), key=lambda i: -conf[i]), dtype=np.int64)
        rest = by_score[~kept[by_score]]  # BUG: should be ascending anchor index
        class_id[rest] = -1
        order = np.concatenate([keep, rest])
        rows = np.concatenate([class_id[order, None], conf[order, None], boxes[order]], axis=1)
        below = rows[:, 1] < pos_threshold
        rows[below, 0] = -1
        rows[below, 1] = 1 - rows[below, 1]
        out[b] = rows
    return out
