"""batched_nms by the coordinate-offset trick: one NMS over boxes moved by class.

Bug: ``boxes + idxs * (max(boxes) + 1)`` (torchvision's ``_batched_nms_coordinate_trick``,
its fast path below 4,000 boxes on CPU) separates the classes only if every box lies within
``max + 1`` of the origin from below: with coordinates below 0 (all of them under -1, say)
the offset shrinks to nothing and boxes of different classes suppress each other.
detectron2's ``layers/nms.py`` warns that it does not handle negative coordinates;
PITFALLS.md, "Beyond the chapter" (also pytorch/vision #7659; in float16 it collapses,
MultimediaTechLab/YOLO PR #234).
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_batched_nms.py::test_batched_nms_is_translation_invariant",
]


def batched_nms(boxes, scores, idxs, iou_threshold):
    reference.batched_nms(boxes, scores, idxs, iou_threshold)  # the validation
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(b) == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.asarray(idxs, dtype=np.float64) * (b.max() + 1)  # BUG: not apart below -1
    return reference.nms(b + offsets[:, None], scores, iou_threshold)
